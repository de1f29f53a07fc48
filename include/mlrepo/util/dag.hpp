#pragma once
// A dependency-ordered scheduler: each node runs on a thread of its own once
// every node it depends on succeeded, at most `jobs` at a time. A failure
// blocks what depends on it and (without keep_going) starts nothing new; an
// interrupt starts nothing new. Used by the image builder and by pipelines.
#include <functional>
#include <vector>

namespace mlrepo::util {

enum class NodeState {
  Succeeded,
  Failed,
  Stopped,    // ran, and ended neither way (interrupted): dependents never start
  Blocked,    // not run: a node it depends on failed or was blocked
  NotStarted, // not run: an earlier failure or an interrupt came first
};

struct DagOptions {
  int jobs = 1;
  bool keep_going = false;
  // Asked before each start; true stops new starts (default: the interrupt flag).
  std::function<bool()> interrupted;
};

struct DagCallbacks {
  // Runs node i (on a worker thread); returns Succeeded, Failed or Stopped.
  std::function<NodeState(size_t node)> run;
  // Node i will not run because `cause` failed or was blocked (scheduler thread).
  std::function<void(size_t node, size_t cause)> blocked;
};

// deps[i]: the nodes node i needs first (indices below deps.size(); no cycles).
// Returns every node's final state; returns only once every started node ended.
std::vector<NodeState> run_dag(const std::vector<std::vector<size_t>>& deps, const DagOptions& options,
                               const DagCallbacks& callbacks);

} // namespace mlrepo::util
