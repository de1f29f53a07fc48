// End-to-end tests of `mlrepo build` against the real Docker engine.
#include "support/docker.hpp"

#include "mlrepo/util/fs.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <thread>

using namespace mlrepo::test;
using Catch::Contains;
using nlohmann::json;
using Lines = std::vector<std::string>;

namespace {

// base; app FROM base (under a tag never built); tool standalone.
struct BuildRepo {
  GitRepo repo;
  ImageScope images;
  std::string p; // image prefix
  explicit BuildRepo(const std::string& extra_ws = "") : p(images.prefix()) {
    repo.write("mlrepo.yaml", "image_prefix: " + p + "\n" + extra_ws);
    repo.write("base/Dockerfile", "FROM " + busybox_image() + "\nRUN echo base > /base.txt\n");
    repo.write("app/Dockerfile", "FROM " + p + "base:1.0\nRUN cat /base.txt > /app.txt\n");
    repo.write("tool/Dockerfile", "FROM " + busybox_image() + "\nCOPY . /tool\n");
    repo.commit("initial");
  }
  Run build(std::vector<std::string> args, const Env& env = {}) const {
    args.insert(args.begin(), "build");
    return repo.mlrepo(args, env);
  }
  json report(std::vector<std::string> args, int expected = 0, const Env& env = {}) const {
    auto file = repo.path() / ".git" / "report.json";
    args.push_back("--json-report");
    args.push_back(file.string());
    auto run = build(args, env);
    INFO(run.err);
    CHECK(run.code == expected);
    return json::parse(*mlrepo::util::read_file(file));
  }
};

std::map<std::string, std::string> statuses(const json& report) {
  std::map<std::string, std::string> out;
  for (const auto& r : report["results"])
    out[r["name"]] = r["status"];
  return out;
}

std::string run_in(const std::string& image, const std::string& cmd) {
  return docker({"run", "--rm", image, "sh", "-c", cmd});
}

} // namespace

TEST_CASE("build: dependencies first, skip and re-tag without rebuilding", "[build][docker]") {
  BuildRepo b;
  std::string sha = b.repo.head();
  auto rep = b.report({"--all"});
  CHECK(statuses(rep) == std::map<std::string, std::string>{{"base", "built"}, {"app", "built"}, {"tool", "built"}});
  // The plan lists base before app, and app's FROM resolved to the base just built.
  CHECK(rep["results"][0]["name"] == "base");
  CHECK(run_in(b.p + "app:" + sha, "cat /app.txt") == "base\n");
  auto images = rep["results"][1]["images"];
  REQUIRE(images.size() == 2);
  CHECK_THAT(images[0].get<std::string>(), Contains(b.p + "app:content-"));
  CHECK(images[1] == b.p + "app:" + sha);
  CHECK(mlrepo::util::read_file(rep["results"][1]["log"].get<std::string>()).has_value());
  auto labels = docker({"image", "inspect", "--format", "{{json .Config.Labels}}", b.p + "app:" + sha});
  CHECK_THAT(labels, Contains("\"org.opencontainers.image.revision\":\"" + sha + "\"") &&
                         Contains("org.opencontainers.image.created") &&
                         Contains("\"org.opencontainers.image.title\":\"app\"") &&
                         Contains("dev.mlrepo.content"));

  // Nothing changed: nothing is rebuilt.
  rep = b.report({"--all"});
  CHECK(statuses(rep) == std::map<std::string, std::string>{{"base", "skipped"}, {"app", "skipped"}, {"tool", "skipped"}});

  // A commit outside the projects: same content, new commit tag, no build.
  b.repo.write("README.md", "docs\n");
  std::string sha2 = b.repo.commit();
  rep = b.report({"--all"});
  CHECK(statuses(rep)["app"] == "skipped");
  CHECK(image_exists(b.p + "app:" + sha2));
  CHECK(rep["results"][1]["images"][0] == images[0]); // same content tag

  // A change in base rebuilds base and app, not tool.
  b.repo.write("base/extra.txt", "x");
  b.repo.commit();
  rep = b.report({"--all"});
  CHECK(statuses(rep) == std::map<std::string, std::string>{{"base", "built"}, {"app", "built"}, {"tool", "skipped"}});

  SECTION("--force rebuilds") {
    rep = b.report({"tool", "--force"});
    CHECK(statuses(rep) == std::map<std::string, std::string>{{"tool", "built"}});
  }
}

TEST_CASE("build: uncommitted work never gets a clean commit tag", "[build][docker]") {
  BuildRepo b;
  std::string sha = b.repo.head();
  b.repo.write("tool/new.txt", "work in progress");
  auto rep = b.report({"tool"});
  auto images = rep["results"][0]["images"];
  CHECK(images[1] == b.p + "tool:" + sha + "-dirty");
  CHECK_FALSE(image_exists(b.p + "tool:" + sha));
  CHECK(run_in(b.p + "tool:" + sha + "-dirty", "cat /tool/new.txt") == "work in progress");
  // The content tag covers the work tree: editing again means a new image.
  b.repo.write("tool/new.txt", "more");
  auto rep2 = b.report({"tool"});
  CHECK(rep2["results"][0]["status"] == "built");
  CHECK(rep2["results"][0]["images"][0] != images[0]);
}

