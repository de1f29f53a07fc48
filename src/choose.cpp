#include "mlrepo/choose.hpp"

#include "mlrepo/project/select.hpp"
#include "mlrepo/util/error.hpp"

namespace mlrepo {

ProjectChoice options_choice(const std::vector<std::string>& names, bool all, const std::string& cwd,
                             const ChangesResult* changes, const project::Graph* changed_graph) {
  ProjectChoice choice{.names = names, .all = all, .cwd = cwd};
  if (changes) {
    choice.changed = &changes->set;
    choice.changed_graph = changed_graph ? changed_graph : &changes->view.graph;
  }
  return choice;
}

void require_one_way(std::initializer_list<bool> given, const std::string& ways) {
  int n = 0;
  for (bool g : given)
    n += g ? 1 : 0;
  if (n > 1)
    throw UsageError("choose projects one way: " + ways);
}

std::optional<std::vector<size_t>> choose_projects(const git::Repository& repo, const View& view,
                                                   const ProjectChoice& choice) {
  const auto& graph = view.graph;
  std::vector<size_t> chosen;
  if (choice.all) {
    for (size_t i = 0; i < graph.projects().size(); ++i)
      chosen.push_back(i);
  } else if (choice.changed) {
    const auto& from = choice.changed_graph ? *choice.changed_graph : graph;
    for (const auto& c : choice.changed->changed)
      if (auto i = graph.find(from.projects()[c.project].path))
        chosen.push_back(*i);
  } else if (!choice.names.empty()) {
    refuse_invalid_named(view, choice.names, choice.cwd, repo.workdir());
    chosen = project::resolve_projects(graph, choice.names, choice.cwd, repo.workdir());
  } else if (auto here = choice.here ? project::project_at(graph, choice.cwd, repo.workdir()) : std::nullopt) {
    chosen.push_back(*here);
  } else {
    return std::nullopt;
  }
  return chosen;
}

} // namespace mlrepo
