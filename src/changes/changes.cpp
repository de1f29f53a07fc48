#include "mlrepo/changes/changes.hpp"

#include "mlrepo/util/process.hpp"
#include "mlrepo/git/snapshot.hpp"
#include "mlrepo/git/status.hpp"
#include "mlrepo/git/tree_diff.hpp"
#include "mlrepo/project/discovery.hpp"
#include "mlrepo/project/dockerignore.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"
#include "mlrepo/util/glob.hpp"

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <map>
#include <string_view>
#include <tuple>
#include <spdlog/spdlog.h>
#include <unordered_map>
#include <unordered_set>

namespace mlrepo::changes {
namespace {

struct ChangedPath {
  std::string path;
  std::string old_path; // for renames; else empty
  bool uncommitted = false;
  bool removes_dockerfile = false;
};

std::string describe(const ChangedPath& c) {
  return c.old_path.empty() ? c.path : c.path + " (renamed from " + c.old_path + ")";
}

void collect_uncommitted(const git::Repository& repo, const git_oid& head, std::vector<ChangedPath>& out) {
  for (auto& c : uncommitted_changes(repo, head)) {
    ChangedPath p;
    p.path = std::move(c.path);
    p.uncommitted = true;
    p.removes_dockerfile = (c.kind == git::WorktreeChange::Kind::Deleted ||
                            c.kind == git::WorktreeChange::Kind::TypeChanged) &&
                           util::base_name(p.path) == "Dockerfile";
    out.push_back(std::move(p));
  }
}

void collect_committed(const git::Repository& repo, const git_oid& base, const git_oid& head,
                       std::vector<ChangedPath>& out) {
  auto old_tree = repo.commit_tree(base);
  auto new_tree = repo.commit_tree(head);
  for (auto& c : git::diff_trees(repo, old_tree.get(), new_tree.get())) {
    ChangedPath p;
    p.path = std::move(c.path);
    if (c.kind == git::TreeChange::Kind::Renamed)
      p.old_path = std::move(c.old_path);
    const std::string& gone = c.kind == git::TreeChange::Kind::Renamed ? p.old_path : p.path;
    p.removes_dockerfile = (c.kind == git::TreeChange::Kind::Deleted ||
                            c.kind == git::TreeChange::Kind::Renamed) &&
                           util::base_name(gone) == "Dockerfile";
    out.push_back(std::move(p));
  }
}

// Collects reasons per project, summarising long lists.
class Marks {
public:
  explicit Marks(size_t n) : reasons_(n), counts_(n), marked_(n, false) {}

  bool add(size_t project, const std::string& kind, std::string detail) {
    bool first = !marked_[project];
    marked_[project] = true;
    size_t& count = counts_[project][kind];
    if (++count <= kMaxReasonsPerKind)
      reasons_[project].push_back({kind, std::move(detail)});
    return first;
  }
  bool marked(size_t project) const { return marked_[project]; }

  std::vector<Reason> finish(size_t project) {
    auto out = std::move(reasons_[project]);
    for (const auto& [kind, count] : counts_[project])
      if (count > kMaxReasonsPerKind)
        out.push_back({kind, "and " + std::to_string(count - kMaxReasonsPerKind) + " more"});
    return out;
  }

private:
  std::vector<std::vector<Reason>> reasons_;
  std::vector<std::map<std::string, size_t>> counts_;
  std::vector<bool> marked_;
};

// Whether a project's build sees a path: the ignore file its build reads
// (the Dockerfile's own, else the context's), read once per Dockerfile and
// context from the head side, decides (project/dockerignore.hpp).
class Visibility {
public:
  Visibility(const project::Graph& graph, const git::Snapshot& snapshot)
      : graph_(graph), snapshot_(snapshot), by_project_(graph.projects().size()) {}

  bool sees(size_t i, std::string_view path) {
    const auto& p = graph_.projects()[i];
    if (project::always_seen(p, path))
      return true;
    return !project::ignored_in_context(file(i).rules, p.context, path);
  }

