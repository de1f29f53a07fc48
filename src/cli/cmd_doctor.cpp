#include "app.hpp"
#include "mlrepo/tools.hpp"

#include "mlrepo/doctor/doctor.hpp"
#include "mlrepo/report/doctor.hpp"
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
      std::cout << report::doctor_text(checks);
      return static_cast<int>(doctor::exit_code(checks));
    };
  });
}

} // namespace mlrepo::cli
