#include "mlrepo/workspace.hpp"

#include "mlrepo/project/cache.hpp"
#include "mlrepo/project/discovery.hpp"

#include <cstdlib>

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
  auto snapshot = git::tree_snapshot(repo, commit);
  const char* off = std::getenv("MLREPO_NO_CACHE");
  project::DiscoveryCache cache(off && *off ? std::string{}
                                            : std::string(git_repository_path(repo.raw())) + "mlrepo/cache");
  std::string key = git::oid_hex(*git_tree_id(repo.commit_tree(commit).get()));
  if (auto hit = cache.load(key)) {
    config::WorkspaceConfig ws;
    ws.file = config::kConfigFile;
    if (hit->workspace_yaml)
      ws = config::parse_workspace_config(*hit->workspace_yaml, config::kConfigFile);
    project::Graph graph(std::move(hit->projects), std::move(hit->edges), std::move(hit->path_deps));
    return View{std::move(snapshot), std::move(ws), std::move(graph)};
  }
  auto workspace_yaml = snapshot->read(config::kConfigFile);
  View view = make_view(std::move(snapshot));
  cache.store(key, project::serialize_discovery(workspace_yaml, view.graph));
  return view;
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
                                    : open_view(repo, selection.head);
  auto set = changes::compute_changes(repo, view.config, view.graph, selection);
  return ChangesResult{std::move(view), std::move(selection), std::move(set)};
}

} // namespace mlrepo
