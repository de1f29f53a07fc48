#include "app.hpp"
#include "common.hpp"
#include "mlrepo/tools.hpp"

#include "mlrepo/report/output.hpp"
#include "mlrepo/workspace.hpp"

#include <iostream>
#include <spdlog/spdlog.h>

namespace mlrepo::cli {

struct GraphOptions {
  std::string format = "dot";
  std::optional<std::string> rev;
};

void register_graph(CLI::App& app, const GlobalOptions& global, Tools& tools, Action& action) {
  auto opts = std::make_shared<GraphOptions>();
  auto* cmd = app.add_subcommand("graph", "Print the dependency graph between projects");
  cmd->footer("An edge A -> B means A depends on B: A's Dockerfile uses B's image (FROM,\n"
              "COPY --from, RUN --mount from=) or A lists B under depends_on. A reference is\n"
              "B's image only when it is B's repository (<registry>/<image_prefix><name>) or\n"
              "its bare local name (<image_prefix><name>); with -v, references that only\n"
              "resemble a project (same last component, other registry) are listed.\n"
              "Examples:\n  mlrepo graph | dot -Tsvg > graph.svg\n  mlrepo graph --format json");
  cmd->add_option("--format", opts->format, "dot (Graphviz) or json")
      ->check(CLI::IsMember({"dot", "json"}))
      ->type_name("FORMAT");
  cmd->add_option("--rev", opts->rev, "The graph at this revision instead of the work tree")
      ->type_name("REV");
  cmd->callback([&global, opts, &tools, &action] {
    action = [&global, opts, &tools] {
      auto repo = open_repository(global);
      auto& view = *new View(open_view(repo, opts->rev)); // never freed: we exit next
      std::cout << (opts->format == "json" ? report::graph_json(view.graph)
                                           : report::graph_dot(view.graph));
      if (global.verbose)
        for (const auto& miss : project::near_misses(view.graph, *view.snapshot, view.config))
          spdlog::warn("near miss: {}", report::near_miss_text(view.graph, miss));
      return 0;
    };
  });
}

} // namespace mlrepo::cli
