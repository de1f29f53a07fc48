#include "mlrepo/project/graph.hpp"

#include "mlrepo/project/dockerfile.hpp"
#include "mlrepo/project/identity.hpp"
#include "mlrepo/project/naming.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"
#include "mlrepo/util/glob.hpp"
#include "mlrepo/util/image_ref.hpp"
#include "mlrepo/util/text.hpp"

#include <algorithm>
#include <queue>
#include <spdlog/spdlog.h>
#include <unordered_map>

namespace mlrepo::project {

namespace {

bool has_glob(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

// Whether `path` belongs to project `i` itself (not to a project nested in it).
bool owned_by(const std::vector<Project>& projects, size_t i, const std::string& path) {
  if (!util::path_within(path, projects[i].path))
    return false;
  for (size_t j = 0; j < projects.size(); ++j)
    if (j != i && util::path_within(projects[j].path, projects[i].path) &&
        projects[j].path != projects[i].path && util::path_within(path, projects[j].path))
      return false;
  return true;
}

} // namespace

Graph::Graph(std::vector<Project> projects, const git::Snapshot& snapshot,
             const config::WorkspaceConfig& workspace)
    : projects_(std::move(projects)), deps_(projects_.size()), rdeps_(projects_.size()),
      path_deps_(projects_.size()) {
  std::unordered_map<std::string, size_t> by_name, by_path;
  for (size_t i = 0; i < projects_.size(); ++i) {
    by_name.emplace(projects_[i].name, i);
    by_path.emplace(projects_[i].path, i);
  }
  ImageIndex images(projects_, workspace);
  auto add_edge = [&](size_t from, size_t to, const char* via) {
    if (edge_index_.count(from << 32 | to))
      return;
    edge_index_[from << 32 | to] = edges_.size();
    edges_.push_back({from, to, via});
  };

  for (size_t i = 0; i < projects_.size(); ++i) {
    const Project& p = projects_[i];
    const auto& cfg = *p.config;
    for (const auto& dep : cfg.depends_on) {
      std::optional<size_t> target;
      // `./x` or anything with a '/' is a path; a bare word is a project name
      // first, unless it is also a top-level path, which is ambiguous.
      bool bare = dep.value.find('/') == std::string::npos && dep.value != "." && !dep.value.empty();
      if (bare)
        if (auto it = by_name.find(dep.value); it != by_name.end()) {
          target = it->second;
          if (projects_[*target].path != dep.value && snapshot.exists(dep.value))
            throw ConfigError(cfg.file, dep.line,
                              "'depends_on' entry '" + dep.value + "' is both the project '" +
                                  dep.value + "' (at " + projects_[*target].path +
                                  ") and the path '" + dep.value + "'",
                              "write './" + dep.value + "' for the path, or '" +
                                  projects_[*target].path + "' (its path) for the project");
        }
      std::optional<std::string> path;
      if (!target) {
        path = util::normalize_repo_path(dep.value);
        if (!path || dep.value.empty() || dep.value.front() == '/') {
          // Written relative to the project directory? Then say how it is spelled.
          auto from_project = util::normalize_repo_path(util::join_path(p.path, dep.value));
          if (!dep.value.empty() && dep.value.front() != '/' && from_project &&
              (from_project->empty() || snapshot.exists(*from_project)))
            throw ConfigError(cfg.file, dep.line,
                              "'depends_on' entry '" + dep.value + "' is read from the repository root, where it "
                              "leaves the repository",
                              "depends_on entries are repository-relative: write '" +
                                  (from_project->empty() ? std::string(".") : *from_project) + "'");
          throw ConfigError(cfg.file, dep.line,
                            "'depends_on' entry '" + dep.value + "' leaves the repository",
                            "use a repository-relative path or a project name");
        }
        if (auto it = by_path.find(*path); it != by_path.end())
          target = it->second;
      }
      if (target) {
        if (*target == i)
          throw ConfigError(cfg.file, dep.line, "project '" + p.name + "' lists itself in 'depends_on'");
        add_edge(i, *target, "depends_on");
      } else if (path->empty() || snapshot.exists(*path)) {
        path_deps_[i].push_back({*path, "depends_on " + (path->empty() ? std::string(".") : *path), false});
      } else {
        // The nearest project name or path, or path another project depends on.
        std::vector<std::string> known;
        for (const auto& q : projects_) {
          known.push_back(q.name);
          known.push_back(q.path);
          for (const auto& d : q.config->depends_on)
            if (d.value != dep.value)
              known.push_back(d.value);
        }
        auto guess = util::closest(dep.value, known, std::max<size_t>(2, dep.value.size() / 4));
        // Else how far the path does exist.
        std::string_view have = *path;
        while (!have.empty() && !snapshot.exists(have))
          have = util::parent_path(have);
        std::string rest = have.empty() ? *path : path->substr(have.size() + 1);
        throw ConfigError(cfg.file, dep.line,
                          "'depends_on' entry '" + dep.value +
                              "' is neither a project name nor an existing path",
                          guess ? "did you mean '" + *guess + "'? (entries are project names, or paths from the "
                                  "repository root)"
                                : !have.empty() ? "'" + std::string(have) + "/' exists, but holds no '" + rest +
                                                      "' (paths are from the repository root)"
                                                : "list a project's name or path, or a file or directory in the "
                                                  "repository (paths are from the repository root)");
      }
    }
    auto content = snapshot.read(p.dockerfile);
    if (!content)
      continue;
    // Docker refuses an unknown instruction; here it would only make a FROM
    // line (and its dependency edge) silently vanish.
    if (auto bad = unknown_instruction(*content))
      throw ConfigError(p.dockerfile, bad->line, "unknown instruction '" + bad->keyword + "'",
                        bad->suggestion.empty() ? "Docker knows FROM, RUN, COPY, ADD, ARG, ENV, WORKDIR, CMD, "
                                                  "ENTRYPOINT, ... (docs.docker.com/reference/dockerfile)"
                                                : "did you mean '" + bad->suggestion + "'?");
    std::vector<ImageUse> uses;
    std::vector<CopySource> sources;
    try {
      uses = image_uses(*content, cfg.build_args);
      if (!util::path_within(p.context, p.path))
        sources = copy_sources(*content, cfg.build_args);
    } catch (const ExpansionTooLong& e) {
      throw ConfigError(p.dockerfile, e.line(),
                        "an ARG or ENV value expands to more than " + std::to_string(kMaxExpansion / 1024) + " KiB",
                        e.hint());
    }
    for (const auto& use : uses) {
      auto target = images.find(parse_reference(use.reference).repository);
      if (!target)
        continue;
      if (use.pinned) {
        spdlog::debug("{}:{}: {} {} is pinned by digest, so it is the published image, not "
                      "project '{}' from this tree",
                      p.dockerfile, use.line, use.instruction, use.reference,
                      projects_[*target].name);
        continue;
      }
      if (*target == i) {
        spdlog::debug("{}:{}: {} {} names this project's own image; not a dependency",
                      p.dockerfile, use.line, use.instruction, use.reference);
        own_base_.push_back({i, use.line, use.reference});
        continue;
      }
      add_edge(i, *target, "FROM");
    }
    // A context wider than the project: what COPY/ADD take from outside the
    // project's own files are inputs, as if listed under depends_on.
    if (util::path_within(p.context, p.path))
      continue;
    for (const auto& src : sources) {
      if (src.source.size() > util::kMaxGlobLength)
        throw ConfigError(p.dockerfile, src.line,
                          src.instruction + " source of " + std::to_string(src.source.size()) +
                              " characters; mlrepo reads paths and patterns of at most " +
                              std::to_string(util::kMaxGlobLength),
                          "shorten it");
      std::string_view rel = src.source;
      while (!rel.empty() && rel.front() == '/')
        rel.remove_prefix(1); // sources are relative to the context even when absolute
      auto path = util::normalize_repo_path(util::join_path(p.context, rel));
      if (!path) {
        spdlog::debug("{}:{}: {} {} leaves the repository; not an input", p.dockerfile, src.line,
                      src.instruction, src.source);
        continue;
      }
      if (owned_by(projects_, i, *path))
        continue;
      std::string origin = src.instruction + " " + src.source + " at " + p.dockerfile + ":" +
                           std::to_string(src.line);
      PathInput input{*path, std::move(origin), has_glob(*path)};
      auto& list = path_deps_[i];
      // Already covered (by a depends_on entry, or an earlier COPY)?
      if (std::none_of(list.begin(), list.end(), [&](const PathInput& in) {
            return in.path == input.path || (!in.glob && util::path_within(input.path, in.path));
          }))
        list.push_back(std::move(input));
    }
  }
  index_edges();
  check_cycles(&snapshot, &workspace);
}

NearMiss own_base_miss(const Graph& graph, const OwnBaseUse& use) {
  return {NearMiss::Kind::OwnBase, graph.projects()[use.project].dockerfile, use.line, "FROM", use.reference,
          use.project, {}};
}

std::vector<NearMiss> near_misses(const Graph& graph, const git::Snapshot& snapshot,
                                  const config::WorkspaceConfig& workspace) {
  const auto& projects = graph.projects();
  ImageIndex images(projects, workspace);
  // The workspace's own image namespace: `<registry>/<prefix>`.
  std::string own_namespace = util::canonical_repository(
      (workspace.registry.empty() ? "" : workspace.registry + "/") + workspace.image_prefix + "x");
  own_namespace.pop_back();
  std::vector<std::string> names;
  for (const auto& q : projects)
    names.push_back(q.name);
  std::vector<NearMiss> out;
  for (size_t i = 0; i < projects.size(); ++i) {
    const auto& p = projects[i];
    auto content = snapshot.read(p.dockerfile);
    if (!content)
      continue;
    for (const auto& use : image_uses(*content, p.config->build_args)) {
      auto parsed = parse_reference(use.reference);
      const auto& repository = parsed.repository;
      NearMiss miss{NearMiss::Kind::Elsewhere, p.dockerfile, use.line, use.instruction, use.reference, i, {}};
      if (auto target = images.find(repository)) {
        if (*target == i) {
          continue; // graph.own_base_uses(), below
        } else if (parsed.pinned) {
          miss.kind = NearMiss::Kind::Pinned;
          miss.project = *target;
          out.push_back(miss);
        }
        continue;
      }
      if (auto like = images.resembles(repository)) {
        if (*like == i)
          continue; // its own published image under another name says nothing useful
        miss.project = *like;
        // The registry's spelling without the image_prefix.
        const auto& name = projects[*like].name;
        auto canon = util::canonical_repository(repository);
        if (!workspace.image_prefix.empty() &&
            (canon == util::canonical_repository(name) ||
             (!workspace.registry.empty() && canon == util::canonical_repository(workspace.registry + "/" + name)))) {
          miss.kind = NearMiss::Kind::NoPrefix;
          out.push_back(miss);
          continue;
        }
        miss.registry = images.registry_for(repository, *like);
        if (miss.registry && util::repository_problem(*miss.registry + "/x"))
          miss.registry.reset(); // e.g. "gcr.io/" from an ARG that has no value here
        out.push_back(miss);
        continue;
      }
      auto canonical = util::canonical_repository(repository);
      std::string leaf(util::last_component(repository));
      // The project's name, where its image name has a prefix.
      if (!workspace.image_prefix.empty())
        for (size_t j = 0; j < projects.size(); ++j)
          if (j != i && leaf == projects[j].name) {
            miss.kind = NearMiss::Kind::NoPrefix;
            miss.project = j;
            break;
          }
      // A name no project has, inside the workspace's own namespace.
      // (Only a namespace of its own: without registry and prefix it would be
      // Docker Hub's library, where `FROM node` is no typo of a project `code`.)
      bool has_namespace = !workspace.registry.empty() || !workspace.image_prefix.empty();
      if (miss.kind == NearMiss::Kind::Elsewhere && has_namespace && canonical.rfind(own_namespace, 0) == 0)
        if (auto guess = util::closest(canonical.substr(own_namespace.size()), names, 2)) {
          miss.kind = NearMiss::Kind::Typo;
          miss.project = static_cast<size_t>(std::find(names.begin(), names.end(), *guess) - names.begin());
        }
      if (miss.kind != NearMiss::Kind::Elsewhere && miss.project != i)
        out.push_back(miss);
    }
  }
  for (const auto& own : graph.own_base_uses())
    out.push_back(own_base_miss(graph, own));
  return out;
}

Graph::Graph(std::vector<Project> projects, std::vector<Edge> edges,
             std::vector<std::vector<PathInput>> path_deps, std::vector<OwnBaseUse> own_base)
    : projects_(std::move(projects)), edges_(std::move(edges)), own_base_(std::move(own_base)),
      deps_(projects_.size()), rdeps_(projects_.size()), path_deps_(std::move(path_deps)) {
  path_deps_.resize(projects_.size());
  index_edges();
}

void Graph::index_edges() {
  edge_index_.clear();
  for (auto& d : deps_)
    d.clear();
  for (auto& d : rdeps_)
    d.clear();
  for (size_t k = 0; k < edges_.size(); ++k) {
    const auto& e = edges_[k];
    edge_index_[static_cast<uint64_t>(e.from) << 32 | e.to] = k;
    deps_[e.from].push_back(e.to);
    rdeps_[e.to].push_back(e.from);
  }
  for (auto& d : deps_)
    std::sort(d.begin(), d.end());
  for (auto& d : rdeps_)
    std::sort(d.begin(), d.end());
}

std::string Graph::via(size_t from, size_t to) const {
  auto it = edge_index_.find(static_cast<uint64_t>(from) << 32 | to);
  return it == edge_index_.end() ? std::string{} : edges_[it->second].via;
}

// Where project `from` names project `to`: its Dockerfile's line, or its
// depends_on entry's, for the cycle message.
std::string Graph::edge_origin(size_t from, size_t to, const git::Snapshot& snapshot,
                               const config::WorkspaceConfig& workspace) const {
  const auto& p = projects_[from];
  if (via(from, to) == "depends_on") {
    for (const auto& d : p.config->depends_on)
      if (d.value == projects_[to].name || util::normalize_repo_path(d.value) == projects_[to].path)
        return p.config->file + ":" + std::to_string(d.line) + " depends_on " + d.value;
    return p.config->file + " depends_on";
  }
  ImageIndex images(projects_, workspace);
  if (auto content = snapshot.read(p.dockerfile))
    for (const auto& use : image_uses(*content, p.config->build_args))
      if (images.find(parse_reference(use.reference).repository) == to)
        return p.dockerfile + ":" + std::to_string(use.line) + " " + use.instruction + " " + use.reference;
  return p.dockerfile;
}

void Graph::check_cycles(const git::Snapshot* snapshot, const config::WorkspaceConfig* workspace) const {
  enum Color : char { White, Grey, Black };
  std::vector<Color> color(projects_.size(), White);
  std::vector<size_t> stack;
  // Iterative DFS so that long chains cannot overflow the call stack.
  for (size_t root = 0; root < projects_.size(); ++root) {
    if (color[root] != White)
      continue;
    std::vector<std::pair<size_t, size_t>> frames{{root, 0}};
    color[root] = Grey;
    stack.push_back(root);
    while (!frames.empty()) {
      auto& [node, next] = frames.back();
      if (next < deps_[node].size()) {
        size_t dep = deps_[node][next++];
        if (color[dep] == Grey) {
          auto start = std::find(stack.begin(), stack.end(), dep);
          std::string cycle, where;
          for (auto it = start; it != stack.end(); ++it) {
            cycle += projects_[*it].name + " -> ";
            size_t next_node = it + 1 == stack.end() ? dep : *(it + 1);
            if (snapshot && workspace)
              where += "\n  " + edge_origin(*it, next_node, *snapshot, *workspace);
          }
          cycle += projects_[dep].name;
          throw UsageError("dependency cycle: " + cycle + where,
                           "remove one of these dependencies (a FROM line or a depends_on entry)");
        }
        if (color[dep] == White) {
          color[dep] = Grey;
          stack.push_back(dep);
          frames.emplace_back(dep, 0);
        }
      } else {
        color[node] = Black;
        stack.pop_back();
        frames.pop_back();
      }
    }
  }
}

std::vector<size_t> Graph::topological_order() const {
  std::vector<size_t> pending(projects_.size());
  std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
  for (size_t i = 0; i < projects_.size(); ++i) {
    pending[i] = deps_[i].size();
    if (pending[i] == 0)
      ready.push(i);
  }
  std::vector<size_t> order;
  while (!ready.empty()) {
    size_t i = ready.top();
    ready.pop();
    order.push_back(i);
    for (size_t r : rdeps_[i])
      if (--pending[r] == 0)
        ready.push(r);
  }
  return order;
}

std::vector<size_t> Graph::depths() const {
  std::vector<size_t> depth(projects_.size(), 0);
  for (size_t i : topological_order())
    for (size_t d : deps_[i])
      depth[i] = std::max(depth[i], depth[d] + 1);
  return depth;
}

std::optional<size_t> Graph::find(std::string_view name_or_path) const {
  for (size_t i = 0; i < projects_.size(); ++i)
    if (projects_[i].name == name_or_path)
      return i;
  if (auto norm = util::normalize_repo_path(name_or_path))
    for (size_t i = 0; i < projects_.size(); ++i)
      if (projects_[i].path == *norm)
        return i;
  return std::nullopt;
}

} // namespace mlrepo::project
