#pragma once
// A project's `job:` spec as `job list` explains it and the local engine
// needs it (its next runs, where it runs, its resources in docker's terms,
// its missing secrets). The same spec is what generated CI schedules (ci/)
// and what Kubernetes manifests render (deploy/).
#include "mlrepo/changes/selection.hpp"
#include "mlrepo/config/config.hpp"
#include "mlrepo/workspace.hpp"
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
std::vector<std::string> missing_secrets(const config::JobSpec& spec, const context::RunContext& env);

// The `docker run` argv of one attempt. Secrets are passed by name only
// (`-e VARIABLE`): docker reads each value from its own environment, so no
// value is ever in argv. `args` (when set) replaces the spec's args.
// `volumes`: -v HOST:CONTAINER[:ro] (a pipeline step's artifacts).
std::vector<std::string> run_argv(const std::string& docker, const std::string& image, const config::JobSpec& spec,
                                  const std::optional<std::vector<std::string>>& args, const std::string& name,
                                  const std::vector<std::string>& volumes = {});

} // namespace mlrepo::job
