#pragma once
// Running a project's container locally the way CI does: `mlrepo test`
// (its test and lint commands in a fresh container) and `mlrepo run`.
#include "mlrepo/build/build.hpp"
#include "mlrepo/util/process.hpp"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mlrepo {
class Tools;
}

namespace mlrepo::run {

// The chosen projects' images: built if needed (with what they depend on),
// or with `pull` the registry's under their content tags, pulled by digest
// (nothing is built: CI runs exactly what it pushed). `needs_image` leaves
// out projects with nothing to run.
struct Images {
  std::unique_ptr<View> view;                // the work tree they come from
  std::map<std::string, std::string> built;  // chosen project -> its image reference
  std::vector<std::string> not_built;
  // With --pull: why each image could not be had, already said on stderr
  // unless the command reports it itself (job run: one project, one error).
  std::map<std::string, std::string> why_not;
};
Images prepare_images(const git::Repository& repo, const build::BuildOptions& options, bool pull,
                      build::BuildStatus& status, Tools& tools,
                      const std::function<bool(const project::Project&)>& needs_image = {});

enum class Only { Both, Lint, Test };

struct TestOptions {
  build::BuildOptions build; // which projects, and how to build them
  Only only = Only::Both;
  // Test the image the registry holds under the content tag, pulled by its
  // digest, instead of building: CI tests exactly what it pushed.
  bool pull = false;
};

struct TestOutcome {
  std::vector<std::string> passed;
  std::vector<std::string> failed;     // tests (or lint) failed
  std::vector<std::string> not_built;  // the image could not be built
  std::vector<std::string> no_command; // nothing to run
  std::map<std::string, std::string> tested; // project -> the image reference its tests ran in
};

TestOutcome run_tests(const git::Repository& repo, TestOptions options, build::BuildStatus& status, Tools& tools);

struct RunOptions {
  std::string project;             // name or path
  std::string cwd;                 // absolute
  std::vector<std::string> args;   // the command; empty: run.command, else the image's
  std::vector<std::string> env;    // KEY=VALUE overrides
  std::vector<std::string> volumes; // HOST:CONTAINER[:ro], HOST relative to cwd
  bool create_missing = false;      // create missing host directories instead of refusing
  bool build = true;
  std::map<std::string, std::string> build_args;
};

// The `docker run` argv (without running it), for tests and --dry-run.
// `name`: the container's name, by which an interrupt stops it.
std::vector<std::string> run_argv(const std::string& docker, const std::string& image,
                                  const config::RunSettings& settings, const RunOptions& options,
                                  const std::string& workdir, bool tty, const std::string& name = "");

// Builds if needed, then runs the container in the foreground; returns its exit code.
int run_project(const git::Repository& repo, const RunOptions& options, build::BuildStatus& status, Tools& tools);

// The argv that runs a configured command: one string goes to /bin/sh -c.
std::vector<std::string> command_argv(const std::vector<std::string>& command);

} // namespace mlrepo::run
