#include "support/repo.hpp"

#include "mlrepo/util/fs.hpp"
#include "mlrepo/util/process.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace mlrepo::test {

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "mlrepo-test-XXXXXX").string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data()))
    throw std::runtime_error("mkdtemp failed");
  path_ = fs::canonical(buf.data());
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::vector<std::string> Run::lines() const {
  std::vector<std::string> result;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);)
    result.push_back(line);
  return result;
}

nlohmann::json Run::json() const {
  INFO("stdout: " << out << "\nstderr: " << err);
  try {
    return nlohmann::json::parse(out);
  } catch (const std::exception& e) {
    FAIL("stdout is not JSON: " << e.what());
  }
  return {};
}

Run run_program(const std::vector<std::string>& argv, const fs::path& cwd, const Env& env) {
  util::ProcessSpec spec;
  spec.argv = argv;
  spec.cwd = cwd.string();
  // Tests must not inherit the CI they run in.
  for (const char* name : {"CI", "GITHUB_ACTIONS", "GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH",
                           "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_SHA", "GITHUB_REF",
                           "GITHUB_BASE_REF", "GITHUB_HEAD_REF", "GIT_DIR", "GIT_WORK_TREE"})
    spec.env[name] = std::nullopt;
  spec.env["NO_COLOR"] = "1";
  spec.env["GIT_CONFIG_NOSYSTEM"] = "1";
  spec.env["GIT_CONFIG_GLOBAL"] = "/dev/null";
  spec.env["GIT_AUTHOR_NAME"] = "Test";
  spec.env["GIT_AUTHOR_EMAIL"] = "test@example.com";
  spec.env["GIT_COMMITTER_NAME"] = "Test";
  spec.env["GIT_COMMITTER_EMAIL"] = "test@example.com";
  for (const auto& [k, v] : env)
    spec.env[k] = v;
  util::SpawnRunner runner;
  auto r = runner.run(spec);
  return Run{r.signal ? 128 + r.signal : r.exit_code, r.out, r.err};
}

GitRepo::GitRepo() {
  git({"init", "-q", "-b", "main"});
  git({"config", "commit.gpgsign", "false"});
}

GitRepo::GitRepo(const GitRepo& origin, const std::vector<std::string>& clone_args)
    : GitRepo(origin.path().string(), clone_args) {}

std::string file_url(const GitRepo& repo) { return "file://" + repo.path().string(); }

GitRepo::GitRepo(const std::string& url, const std::vector<std::string>& clone_args) {
  std::vector<std::string> argv{"git", "clone", "-q"};
  argv.insert(argv.end(), clone_args.begin(), clone_args.end());
  argv.push_back(url);
  argv.push_back(path().string());
  fs::remove(path());
  auto r = run_program(argv, fs::temp_directory_path());
  INFO(r.err);
  REQUIRE(r.code == 0);
}

std::string GitRepo::git(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{"git"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_program(argv, path());
  INFO("git " << util::shell_quote(args) << "\n" << r.err);
  REQUIRE(r.code == 0);
  return r.out;
}

void GitRepo::write(const std::string& rel, const std::string& content) const {
  fs::path p = file(rel);
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
}

void GitRepo::remove(const std::string& rel) const { fs::remove_all(file(rel)); }

std::string GitRepo::commit(const std::string& message) const {
  git({"add", "-A"});
  git({"commit", "-q", "--allow-empty", "-m", message});
  return head();
}

std::string GitRepo::head() const {
  auto out = git({"rev-parse", "HEAD"});
  return out.substr(0, out.find('\n'));
}

Run GitRepo::mlrepo(const std::vector<std::string>& args, const Env& env,
                    const std::string& cwd) const {
  std::vector<std::string> argv{MLREPO_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program(argv, cwd.empty() ? path() : path() / cwd, env);
}

std::string dockerfile_from(const std::string& image) { return "FROM " + image + "\n"; }

nlohmann::json graph_edges(const GitRepo& repo) {
  auto run = repo.mlrepo({"graph", "--format", "json"});
  INFO(run.err);
  REQUIRE(run.code == 0);
  return run.json()["edges"];
}

nlohmann::json graph_edge(const std::string& from, const std::string& to, const std::string& via) {
  return {{"from", from}, {"to", to}, {"via", via}};
}

Env GithubEvent::env(const std::string& name, const nlohmann::json& payload) const {
  auto file = dir_.path() / "event.json";
  util::write_file_atomic(file, payload.dump());
  return {{"GITHUB_ACTIONS", "true"}, {"CI", "true"}, {"GITHUB_EVENT_NAME", name},
          {"GITHUB_EVENT_PATH", file.string()}};
}

} // namespace mlrepo::test
