#include "mlrepo/context/run_context.hpp"

#include "mlrepo/context/providers.hpp"

#include "mlrepo/util/error.hpp"

#include <cstdlib>
#include <iterator>

namespace mlrepo::context {

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v)
      return std::nullopt;
    return std::string(v);
  };
}

RunContext::RunContext() : env_([](const std::string&) { return std::optional<std::string>(); }),
                           provider_(&local_provider()) {}

RunContext RunContext::detect(EnvLookup env) {
  RunContext run;
  run.env_ = std::move(env);
  for (const auto& p : providers())
    if (p.detect(run.env_)) {
      run.provider_ = &p;
      break;
    }
  run.provider_->read(run, run.env_);
  auto ci = run.env_("CI");
  bool ci_set = ci && !ci->empty() && *ci != "0" && *ci != "false";
  run.ci_ = ci_set || run.provider_ != &local_provider();
  return run;
}

std::string_view RunContext::provider() const { return provider_->name; }

std::string_view RunContext::ref_variable() const { return provider_->ref_variable; }

bool RunContext::secrets_withheld() const {
  try {
    return provider_->secrets_withheld(env_, change_hint());
  } catch (const Error&) {
    return false; // an unreadable payload is reported where the range is chosen
  }
}

const ChangeHint& RunContext::change_hint() const {
  if (!*hint_)
    *hint_ = provider_->change(env_);
  return **hint_;
}

} // namespace mlrepo::context
