#include "app.hpp"
#include "common.hpp"
#include "mlrepo/tools.hpp"

#include "mlrepo/ci/build_jobs.hpp"
#include "mlrepo/pipeline/list.hpp"
#include "mlrepo/release/promote.hpp"
#include "mlrepo/release/tags.hpp"

#include "mlrepo/report/output.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"
#include "mlrepo/workspace.hpp"

#include <iostream>
#include <spdlog/spdlog.h>

namespace mlrepo::cli {

struct ChangedOptions {
  changes::SelectionOptions selection;
  std::string format = "text";
  bool json = false;
  bool github_output = false;
  bool exit_code = false;
};

void add_selection_options(CLI::App& cmd, changes::SelectionOptions& sel) {
  cmd.add_option("--base", sel.base,
                 "Compare with the merge-base of this revision and the head (default: the "
                 "GitHub event, else the default branch)")
      ->type_name("REV");
  cmd.add_option("--head", sel.head, "The revision whose changes count (default HEAD)")
      ->type_name("REV");
  cmd.add_flag_callback("--uncommitted", [&sel] { sel.uncommitted = true; },
                        "Count staged, unstaged and untracked work (default outside CI)");
  cmd.add_flag_callback("--no-uncommitted", [&sel] { sel.uncommitted = false; },
                        "Count commits only (default in CI)");
  cmd.add_flag("--all-if-base-missing", sel.all_if_base_missing,
               "When the base is missing from a shallow clone, count every project as changed "
               "instead of failing with exit 3");
}

void register_changed(CLI::App& app, const GlobalOptions& global, Tools& tools, Action& action) {
  auto opts = std::make_shared<ChangedOptions>();
  auto* cmd = app.add_subcommand("changed", "Print the projects a change touches, with reasons");
  cmd->footer(
      "What changed on the head since its merge-base with the base (three-dot, like\n"
      "'git diff base...head'). A project changes when a file in it changes, when a\n"
      "project or path it depends on changes, or when a global trigger matches.\n"
      "Without --base: inside GitHub Actions the event decides (push: the pushed range;\n"
      "pull_request: the target branch; workflow_dispatch/schedule: everything);\n"
      "elsewhere the merge-base with the default branch plus uncommitted work.\n"
      "Examples:\n"
      "  mlrepo changed                       # what my branch and work tree touch\n"
      "  mlrepo changed --base origin/main --json\n"
      "  mlrepo changed --format github-matrix --github-output   # in a workflow");
  add_selection_options(*cmd, opts->selection);
  cmd->add_flag("--json", opts->json, "Same as --format json");
  cmd->add_option("--format", opts->format, "text (names), json (with reasons), github-matrix, paths")
      ->check(CLI::IsMember({"text", "json", "github-matrix", "paths"}))
      ->type_name("FORMAT");
  cmd->add_flag("--github-output", opts->github_output,
                "Also append projects=, matrix=, any_changed=, pipelines= (the pipelines a change touched) "
                "and the build jobs' matrices (build_DEPTH_SHARD=) to $GITHUB_OUTPUT");
  cmd->add_flag("--exit-code", opts->exit_code, "Exit 1 when any project changed or was removed");
  cmd->callback([&global, opts, &tools, &action] {
    action = [&global, opts, &tools] {
      if (opts->json && opts->format != "text" && opts->format != "json")
        throw UsageError("--json and --format " + opts->format + " contradict each other",
                         "use one of them");
      std::optional<std::string> output_file;
      if (opts->github_output) {
        const auto& file = tools.run().outputs();
        if (!file)
          throw UsageError("--github-output needs $GITHUB_OUTPUT, which is not set",
                           "use it inside a GitHub Actions step, or set GITHUB_OUTPUT to a file");
        output_file = *file;
      }
      auto repo = open_repository(global);
      // Deliberately never freed: the process exits right after, and tearing
      // down tens of thousands of strings is a measurable part of a run.
      auto& result = *new ChangesResult(find_changes(repo, opts->selection, tools.run()));
      const auto& graph = result.view.graph;
      std::string format = opts->json ? "json" : opts->format;
      if (format == "json") {
        auto releases = release::latest_releases(repo);
        std::cout << report::changed_json(graph, result.set, &releases);
      }
      else if (format == "github-matrix")
        std::cout << report::github_matrix(graph, result.set) << "\n";
      else if (format == "paths")
        std::cout << report::changed_paths(graph, result.set);
      else
        std::cout << report::changed_text(graph, result.set);
      std::cout.flush();
      if (output_file)
        // pipelines= only where there are pipelines: what CI's deploy job reads.
        util::append_file(*output_file,
                          report::github_output(graph, result.set) +
                              (result.view.config.pipelines.empty()
                                   ? std::string()
                                   : report::pipelines_output(pipeline::changed_pipelines(repo, result))) +
                              ci::build_job_outputs(graph, result.set));
      spdlog::info("{} of {} projects changed{}", result.set.changed.size(),
                   graph.projects().size(),
                   result.set.removed.empty()
                       ? ""
                       : fmt::format(", {} removed", result.set.removed.size()));
      bool any = !result.set.changed.empty() || !result.set.removed.empty();
      return opts->exit_code && any ? 1 : 0;
    };
  });
}

} // namespace mlrepo::cli
