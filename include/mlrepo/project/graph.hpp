#pragma once
// Dependencies between projects (FROM lines and depends_on) and on plain
// repository paths (depends_on entries that are not projects).
#include "mlrepo/git/snapshot.hpp"
#include "mlrepo/project/project.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace mlrepo::project {

// A repository path (or glob) whose changes change a project: a depends_on
// entry that is not a project, or what a COPY/ADD takes from a build context
// wider than the project's directory.
struct PathInput {
  std::string path;   // repo-relative; "" is the whole repository
  std::string origin; // for reasons: "depends_on libs/x", "COPY libs/x at projects/a/Dockerfile:5"
  bool glob = false;  // `path` is a pattern (GitHub `paths:` semantics)
  bool operator==(const PathInput&) const = default;
};

// A FROM (or COPY --from, RUN --mount from=) whose last component equals a
// project's image name though the reference is not that project's image.
struct NearMiss {
  enum class Kind {
    Elsewhere, // another registry or namespace, same image name
    Pinned,    // a project's image, pinned by digest: the published one
    Typo,      // in the workspace's own namespace, a name no project has
    NoPrefix,  // the project's name without the workspace image_prefix
    OwnBase,   // the project builds FROM its own repository: a push would overwrite its base's tags
  };
  Kind kind = Kind::Elsewhere;
  std::string dockerfile; // repo-relative
  int line = 0;
  std::string instruction;
  std::string reference;
  size_t project; // the project it resembles (OwnBase: itself)
  std::optional<std::string> registry; // Elsewhere: the `registry:` that would make it one
};

// A project built FROM its own image repository: its pushes would overwrite
// the tags of the image it builds on.
struct OwnBaseUse {
  size_t project;
  int line = 0;          // in its Dockerfile
  std::string reference; // as written, after ARG expansion
  bool operator==(const OwnBaseUse&) const = default;
};

struct NearMiss;
// A project built FROM its own repository, as a near miss to report.
NearMiss own_base_miss(const class Graph& graph, const OwnBaseUse& use);

struct Edge {
  size_t from; // index of the dependent project
  size_t to;   // index of the project it depends on
  std::string via; // "FROM" or "depends_on"
};

class Graph {
public:
  // Reads each project's Dockerfile from the snapshot. Throws ConfigError for a
  // depends_on entry that names nothing or is ambiguous, UsageError naming a
  // cycle.
  Graph(std::vector<Project> projects, const git::Snapshot& snapshot,
        const config::WorkspaceConfig& workspace);
  // A graph whose edges are already known (from the discovery cache).
  Graph(std::vector<Project> projects, std::vector<Edge> edges,
        std::vector<std::vector<PathInput>> path_deps, std::vector<OwnBaseUse> own_base = {});

  const std::vector<Project>& projects() const { return projects_; }
  const std::vector<Edge>& edges() const { return edges_; }
  const std::vector<OwnBaseUse>& own_base_uses() const { return own_base_; }
  // How `from` depends on `to` ("FROM" or "depends_on"); empty if it does not.
  std::string via(size_t from, size_t to) const;
  // Indexes of the projects `i` depends on directly.
  const std::vector<size_t>& dependencies(size_t i) const { return deps_[i]; }
  const std::vector<size_t>& dependents(size_t i) const { return rdeps_[i]; }
  // Repository paths project `i` depends on that are not projects: depends_on
  // entries, and COPY/ADD sources from a context wider than its directory.
  const std::vector<PathInput>& path_dependencies(size_t i) const { return path_deps_[i]; }
  // Every project after everything it depends on; ties in path order.
  std::vector<size_t> topological_order() const;
  // Each project's dependency depth: 0 when it depends on no project, else
  // one more than its deepest dependency. Projects of one depth never depend
  // on each other, so each depth can build all at once.
  std::vector<size_t> depths() const;

  // Finds a project by name or repo-relative path.
  std::optional<size_t> find(std::string_view name_or_path) const;

private:
  // Throws UsageError naming a cycle; with the snapshot, each edge's line.
  void check_cycles(const git::Snapshot* snapshot = nullptr, const config::WorkspaceConfig* workspace = nullptr) const;
  std::string edge_origin(size_t from, size_t to, const git::Snapshot& snapshot,
                          const config::WorkspaceConfig& workspace) const;
  void index_edges();

  std::vector<Project> projects_;
  std::vector<Edge> edges_;
  std::vector<OwnBaseUse> own_base_;
  std::vector<std::vector<size_t>> deps_;
  std::vector<std::vector<size_t>> rdeps_;
  std::vector<std::vector<PathInput>> path_deps_;
  std::unordered_map<uint64_t, size_t> edge_index_; // (from << 32 | to) -> edge
};

// Every image reference in the projects' Dockerfiles that resembles a project
// without being its image (for `graph -v` and `doctor`).
std::vector<NearMiss> near_misses(const Graph& graph, const git::Snapshot& snapshot,
                                  const config::WorkspaceConfig& workspace);

} // namespace mlrepo::project