TEST_CASE("build: selection by name, path, directory and --changed", "[build][docker]") {
  BuildRepo b;
  auto dry = [&](std::vector<std::string> args, const std::string& cwd = "") {
    args.insert(args.begin(), {"build", "--dry-run"});
    auto run = b.repo.mlrepo(args, {}, cwd);
    INFO(run.err);
    REQUIRE(run.code == 0);
    return run.lines();
  };
  // A dependency is built (or found up to date) first.
  auto lines = dry({"app"});
  REQUIRE(lines.size() == 3);
  CHECK_THAT(lines[0], Contains("docker build") && Contains(b.p + "base:content-"));
  CHECK(lines[1].rfind("docker tag " + b.p + "base:content-", 0) == 0);
  CHECK_THAT(lines[1], Contains(b.p + "base:1.0"));
  CHECK_THAT(lines[2], Contains("docker build") && Contains("/app/Dockerfile"));
  CHECK(dry({"./tool"}).size() == 1);
  CHECK(dry({}, "tool").size() == 1);
  CHECK(dry({"--changed"}).empty());
  b.repo.write("tool/x", "1");
  CHECK(dry({"--changed"}).size() == 1);
  auto none = b.repo.mlrepo({"build"});
  CHECK(none.code == 2);
  CHECK_THAT(none.err, Contains("--changed"));
  auto unknown = b.build({"nope"});
  CHECK(unknown.code == 2);
  CHECK_THAT(unknown.err, Contains("'nope'"));
}

TEST_CASE("build: failures block dependents, --keep-going builds the rest", "[build][docker]") {
  BuildRepo b;
  b.repo.write("base/Dockerfile", "FROM " + busybox_image() + "\nRUN echo compiling && exit 3\n");
  b.repo.commit();
  SECTION("without --keep-going nothing new starts") {
    auto run = b.build({"--all", "-j", "1"});
    CHECK(run.code == 1);
    CHECK_THAT(run.err, Contains("last lines of") && Contains("compiling"));
    auto rep = b.report({"--all", "-j", "1"}, 1);
    CHECK(statuses(rep) == std::map<std::string, std::string>{{"base", "failed"}, {"app", "blocked"}, {"tool", "cancelled"}});
  }
  SECTION("with --keep-going") {
    auto rep = b.report({"--all", "-j", "1", "--keep-going"}, 1);
    CHECK(statuses(rep) == std::map<std::string, std::string>{{"base", "failed"}, {"app", "blocked"}, {"tool", "built"}});
  }
}

