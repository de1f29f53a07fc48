#include "mlrepo/tools.hpp"

#include "mlrepo/report/build_status.hpp"
#include "mlrepo/util/log.hpp"

namespace mlrepo {

Tools::Tools(context::RunContext run) : run_(std::move(run)) {}
Tools::~Tools() = default;

util::ProcessRunner& Tools::runner() {
  if (!runner_)
    runner_ = std::make_unique<util::SpawnRunner>();
  return *runner_;
}

registry::CredentialSource& Tools::credentials() {
  if (!credentials_)
    credentials_ = std::make_unique<registry::DockerConfigCredentials>(runner());
  return *credentials_;
}

docker::Engine& Tools::engine(const std::string& program) {
  auto& slot = engines_[program];
  if (!slot)
    slot = std::make_unique<docker::Engine>(runner(), program);
  return *slot;
}

registry::Client& Tools::registry(const registry::ClientOptions& options) {
  if (!registry_)
    registry_ = std::make_unique<registry::Client>(credentials(), options);
  return *registry_;
}

std::unique_ptr<build::BuildStatus> Tools::build_status(bool quiet, bool only_when_building) {
  report::BuildStatusOptions so;
  so.quiet = quiet;
  so.only_when_building = only_when_building;
  so.color = util::color_enabled();
  so.step_summary = run_.step_summary();
  return run_.github_actions() ? report::github_build_status(so) : report::text_build_status(so);
}

report::Reporter& Tools::reporter() {
  if (!reporter_)
    reporter_ = run_.github_actions() ? report::github_reporter() : report::text_reporter();
  return *reporter_;
}

} // namespace mlrepo
