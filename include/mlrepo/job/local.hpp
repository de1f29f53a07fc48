#pragma once
// `mlrepo job run`: a project's job in the local engine, exactly as specified.
#include "mlrepo/build/build.hpp"
#include "mlrepo/job/spec.hpp"

#include <cstdint>
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

// Runs the job in the local engine exactly as specified: command and args,
// env, secrets from `env` (the variable named like each secret), resources,
// the timeout for the whole job, and retries. Throws before anything builds
// or runs when a secret is missing or the engine cannot give the resources.
RunReport run_job(const git::Repository& repo, const RunOptions& options, build::BuildStatus& status, Tools& tools);

} // namespace mlrepo::job