TEST_CASE("build: independent projects build in parallel", "[build][docker]") {
  ImageScope images;
  GitRepo r;
  r.write("mlrepo.yaml", "image_prefix: " + images.prefix() + "\n");
  // NONCE changes every run, so no layer comes from docker's cache.
  for (auto name : {"a", "b"})
    r.write(std::string(name) + "/Dockerfile",
            "FROM " + busybox_image() + "\nARG NONCE\nRUN echo " + name + " $NONCE && sleep 4\n");
  r.commit();
  int nonce = 0;
  auto timed = [&](const char* jobs) {
    auto start = std::chrono::steady_clock::now();
    auto run = r.mlrepo({"build", "a", "b", "-j", jobs, "--build-arg", "NONCE=" + images.prefix() + std::to_string(++nonce)});
    INFO(run.err);
    REQUIRE(run.code == 0);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  double serial = timed("1");
  double parallel = timed("2");
  INFO("serial " << serial << "s, parallel " << parallel << "s");
  CHECK(serial > 8.0); // both sleeps really ran, one after the other
  CHECK(parallel < serial * 0.8);
}

TEST_CASE("build: build args with shell metacharacters are passed literally", "[build][docker]") {
  ImageScope images;
  GitRepo r;
  const std::string nasty = "$(touch /tmp/mlrepo-pwned) `id` 'q' \"d\" | & ; * \\n";
  r.write("mlrepo.yaml", "image_prefix: " + images.prefix() + "\n");
  r.write("a/Dockerfile", "FROM " + busybox_image() + "\nARG MSG\nRUN printf '%s' \"$MSG\" > /msg\n");
  r.write("a/mlrepo.yaml", "build_args:\n  MSG: " + json(nasty).dump() + "\n");
  std::string sha = r.commit();
  auto dry = r.mlrepo({"build", "a", "--dry-run"});
  REQUIRE(dry.code == 0);
  // The printed command, run by a shell, passes the same argument.
  auto echoed = run_program({"sh", "-c", "set -- " + dry.lines().at(0) + "; for a; do case \"$a\" in MSG=*) printf %s \"$a\";; esac; done"}, r.path());
  CHECK(echoed.out == "MSG=" + nasty);
  auto run = r.mlrepo({"build", "a"});
  INFO(run.err);
  REQUIRE(run.code == 0);
  CHECK(run_in(images.prefix() + "a:" + sha, "cat /msg") == nasty);
  CHECK_FALSE(fs::exists("/tmp/mlrepo-pwned"));
}

TEST_CASE("build: an unreachable engine is exit 3 before any build", "[build][docker]") {
  BuildRepo b;
  auto run = b.build({"--all"}, {{"DOCKER_HOST", "unix:///nonexistent/docker.sock"}});
  CHECK(run.code == 3);
  CHECK_THAT(run.err, Contains("DOCKER_HOST=unix:///nonexistent/docker.sock"));
  CHECK_THAT(run.err, Contains("not reachable"));
  b.repo.write("mlrepo.yaml", "image_prefix: " + b.p + "\ndocker: no-such-docker\n");
  run = b.build({"--all"});
  CHECK(run.code == 3);
  CHECK_THAT(run.err, Contains("no-such-docker"));
}

TEST_CASE("build: GitHub Actions groups and step summary", "[build][docker]") {
  BuildRepo b;
  TempDir tmp;
  auto summary = tmp.path() / "summary.md";
  auto run = b.build({"tool"}, {{"GITHUB_ACTIONS", "true"}, {"GITHUB_STEP_SUMMARY", summary.string()}});
  REQUIRE(run.code == 0);
  CHECK_THAT(run.err, Contains("::group::tool: built") && Contains("::endgroup::"));
  CHECK_THAT(*mlrepo::util::read_file(summary), Contains("| tool | built |"));
}

TEST_CASE("build: SIGINT stops every child, reports cancelled, exits 130", "[build][docker]") {
  ImageScope images;
  GitRepo r;
  r.write("mlrepo.yaml", "image_prefix: " + images.prefix() + "\n");
  r.write("slow/Dockerfile", "FROM " + busybox_image() + "\nRUN echo started-slow-build && sleep 120\n");
  r.commit();
  TempDir tmp;
  auto out = tmp.path() / "out.txt";
  auto report = tmp.path() / "report.json";
  Background mlrepo({MLREPO_BIN, "build", "slow", "--json-report", report.string()}, r.path(),
                    {{"CI", std::nullopt}, {"GITHUB_ACTIONS", std::nullopt}}, out);
  for (int i = 0; i < 600; ++i) {
    if (mlrepo::util::read_file(out).value_or("").find("started-slow-build") != std::string::npos)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE_THAT(mlrepo::util::read_file(out).value_or(""), Contains("started-slow-build"));
  mlrepo.signal(SIGINT);
  CHECK(mlrepo.wait(60) == 130);
  // No docker client of ours is left running.
  auto ps = run_program({"ps", "-eo", "args"}, tmp.path());
  CHECK_THAT(ps.out, !Contains(images.prefix() + "slow"));
  auto rep = json::parse(*mlrepo::util::read_file(report));
  CHECK(rep["results"][0]["status"] == "cancelled");
  // Reported as what happened, not as a failed build ("exit code 143").
  CHECK(rep["results"][0]["error"] == "interrupted");
  CHECK_THAT(mlrepo::util::read_file(out).value_or(""), !Contains("exit code 143"));
  // And the build container stopped with it.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  CHECK_THAT(docker({"ps", "--format", "{{.Command}}"}), !Contains("started-slow-build"));
}

TEST_CASE("build: a no-op build says once per project where the image was, and one summary line", "[build][docker]") {
  BuildRepo b;
  REQUIRE(b.build({"--all"}).code == 0);
  auto again = b.build({"--all"});
  INFO(again.err);
  REQUIRE(again.code == 0);
  for (auto name : {"base", "app", "tool"})
    CHECK_THAT(again.err, Contains(std::string("==> ") + name + " up to date (found locally,"));
  CHECK_THAT(again.err, Contains("3 projects up to date, nothing built") && !Contains("status        time") &&
                            !Contains(": up to date\n"));
  // The classic builder's deprecation banner: at most one note, not per project.
  if (path_docker_is_classic_only()) {
    b.repo.write("base/x", "1\n");
    b.repo.write("tool/x", "1\n");
    b.repo.commit();
    auto built = b.build({"--all"});
    CHECK(built.code == 0);
    size_t banners = 0;
    for (size_t at = 0; (at = built.err.find("legacy builder is deprecated", at)) != std::string::npos; ++at)
      ++banners;
    CHECK(banners == 0);
    size_t notes = 0;
    for (size_t at = 0; (at = built.err.find("classic builder is in use", at)) != std::string::npos; ++at)
      ++notes;
    CHECK(notes <= 1);
  }
}

TEST_CASE("build: a failure's tail carries no terminal colour codes when stderr is no terminal", "[build][docker]") {
  BuildRepo b;
  b.repo.write("tool/Dockerfile", "FROM " + busybox_image() + "\nRUN printf '\\033[31mcoloured failure\\033[0m\\n'; exit 3\n");
  b.repo.commit();
  auto run = b.build({"tool"});
  CHECK(run.code == 1);
  CHECK_THAT(run.err, Contains("coloured failure") && !Contains("\033[31m"));
}
