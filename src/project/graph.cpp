#include "mlrepo/project/graph.hpp"

#include "mlrepo/project/dockerfile.hpp"
#include "mlrepo/project/naming.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"

#include <algorithm>
#include <queue>
#include <spdlog/spdlog.h>
#include <unordered_map>

namespace mlrepo::project {

Graph::Graph(std::vector<Project> projects, const git::Snapshot& snapshot)
    : projects_(std::move(projects)), deps_(projects_.size()), rdeps_(projects_.size()),
      path_deps_(projects_.size()) {
  std::unordered_map<std::string, size_t> by_image, by_name, by_path;
  for (size_t i = 0; i < projects_.size(); ++i) {
    by_image.emplace(image_name_of(projects_[i].image), i);
    by_name.emplace(projects_[i].name, i);
    by_path.emplace(projects_[i].path, i);
  }
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
      if (dep.value.find('/') == std::string::npos)
        if (auto it = by_name.find(dep.value); it != by_name.end())
          target = it->second;
      std::optional<std::string> path;
      if (!target) {
        path = util::normalize_repo_path(dep.value);
        if (!path || dep.value.empty() || dep.value.front() == '/')
          throw ConfigError(cfg.file, dep.line,
                            "'depends_on' entry '" + dep.value + "' leaves the repository",
                            "use a repository-relative path or a project name");
        if (auto it = by_path.find(*path); it != by_path.end())
          target = it->second;
      }
      if (target) {
        if (*target == i)
          throw ConfigError(cfg.file, dep.line, "project '" + p.name + "' lists itself in 'depends_on'");
        add_edge(i, *target, "depends_on");
      } else if (path->empty() || snapshot.exists(*path)) {
        path_deps_[i].push_back(*path);
      } else {
        throw ConfigError(cfg.file, dep.line,
                          "'depends_on' entry '" + dep.value +
                              "' is neither a project name nor an existing path",
                          "list a project's name or path, or a file or directory in the repository");
      }
    }
    auto content = snapshot.read(p.dockerfile);
    if (!content)
      continue;
    for (const auto& use : image_uses(*content, cfg.build_args)) {
      auto it = by_image.find(use.image_name);
      if (it == by_image.end())
        continue;
      if (use.pinned) {
        spdlog::debug("{}:{}: {} {} is pinned by digest, so it is the published image, not "
                      "project '{}' from this tree",
                      p.dockerfile, use.line, use.instruction, use.reference,
                      projects_[it->second].name);
        continue;
      }
      if (it->second == i) {
        spdlog::debug("{}:{}: {} {} names this project's own image; not a dependency",
                      p.dockerfile, use.line, use.instruction, use.reference);
        continue;
      }
      add_edge(i, it->second, "FROM");
    }
  }
  index_edges();
  check_cycles();
}

Graph::Graph(std::vector<Project> projects, std::vector<Edge> edges,
             std::vector<std::vector<std::string>> path_deps)
    : projects_(std::move(projects)), edges_(std::move(edges)), deps_(projects_.size()),
      rdeps_(projects_.size()), path_deps_(std::move(path_deps)) {
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

void Graph::check_cycles() const {
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
          std::string cycle;
          for (auto it = start; it != stack.end(); ++it)
            cycle += projects_[*it].name + " -> ";
          cycle += projects_[dep].name;
          throw UsageError("dependency cycle: " + cycle,
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
