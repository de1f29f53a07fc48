#pragma once
// Which projects a change touches, and why.
#include "mlrepo/changes/selection.hpp"
#include "mlrepo/git/repository.hpp"
#include "mlrepo/git/snapshot.hpp"
#include "mlrepo/git/status.hpp"
#include "mlrepo/project/graph.hpp"

#include <string>
#include <vector>

namespace mlrepo::changes {

struct Reason {
  std::string kind; // file, dependency, global, uncommitted
  std::string detail;
};

struct ChangedProject {
  size_t project; // index into the graph's projects
  std::vector<Reason> reasons;
};

struct RemovedProject {
  std::string name;
  std::string path;
};

struct ChangeSet {
  std::optional<std::string> base; // merge-base SHA; unset when everything counts
  std::string head;
  std::vector<ChangedProject> changed; // sorted by project path
  std::vector<RemovedProject> removed; // sorted by path
};

// How many reasons of one kind a project lists before summarising the rest.
inline constexpr size_t kMaxReasonsPerKind = 20;

// `graph` and `snapshot` must describe the head side: the work tree when the
// selection counts uncommitted work, else the head commit. A file counts for
// a project only when its build can see it (project/dockerignore.hpp).
ChangeSet compute_changes(const git::Repository& repo, const config::WorkspaceConfig& ws,
                          const project::Graph& graph, const git::Snapshot& snapshot,
                          const Selection& selection);

// Every path that differs between the head commit and the work tree: staged,
// unstaged and untracked-but-not-ignored (git/status.hpp), sorted.
std::vector<git::WorktreeChange> uncommitted_changes(const git::Repository& repo, const git_oid& head);

} // namespace mlrepo::changes