  // The ignore file project i's build reads, decided on first use and then
  // found by index, so the per-path calls above build no strings. Each file
  // is read once however many projects share it (a context at the root).
  const project::IgnoreFile& file(size_t i) {
    auto& slot = by_project_[i];
    if (!slot)
      slot = std::make_unique<project::IgnoreFile>(
          project::read_dockerignore(graph_.projects()[i], [this](const std::string& f) {
            auto [it, fresh] = texts_.try_emplace(f);
            if (fresh)
              it->second = snapshot_.read(f);
            return it->second;
          }));
    return *slot;
  }

private:
  const project::Graph& graph_;
  const git::Snapshot& snapshot_;
  std::unordered_map<std::string, std::optional<std::string>> texts_; // path -> content, nullopt: none
  std::vector<std::unique_ptr<project::IgnoreFile>> by_project_;
};

} // namespace

std::vector<git::WorktreeChange> uncommitted_changes(const git::Repository& repo, const git_oid& head) {
  const char* off = std::getenv("MLREPO_NO_CACHE");
  return git::worktree_changes(repo, head,
                               off && *off ? std::string{}
                                           : repo.git_dir() +
                                                 "mlrepo/cache/worktree/dirs-status");
}

namespace {

std::vector<ChangedPath> changed_paths(const git::Repository& repo, const Selection& sel) {
  std::vector<ChangedPath> paths;
  if (sel.merge_base && !git::same(*sel.merge_base, sel.head))
    collect_committed(repo, *sel.merge_base, sel.head, paths);
  if (sel.uncommitted)
    collect_uncommitted(repo, sel.head, paths);
  spdlog::debug("{} changed paths", paths.size());
  return paths;
}

// Marks the projects one changed path touches: the projects containing it
// whose build sees it, the projects that take it as an extra input, and those
// whose build reads it as their ignore file.
class PathMarker {
public:
  PathMarker(const project::Graph& graph, const git::Snapshot& snapshot, Marks& marks)
      : projects_(graph.projects()), visibility_(graph, snapshot), marks_(marks) {
    // Owners: project path -> index. Extra inputs (path dependencies, a
    // Dockerfile outside the project) map a path prefix to projects. A build
    // context outside the project is deliberately not one: a context at the
    // repository root would make every change touch the project, so what a
    // build copies from outside its directory is declared under depends_on.
    // Keys view strings the graph owns: copying 10,000 paths on every run was a
    // measurable share of a warm `changed`.
    owner_.reserve(projects_.size());
    for (size_t i = 0; i < projects_.size(); ++i)
      owner_.emplace(projects_[i].path, i);
    for (size_t i = 0; i < projects_.size(); ++i) {
      const auto& p = projects_[i];
      for (const auto& d : graph.path_dependencies(i)) {
        if (d.glob)
          glob_inputs_.emplace_back(&d, i);
        else
          inputs_[d.path].push_back({i, &d.origin});
      }
      if (!util::path_within(p.dockerfile, p.path))
        inputs_[p.dockerfile].push_back({i, nullptr});
    }
    // A .dockerignore outside the project (a context wider than its
    // directory) decides what its build sees: a change to it is the project's.
    for (size_t i = 0; i < projects_.size(); ++i)
      for (const auto& f : project::dockerignore_paths(projects_[i]))
        if (!util::path_within(f, projects_[i].path))
          ignore_files_[f].push_back(i);
  }

  void mark(const ChangedPath& c) {
    mark_path(c.path, c);
    if (!c.old_path.empty())
      mark_path(c.old_path, c);
    for (const auto* path : {&c.path, &c.old_path})
      if (auto it = ignore_files_.find(*path); it != ignore_files_.end())
        for (size_t i : it->second)
          marks_.add(i, kind(c), describe(c) + " (decides what the build sees)");
  }

private:
  struct Input {
    size_t project;
    const std::string* origin; // null: the project's Dockerfile
  };

  static const char* kind(const ChangedPath& c) { return c.uncommitted ? "uncommitted" : "file"; }

