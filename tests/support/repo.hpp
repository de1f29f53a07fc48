#pragma once
// Helpers for end-to-end tests: real git repositories in temporary
// directories, and the built mlrepo binary run against them.
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace mlrepo::test {

namespace fs = std::filesystem;

class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

private:
  fs::path path_;
};

struct Run {
  int code = -1;
  std::string out;
  std::string err;
  std::vector<std::string> lines() const; // stdout lines
  nlohmann::json json() const;
};

using Env = std::map<std::string, std::optional<std::string>>;

// Runs a program with CI/GitHub variables removed unless `env` sets them.
Run run_program(const std::vector<std::string>& argv, const fs::path& cwd, const Env& env = {});

class GitRepo {
public:
  // A new repository with one branch, main, and no commits.
  GitRepo();
  // A clone of `origin` (any git clone arguments may follow).
  GitRepo(const GitRepo& origin, const std::vector<std::string>& clone_args);
  // A clone of a URL, e.g. file_url(origin) for shallow and partial clones.
  GitRepo(const std::string& url, const std::vector<std::string>& clone_args);

  const fs::path& path() const { return dir_.path(); }
  fs::path file(const std::string& rel) const { return path() / rel; }

  // Runs git in the repository; a failing command fails the test.
  std::string git(const std::vector<std::string>& args) const;
  void write(const std::string& rel, const std::string& content) const;
  void remove(const std::string& rel) const;
  // Stages everything and commits; returns the new commit's SHA.
  std::string commit(const std::string& message = "change") const;
  std::string head() const;

  // Runs the built mlrepo in the repository (or `cwd` below it).
  Run mlrepo(const std::vector<std::string>& args, const Env& env = {},
             const std::string& cwd = "") const;

private:
  TempDir dir_;
};

// `mlrepo graph --format json`'s edges (the run must succeed), and one edge.
nlohmann::json graph_edges(const GitRepo& repo);
nlohmann::json graph_edge(const std::string& from, const std::string& to, const std::string& via = "FROM");

// A GitHub Actions event for mlrepo's environment: the variables a runner
// sets, with the payload in a file of its own.
class GithubEvent {
public:
  Env env(const std::string& name, const nlohmann::json& payload) const;

private:
  TempDir dir_;
};

// The file:// URL of a repository: clones through it honour --depth and --filter.
std::string file_url(const GitRepo& repo);

// A Dockerfile FROM the given image.
std::string dockerfile_from(const std::string& image);

} // namespace mlrepo::test
