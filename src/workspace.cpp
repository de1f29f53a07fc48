#include "mlrepo/workspace.hpp"

#include "mlrepo/project/discovery.hpp"

namespace mlrepo {
namespace {

View make_view(std::unique_ptr<git::Snapshot> snapshot) {
  auto config = project::load_workspace_config(*snapshot);
  auto projects = project::discover(*snapshot, config);
  project::Graph graph(std::move(projects), *snapshot);
  return View{std::move(snapshot), std::move(config), std::move(graph)};
}

} // namespace

View open_view(const git::Repository& repo, const std::optional<std::string>& rev) {
  if (!rev)
    return make_view(git::worktree_snapshot(repo));
  return open_view(repo, repo.require_commit(*rev, "--rev"));
}

View open_view(const git::Repository& repo, const git_oid& commit) {
  return make_view(git::tree_snapshot(repo, commit));
}

ChangesResult find_changes(const git::Repository& repo, const changes::SelectionOptions& options,
                           const changes::EnvLookup& env) {
  // The default branch may be configured, so read the workspace config of the
  // side we are most likely to measure before choosing revisions.
  config::WorkspaceConfig initial;
  if (options.head == "HEAD" && !changes::running_in_ci(env) && options.uncommitted.value_or(true))
    initial = project::load_workspace_config(*git::worktree_snapshot(repo));
  else
    initial = project::load_workspace_config(
        *git::tree_snapshot(repo, repo.require_commit(options.head, "head")));

  auto selection = changes::select_revisions(repo, initial, options, env);
  View view = selection.uncommitted ? make_view(git::worktree_snapshot(repo))
                                    : make_view(git::tree_snapshot(repo, selection.head));
  auto set = changes::compute_changes(repo, view.config, view.graph, selection);
  return ChangesResult{std::move(view), std::move(selection), std::move(set)};
}

} // namespace mlrepo
