#pragma once
// The command line: global options plus one register_* per subcommand. Each
// subcommand fills a plain options struct and calls the core.
#include "mlrepo/changes/selection.hpp"

#include <CLI/CLI.hpp>
#include <functional>
#include <map>
#include <vector>
#include <string>

namespace mlrepo {
class Tools;
}

namespace mlrepo::cli {

struct GlobalOptions {
  std::string repo_dir = ".";
  int verbose = 0;
  bool quiet = false;
  std::string color = "auto";
  // Everything after the first `--`, kept away from CLI11 (only `run` takes it).
  std::vector<std::string> passthrough;
  bool saw_double_dash = false;
};

// What a subcommand runs once parsing succeeded; returns the exit code.
using Action = std::function<int()>;

void register_list(CLI::App& app, const GlobalOptions& global, Tools& tools, Action& action);
void register_changed(CLI::App& app, const GlobalOptions& global, Tools& tools, Action& action);
void register_graph(CLI::App& app, const GlobalOptions& global, Tools& tools, Action& action);
void register_build(CLI::App& app, const GlobalOptions& global, Tools& tools, Action& action);
void register_ci(CLI::App& app, const GlobalOptions& global, Tools& tools, Action& action);
void register_new(CLI::App& app, const GlobalOptions& global, Tools& tools, Action& action);
void register_test(CLI::App& app, const GlobalOptions& global, Tools& tools, Action& action);
void register_run(CLI::App& app, const GlobalOptions& global, Tools& tools, Action& action);
void register_doctor(CLI::App& app, const GlobalOptions& global, Tools& tools, Action& action);
void register_promote(CLI::App& app, const GlobalOptions& global, Tools& tools, Action& action);
void register_release(CLI::App& app, const GlobalOptions& global, Tools& tools, Action& action);
void register_job(CLI::App& app, const GlobalOptions& global, Tools& tools, Action& action);
void register_prune(CLI::App& app, const GlobalOptions& global, Tools& tools, Action& action);
void register_pipeline(CLI::App& app, const GlobalOptions& global, Tools& tools, Action& action);
// `mlrepo help [COMMAND]`.
void register_help(CLI::App& app, Action& action);

int run(int argc, char** argv);

// KEY=VALUE arguments of --build-arg; UsageError for a malformed one.
std::map<std::string, std::string> parse_build_args(const std::vector<std::string>& raw);

// The --base/--head/--[no-]uncommitted flags of `changed`, shared with `build --changed`.
void add_selection_options(CLI::App& cmd, changes::SelectionOptions& selection);

} // namespace mlrepo::cli
