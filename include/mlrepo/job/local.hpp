#pragma once
// `mlrepo job run`: a project's job in the local engine, exactly as specified.
#include "mlrepo/build/build.hpp"
#include "mlrepo/job/spec.hpp"

#include "mlrepo/util/process.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <string_view>
#include <optional>
#include <string>
#include <vector>

namespace mlrepo {
class Tools;
}

namespace mlrepo::job {

struct RunOptions {
  std::string project; // name or path
  std::string cwd;     // absolute
  bool pull = false;   // the registry's image for this content, by digest; nothing built
  std::optional<std::vector<std::string>> args;
  // Run a GPU job without its GPU (a smoke test on a laptop): the request is
  // dropped, and said; nothing else changes.
  bool no_gpu = false;
};

struct RunReport {
  std::string project;
  std::string image;  // the reference run (repository@sha256:... when pulled)
  std::string digest; // sha256:...: the registry's digest when pulled or pushed, else the image ID
  bool digest_is_image_id = false; // never pushed: only the engine's image ID is known
  int attempts = 0;
  int max_attempts = 1;
  int exit_code = 0; // of the last attempt
  bool timed_out = false;
  bool interrupted = false;
  double seconds = 0;
  std::int64_t timeout_seconds = 0; // the spec's, for messages
  bool ok() const { return exit_code == 0 && !timed_out && !interrupted; }
};

// One container run the way a scheduler runs it: every attempt a fresh
// container, up to spec.retries + 1 attempts, a deadline, Ctrl-C stopping the
// container. `job run` and each pipeline step run through this.
struct Attempts {
  std::string name;   // in messages: the project, or the pipeline step
  std::string where;  // the timeout's key and file, for messages: "job.timeout in train/mlrepo.yaml"
  std::string docker; // the engine's CLI
  std::string image;
  config::JobSpec spec; // command, args, env, secrets (by name), resources, timeout, retries
  std::optional<std::vector<std::string>> args; // replaces spec.args when set
  std::vector<std::string> volumes;             // -v HOST:CONTAINER[:ro]
  // Each secret's value, for docker's environment only (argv names it).
  std::map<std::string, std::optional<std::string>> secret_env;
  // A pipeline step's timeout is each attempt's; a job's covers them all.
  bool timeout_per_attempt = false;
  // Each line the container writes (stdout and stderr); unset: inherited.
  std::function<void(std::string_view)> on_line;
};

struct AttemptsResult {
  int attempts = 0;
  int exit_code = 0; // of the last attempt
  bool timed_out = false;
  bool interrupted = false;
  double seconds = 0;
  bool ok() const { return exit_code == 0 && !timed_out && !interrupted; }
};

AttemptsResult run_attempts(util::ProcessRunner& runner, const Attempts& attempts);

// Runs the job in the local engine exactly as specified: command and args,
// env, secrets from `env` (the variable named like each secret), resources,
// the timeout for the whole job, and retries. Throws before anything builds
// or runs when a secret is missing or the engine cannot give the resources.
RunReport run_job(const git::Repository& repo, const RunOptions& options, build::BuildStatus& status, Tools& tools);

} // namespace mlrepo::job
