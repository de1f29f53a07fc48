#pragma once
// `mlrepo pipeline run`: a pipeline's steps in the local engine, each as a
// fresh container run exactly as `job run` runs a job (env, secrets by name,
// resources, per-attempt timeout, retries, Ctrl-C), dependencies first,
// independent steps side by side, with a step cache.
#include "mlrepo/build/build.hpp"
#include "mlrepo/pipeline/plan.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlrepo {
class Tools;
}

namespace mlrepo::pipeline {

struct RunOptions {
  std::string name;
  std::map<std::string, std::string> params; // --param NAME=VALUE
  bool pull = false; // the registry's images by digest, as CI and the cluster run them; nothing built
  int jobs = 2;      // steps side by side
  std::optional<std::string> from; // this step and everything downstream run; the rest from cache
  std::vector<std::string> only;   // only these steps run, their inputs from cache
  bool no_cache = false;           // every step runs
  std::string cwd;                 // absolute
  // Each line a step's container writes; unset: to stderr, prefixed with the step.
  std::function<void(const std::string& step, std::string_view line)> on_output;
};

enum class StepStatus { Succeeded, Failed, Blocked, Cached, Skipped };
const char* status_name(StepStatus status);

struct StepResult {
  std::string name, project;
  StepStatus status = StepStatus::Skipped;
  int attempts = 0;
  std::optional<int> exit_code; // of the last attempt; none when nothing ran
  bool timed_out = false;
  double seconds = 0;
  std::string digest;          // the image's: the registry's, else the local image ID
  std::string outputs_dir;     // on the host: its outputs, one directory each
  std::string blocked_by;      // the failed step upstream, when blocked
};

struct RunReport {
  std::string pipeline;
  std::string run_dir; // this run's directory on the host
  bool interrupted = false;
  std::vector<StepResult> steps; // in plan order
  bool failed() const;
  const char* status() const; // succeeded, failed, interrupted
};

// Where runs and the step cache live: in the repository's git directory,
// outside the work tree's files (`mlrepo prune --pipeline-cache` empties the cache).
std::string pipelines_dir(const git::Repository& repo);

RunReport run_pipeline(const git::Repository& repo, const RunOptions& options, build::BuildStatus& status,
                       Tools& tools);

} // namespace mlrepo::pipeline
