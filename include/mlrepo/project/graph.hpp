#pragma once
// Dependencies between projects (FROM lines and depends_on) and on plain
// repository paths (depends_on entries that are not projects).
#include "mlrepo/git/snapshot.hpp"
#include "mlrepo/project/project.hpp"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace mlrepo::project {

struct Edge {
  size_t from; // index of the dependent project
  size_t to;   // index of the project it depends on
  std::string via; // "FROM" or "depends_on"
};

class Graph {
public:
  // Reads each project's Dockerfile from the snapshot. Throws ConfigError for a
  // depends_on entry that names nothing, UsageError naming a cycle.
  Graph(std::vector<Project> projects, const git::Snapshot& snapshot);
  // A graph whose edges are already known (from the discovery cache).
  Graph(std::vector<Project> projects, std::vector<Edge> edges,
        std::vector<std::vector<std::string>> path_deps);

  const std::vector<Project>& projects() const { return projects_; }
  const std::vector<Edge>& edges() const { return edges_; }
  // How `from` depends on `to` ("FROM" or "depends_on"); empty if it does not.
  std::string via(size_t from, size_t to) const;
  // Indexes of the projects `i` depends on directly.
  const std::vector<size_t>& dependencies(size_t i) const { return deps_[i]; }
  const std::vector<size_t>& dependents(size_t i) const { return rdeps_[i]; }
  // depends_on entries of project `i` that are repository paths, not projects.
  const std::vector<std::string>& path_dependencies(size_t i) const { return path_deps_[i]; }
  // Every project after everything it depends on; ties in path order.
  std::vector<size_t> topological_order() const;

  // Finds a project by name or repo-relative path.
  std::optional<size_t> find(std::string_view name_or_path) const;

private:
  void check_cycles() const;
  void index_edges();

  std::vector<Project> projects_;
  std::vector<Edge> edges_;
  std::vector<std::vector<size_t>> deps_;
  std::vector<std::vector<size_t>> rdeps_;
  std::vector<std::vector<std::string>> path_deps_;
  std::unordered_map<uint64_t, size_t> edge_index_; // (from << 32 | to) -> edge
};

} // namespace mlrepo::project
