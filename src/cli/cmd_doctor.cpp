#include "app.hpp"
#include "mlrepo/tools.hpp"

#include "mlrepo/doctor/doctor.hpp"
#include "mlrepo/util/error.hpp"

#include <iostream>

namespace mlrepo::cli {

void register_doctor(CLI::App& app, const GlobalOptions& global, Tools& tools, Action& action) {
  auto* cmd = app.add_subcommand("doctor", "Check git, docker, registry access and config, and say what to fix");
  cmd->footer("Exit 0 when nothing failed (warnings allowed), 2 when a config file is invalid, 3 when\n"
              "the machine is not ready (no repository, no engine, no registry access).");
  cmd->callback([&global, &tools, &action] {
    action = [&global, &tools] {
      auto checks = doctor::run_checks(global.repo_dir, tools);
      bool bad_input = false, failed = false;
      for (const auto& c : checks) {
        const char* tag = c.level == doctor::Level::Ok     ? "ok  "
                          : c.level == doctor::Level::Warn ? "warn"
                          : c.level == doctor::Level::Skip ? "skip"
                                                           : "FAIL";
        std::cout << tag << "  " << c.area << ": " << c.message << "\n";
        if (!c.fix.empty())
          std::cout << "      fix: " << c.fix << "\n";
        if (c.level == doctor::Level::Fail) {
          failed = true;
          bad_input = bad_input || c.bad_input;
        }
      }
      if (!failed)
        return 0;
      return static_cast<int>(bad_input ? ExitCode::BadInput : ExitCode::Environment);
    };
  });
}

} // namespace mlrepo::cli
