#include "mlrepo/workspace.hpp"

#include "mlrepo/project/cache.hpp"
#include "mlrepo/project/discovery.hpp"
#include "mlrepo/project/select.hpp"
#include "mlrepo/util/fs.hpp"
#include "mlrepo/project/worktree_cache.hpp"

#include <cstdlib>
#include <spdlog/spdlog.h>

namespace mlrepo {
namespace {

// Left-out directories are said once, where the view is made.
void warn_invalid(const std::vector<project::InvalidProject>& invalid) {
  for (const auto& bad : invalid)
    spdlog::warn("left out {}: {} ('mlrepo list' shows every problem)", bad.dir, bad.error->what());
}

project::DiscoveryOptions discovery_options(const ViewOptions& options, std::vector<project::InvalidProject>& invalid) {
  project::DiscoveryOptions out;
  if (options.skip_invalid)
    out.invalid = &invalid;
  return out;
}

View make_view(std::unique_ptr<git::Snapshot> snapshot, const ViewOptions& options) {
  auto config = project::load_workspace_config(*snapshot);
  std::vector<project::InvalidProject> invalid;
  auto projects = project::discover(*snapshot, config, discovery_options(options, invalid));
  warn_invalid(invalid);
  project::Graph graph(std::move(projects), *snapshot, config);
  return View{std::move(snapshot), std::move(config), std::move(graph), std::move(invalid)};
}

std::string cache_dir(const git::Repository& repo) {
  const char* off = std::getenv("MLREPO_NO_CACHE");
  return off && *off ? std::string{} : repo.git_dir() + "mlrepo/cache";
}

View from_cache(std::unique_ptr<git::Snapshot> snapshot, project::CachedDiscovery hit) {
  config::WorkspaceConfig ws;
  ws.file = config::kConfigFile;
  if (hit.workspace_yaml)
    ws = config::parse_workspace_config(*hit.workspace_yaml, config::kConfigFile);
  project::Graph graph(std::move(hit.projects), std::move(hit.edges), std::move(hit.path_deps),
                       std::move(hit.own_base));
  return View{std::move(snapshot), std::move(ws), std::move(graph), {}};
}

// The work tree's view: the project directories come from a walk (cheap with
// its directory cache); what is in them is remembered while every file that
// was read is unchanged.
View worktree_view(const git::Repository& repo, const ViewOptions& options = {}) {
  std::string dir = cache_dir(repo);
  project::WorktreeCache cache(dir.empty() ? dir : dir + "/worktree/discovery", repo.workdir());
  auto snapshot = cache.recording(git::worktree_snapshot(repo));
  auto workspace_yaml = snapshot->read(config::kConfigFile);
  auto config = project::load_workspace_config(*snapshot);
  auto dirs = project::project_dirs(*snapshot, config);
  if (auto data = cache.load(dirs))
    if (auto hit = project::deserialize_discovery(*data))
      return from_cache(std::move(snapshot), std::move(*hit));
  std::vector<project::InvalidProject> invalid;
  auto projects = project::discover(*snapshot, config, dirs, discovery_options(options, invalid));
  warn_invalid(invalid);
  project::Graph graph(std::move(projects), *snapshot, config);
  if (invalid.empty()) // a partial answer is never cached
    cache.store(dirs, project::serialize_discovery(workspace_yaml, graph));
  return View{std::move(snapshot), std::move(config), std::move(graph), std::move(invalid)};
}

} // namespace

View open_view(const git::Repository& repo, const std::optional<std::string>& rev, ViewOptions options) {
  if (!rev)
    return worktree_view(repo, options);
  return open_view(repo, repo.require_commit(*rev, "--rev"), options);
}

View open_view(const git::Repository& repo, const git_oid& commit, ViewOptions options) {
  auto snapshot = git::tree_snapshot(repo, commit);
  project::DiscoveryCache cache(cache_dir(repo));
  std::string key = git::oid_hex(repo.commit_tree_id(commit));
  if (auto hit = cache.load(key))
    return from_cache(std::move(snapshot), std::move(*hit));
  auto workspace_yaml = snapshot->read(config::kConfigFile);
  View view = make_view(std::move(snapshot), options);
  if (view.invalid.empty())
    cache.store(key, project::serialize_discovery(workspace_yaml, view.graph));
  return view;
}

void refuse_invalid_named(const View& view, const std::vector<std::string>& args, const std::string& cwd,
                          const std::string& workdir) {
  for (const auto& arg : args)
    for (const auto& bad : view.invalid) {
      auto rel = project::repo_relative(arg, cwd, workdir);
      bool named = (rel && *rel == bad.dir) || util::normalize_repo_path(arg) == bad.dir ||
                   util::base_name(bad.dir) == arg;
      if (!named)
        continue;
      if (const auto* ce = dynamic_cast<const ConfigError*>(bad.error.get()))
        throw *ce;
      throw *bad.error;
    }
}

ChangesResult find_changes(const git::Repository& repo, const changes::SelectionOptions& options,
                           const context::RunContext& env) {
  // The default branch may be configured, so read the workspace config of the
  // side we are most likely to measure before choosing revisions.
  config::WorkspaceConfig initial;
  if (options.head == "HEAD" && !env.ci() && options.uncommitted.value_or(true))
    initial = project::load_workspace_config(*git::worktree_snapshot(repo));
  else
    initial = project::load_workspace_config(
        *git::tree_snapshot(repo, repo.require_commit(options.head, "head")));

  auto selection = changes::select_revisions(repo, initial, options, env);
  View view = selection.uncommitted ? worktree_view(repo) : open_view(repo, selection.head);
  auto set = changes::compute_changes(repo, view.config, view.graph, *view.snapshot, selection);
  return ChangesResult{std::move(view), std::move(selection), std::move(set)};
}

} // namespace mlrepo
