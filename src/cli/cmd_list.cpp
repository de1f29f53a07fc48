#include "app.hpp"
#include "common.hpp"
#include "mlrepo/tools.hpp"

#include "mlrepo/release/promote.hpp"
#include "mlrepo/release/tags.hpp"

#include "mlrepo/report/output.hpp"
#include "mlrepo/workspace.hpp"

#include <iostream>
#include <spdlog/spdlog.h>
#include <optional>

namespace mlrepo::cli {

struct ListOptions {
  bool json = false;
  std::optional<std::string> rev;
};

void register_list(CLI::App& app, const GlobalOptions& global, Tools& tools, Action& action) {
  auto opts = std::make_shared<ListOptions>();
  auto* cmd = app.add_subcommand("list", "List every project: NAME<TAB>PATH, sorted by path");
  cmd->footer("Projects are directories holding a Dockerfile, in the work tree as git sees it\n"
              "(tracked files plus untracked files that are not ignored), or at --rev.\n"
              "Examples:\n  mlrepo list\n  mlrepo list --json --rev origin/main");
  cmd->add_flag("--json", opts->json, "Print JSON: name, path, dockerfile, context, image, depends_on, inputs (path dependencies), latest_release");
  cmd->add_option("--rev", opts->rev, "List the projects at this revision instead of the work tree")
      ->type_name("REV");
  cmd->callback([&global, opts, &tools, &action] {
    action = [&global, opts, &tools] {
      auto repo = open_repository(global);
      auto& view = *new View(open_view(repo, opts->rev)); // never freed: we exit next
      for (const auto& own : view.graph.own_base_uses())
        spdlog::warn("{}", report::near_miss_text(view.graph, project::own_base_miss(view.graph, own)));
      if (opts->json) {
        auto releases = release::latest_releases(repo);
        std::cout << report::list_json(view.graph, &releases);
      } else {
        std::cout << report::list_text(view.graph);
      }
      return 0;
    };
  });
}

} // namespace mlrepo::cli