  // Every project containing the path whose build sees it: the deepest owns
  // the file, and an enclosing project's build context holds it too (its
  // content tag moves), so it changed as well. Then every extra input above it.
  void mark_path(const std::string& path, const ChangedPath& c) {
    const project::Project* deepest = nullptr;
    std::string_view dir = path;
    for (;;) {
      if (auto it = owner_.find(dir); it != owner_.end() && dir != path) {
        const auto& p = projects_[it->second];
        if (!visibility_.sees(it->second, path))
          spdlog::debug("{}: {} is left out of its build by .dockerignore ({}): no change", p.name, path,
                        visibility_.file(it->second).path);
        else if (!deepest)
          marks_.add(it->second, kind(c), describe(c));
        else
          marks_.add(it->second, kind(c),
                     describe(c) + " (in the nested project " + deepest->name + ", which " + p.name +
                         "'s build sees)");
        if (!deepest)
          deepest = &p;
      }
      if (!inputs_.empty())
        if (auto it = inputs_.find(dir); it != inputs_.end())
          mark_inputs(it->second, path, c);
      // A glob input matches a file, or a directory whose files it copies.
      for (const auto& [in, project] : glob_inputs_)
        if (!dir.empty() && util::glob_match(in->path, dir) && visibility_.sees(project, path))
          marks_.add(project, "dependency", describe(c) + " (" + in->origin + ")");
      if (dir.empty())
        break;
      dir = util::parent_path(dir);
    }
  }

  // One reason text per origin, not per project: a shared library can have
  // thousands of dependents.
  void mark_inputs(const std::vector<Input>& inputs, const std::string& path, const ChangedPath& c) {
    const std::string changed = describe(c);
    const std::string as_dockerfile = changed + " (the project's Dockerfile)";
    std::unordered_map<std::string_view, std::string> texts;
    for (const auto& in : inputs) {
      if (in.origin && !visibility_.sees(in.project, path))
        continue;
      if (!in.origin) {
        marks_.add(in.project, kind(c), as_dockerfile);
        continue;
      }
      auto [text, fresh] = texts.try_emplace(*in.origin);
      if (fresh)
        text->second = changed + " (" + *in.origin + ")";
      marks_.add(in.project, "dependency", text->second);
    }
  }

