#pragma once
// A project's `job:` spec, as the local engine runs it and as `job list`
// explains it. The same spec is what generated CI schedules (ci/) and what
// Kubernetes manifests render (deploy/).
#include "mlrepo/build/build.hpp"
#include "mlrepo/config/config.hpp"
#include "mlrepo/docker/engine.hpp"
#include "mlrepo/util/timezone.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mlrepo::job {

struct ScheduledRun {
  util::UnixSeconds at = 0;
  int utc_offset = 0; // of the job's time zone at that instant
  std::string abbreviation;
};

struct JobEntry {
  std::string name, path;
  config::JobSpec spec;
  std::vector<ScheduledRun> next; // of all its crons, earliest first
  config::JobTarget runs_on;      // job.runs_on, its default resolved
  std::string runs_on_detail;     // "GitHub Actions (ubuntu-latest)", "Kubernetes, namespace ml"
};

// Where a job runs on its schedule, in words (for job list and doctor).
std::string describe_runs_on(const std::string& name, const config::JobSpec& spec, const config::WorkspaceConfig& ws);

// Every project with a job, by path, with its next `count` runs after `now`.
std::vector<JobEntry> list_jobs(const View& view, util::UnixSeconds now, int count = 3);
std::vector<ScheduledRun> next_runs(const config::JobSpec& spec, util::UnixSeconds now, int count);

// "2", "0.5": a CPU quantity as docker's --cpus reads it.
std::string docker_cpus(const std::string& quantity);
// Bytes, as docker's --memory reads them.
std::string docker_memory(const std::string& quantity);

// What the local engine cannot give the job (a GPU, more memory or CPUs
// than it has), one sentence each; empty when it can run.
std::vector<std::string> resource_problems(const config::JobSpec& spec, const docker::EngineInfo& engine);

// The secrets (names, as in the spec's values) that `env` lacks or has empty.
std::vector<std::string> missing_secrets(const config::JobSpec& spec, const changes::EnvLookup& env);

// The `docker run` argv of one attempt. Secrets are passed by name only
// (`-e VARIABLE`): docker reads each value from its own environment, so no
// value is ever in argv. `args` (when set) replaces the spec's args.
std::vector<std::string> run_argv(const std::string& docker, const std::string& image, const config::JobSpec& spec,
                                  const std::optional<std::vector<std::string>>& args, const std::string& name);

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

// Runs the job in the local engine exactly as specified: command and args,
// env, secrets from `env` (the variable named like each secret), resources,
// the timeout for the whole job, and retries. Throws before anything builds
// or runs when a secret is missing or the engine cannot give the resources.
RunReport run_job(const git::Repository& repo, const RunOptions& options, build::BuildStatus& status,
                  const changes::EnvLookup& env);

} // namespace mlrepo::job
