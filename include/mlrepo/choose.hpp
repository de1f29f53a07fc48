#pragma once
// Which projects a command works on: the ones named (names or paths), --all,
// --changed (a change set's projects), or the one the user stands in. Written
// once here; build, test, run, promote, job run/render/deploy and prune ask it,
// and each says in its own words what to do when nothing was chosen.
#include "mlrepo/workspace.hpp"

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace mlrepo {

struct ProjectChoice {
  std::vector<std::string> names; // PROJECT...: names, or paths from `cwd` or the root
  bool all = false;
  // --changed: the changed projects of `changed`, whose indices are of
  // `changed_graph` (the graph the change set was computed on).
  const changes::ChangeSet* changed = nullptr;
  const project::Graph* changed_graph = nullptr;
  std::string cwd;  // absolute
  bool here = true; // when nothing else chose: the project containing `cwd`
};

// The choice a command's options make: PROJECT..., --all, the directory it
// runs in and, with --changed, the changes found. Their projects are indices
// of `changes->view.graph`, or of `changed_graph` where that view has since
// moved into the command's own.
ProjectChoice options_choice(const std::vector<std::string>& names, bool all, const std::string& cwd,
                             const ChangesResult* changes, const project::Graph* changed_graph = nullptr);

// UsageError "choose projects one way: <ways>" when more than one is given.
void require_one_way(std::initializer_list<bool> given, const std::string& ways);

// The chosen projects of `view` (indices into view.graph), in the order
// chosen; nullopt when nothing chose any. A named directory that is no valid
// project throws its own error first.
std::optional<std::vector<size_t>> choose_projects(const git::Repository& repo, const View& view,
                                                   const ProjectChoice& choice);

} // namespace mlrepo