  const std::vector<project::Project>& projects_;
  Visibility visibility_;
  Marks& marks_;
  std::unordered_map<std::string_view, size_t> owner_;
  std::unordered_map<std::string_view, std::vector<Input>> inputs_;
  std::vector<std::pair<const project::PathInput*, size_t>> glob_inputs_;
  std::unordered_map<std::string, std::vector<size_t>> ignore_files_;
};

void mark_global_triggers(const config::WorkspaceConfig& ws, const ChangedPath& c, size_t project_count,
                          Marks& marks) {
  for (const auto& g : ws.global_triggers) {
    if (util::glob_match(g.value, c.path) || (!c.old_path.empty() && util::glob_match(g.value, c.old_path))) {
      for (size_t i = 0; i < project_count; ++i)
        marks.add(i, "global", describe(c) + " matches global trigger '" + g.value + "'");
      return;
    }
  }
}

// The workspace keys every image is named or built by: a change to one
// touches every project.
void mark_workspace_keys(const git::Repository& repo, const git_oid& base, const config::WorkspaceConfig& ws,
                         size_t project_count, Marks& marks) {
  config::WorkspaceConfig before;
  try {
    before = project::load_workspace_config(*git::tree_snapshot(repo, base));
  } catch (const Error& e) {
    spdlog::debug("the workspace config at the base does not parse ({}): every key counts as changed", e.what());
    before.registry = "\n"; // differs from any valid value
  }
  auto name_from = [](config::NameFrom n) { return n == config::NameFrom::Path ? "path" : "leaf"; };
  std::vector<std::tuple<const char*, std::string, std::string>> keys{
      {"registry", before.registry, ws.registry},
      {"image_prefix", before.image_prefix, ws.image_prefix},
      {"name_from", name_from(before.name_from), name_from(ws.name_from)},
      {"docker", before.docker, ws.docker}};
  for (const auto& [key, was, now] : keys) {
    if (was == now)
      continue;
    std::string detail = std::string(config::kConfigFile) + ": '" + key + "' changed (now '" + now + "')";
    for (size_t i = 0; i < project_count; ++i)
      marks.add(i, "global", detail);
  }
}

// Dependents of a changed project change too, transitively.
void mark_dependents(const project::Graph& graph, Marks& marks) {
  const auto& projects = graph.projects();
  std::deque<size_t> queue;
  for (size_t i = 0; i < projects.size(); ++i)
    if (marks.marked(i))
      queue.push_back(i);
  while (!queue.empty()) {
    size_t i = queue.front();
    queue.pop_front();
    for (size_t r : graph.dependents(i))
      if (marks.add(r, "dependency", projects[i].name + " (" + graph.via(r, i) + ")"))
        queue.push_back(r);
  }
}

std::vector<ChangedProject> changed_projects(const project::Graph& graph, Marks& marks) {
  std::vector<ChangedProject> changed;
  for (size_t i = 0; i < graph.projects().size(); ++i) {
    if (!marks.marked(i))
      continue;
    ChangedProject cp{i, marks.finish(i)};
    for (const auto& r : cp.reasons)
      spdlog::debug("{} changed: {}: {}", graph.projects()[i].name, r.kind, r.detail);
    changed.push_back(std::move(cp));
  }
  return changed;
}

// Projects that existed at the merge-base but not any more.
std::vector<RemovedProject> removed_projects(const git::Repository& repo, const git_oid& base,
                                             const config::WorkspaceConfig& ws, const project::Graph& graph) {
  std::vector<RemovedProject> removed;
  auto base_snapshot = git::tree_snapshot(repo, base);
  std::unordered_set<std::string> now;
  for (const auto& p : graph.projects())
    now.insert(p.path);
  bool any = false;
  for (const auto& dir : project::project_dirs(*base_snapshot, ws))
    any |= !now.count(dir);
  if (any)
    for (auto& p : project::discover(*base_snapshot, ws, project::DiscoveryOptions{.tolerant = true}))
      if (!now.count(p.path)) {
        spdlog::debug("{} removed: {} no longer holds a project", p.name, p.path);
        removed.push_back({p.name, p.path});
      }
  return removed;
}

} // namespace

// The passes: the changed paths; the projects each one touches (and global
// triggers); the workspace keys every image depends on; the dependents of
// what changed; and the projects that are gone.
ChangeSet compute_changes(const git::Repository& repo, const config::WorkspaceConfig& ws,
                          const project::Graph& graph, const git::Snapshot& snapshot, const Selection& sel) {
  const size_t count = graph.projects().size();
  ChangeSet result;
  result.head = git::oid_hex(sel.head);
  if (sel.merge_base)
    result.base = git::oid_hex(*sel.merge_base);
  Marks marks(count);

  const auto paths = changed_paths(repo, sel);
  if (sel.everything)
    for (size_t i = 0; i < count; ++i)
      marks.add(i, "global", sel.rule);

  PathMarker marker(graph, snapshot, marks);
  bool discovery_changed = false;
  bool workspace_config_changed = false;
  for (const auto& c : paths) {
    util::check_interrupted();
    workspace_config_changed |= c.path == config::kConfigFile || c.old_path == config::kConfigFile;
    discovery_changed |= c.removes_dockerfile || c.path == config::kConfigFile;
    mark_global_triggers(ws, c, count, marks);
    marker.mark(c);
  }
  if (workspace_config_changed && sel.merge_base)
    mark_workspace_keys(repo, *sel.merge_base, ws, count, marks);
  mark_dependents(graph, marks);

  result.changed = changed_projects(graph, marks);
  if (sel.merge_base && discovery_changed)
    result.removed = removed_projects(repo, *sel.merge_base, ws, graph);
  return result;
}

} // namespace mlrepo::changes
