#pragma once
// What every command shares, built once by the CLI before the command's
// action runs and handed down to the core: the run context (which CI
// provider, which event), the process runner, registry credentials, how build
// progress is shown (GitHub's log groups in Actions, lines on a terminal:
// chosen here once, for every command that builds) and the error reporter.
// Members that cost something are made on first use, so `list` and `changed`
// start as fast as before.
#include "mlrepo/build/executor.hpp"
#include "mlrepo/context/run_context.hpp"
#include "mlrepo/docker/engine.hpp"
#include "mlrepo/registry/client.hpp"
#include "mlrepo/registry/credentials.hpp"
#include "mlrepo/report/reporter.hpp"
#include "mlrepo/util/process.hpp"

#include <map>
#include <memory>
#include <string>

namespace mlrepo {

class Tools {
public:
  explicit Tools(context::RunContext run);
  ~Tools();
  Tools(const Tools&) = delete;
  Tools& operator=(const Tools&) = delete;

  const context::RunContext& run() const { return run_; }
  util::ProcessRunner& runner();
  registry::CredentialSource& credentials();
  // The container engine the workspace names (`docker:`, "docker" by
  // default), made on first use: the builder it offers is asked once per
  // process, however many steps (build, then run) use it.
  docker::Engine& engine(const std::string& program);
  // The registry client, made on first use with that use's options (retries,
  // time-outs, what a retry says): a process runs one command. Thread-safe.
  registry::Client& registry(const registry::ClientOptions& options = {});
  // For a command that builds: `build` shows everything; run, test and job
  // run (`only_when_building`) say nothing of an image that is current.
  std::unique_ptr<build::BuildStatus> build_status(bool quiet, bool only_when_building);
  report::Reporter& reporter();

private:
  context::RunContext run_;
  std::unique_ptr<util::ProcessRunner> runner_;
  std::unique_ptr<registry::CredentialSource> credentials_;
  std::map<std::string, std::unique_ptr<docker::Engine>> engines_;
  std::unique_ptr<registry::Client> registry_;
  std::unique_ptr<report::Reporter> reporter_;
};

} // namespace mlrepo
