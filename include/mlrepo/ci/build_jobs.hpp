#pragma once
// The matrix workflow's build jobs: one per dependency depth, each a matrix
// of the changed projects at that depth, so every image builds once and after
// what it is built FROM. A depth with more projects than GitHub allows in one
// matrix is split into shards. The generator (which knows the whole graph)
// and `mlrepo changed --github-output` (which knows what changed) share this
// layout, so a workflow that `ci generate --check` calls current has a job
// for every matrix `changed` can write.
#include "mlrepo/changes/changes.hpp"
#include "mlrepo/project/graph.hpp"

#include <string>
#include <vector>

namespace mlrepo::ci {

// GitHub refuses a matrix of more than 256 jobs.
inline constexpr size_t kMaxMatrixJobs = 256;

struct BuildJob {
  size_t depth = 0;
  size_t shard = 0;
  size_t shards = 1;           // of this depth
  std::string id() const;      // job id: build-0, or build-0-1 when the depth has shards
  std::string output() const;  // the changes job's output holding its matrix: build_0_0
};

// Every build job the graph can need, by depth then shard.
std::vector<BuildJob> build_jobs(const project::Graph& graph);

// The GITHUB_OUTPUT lines `build_D_S={"include":[{"project","path",
// "timeout_minutes"}]}`, one per job with changed projects (a job without one
// finds its output empty); projects with `ci.enabled: false` are left out.
std::string build_job_outputs(const project::Graph& graph, const changes::ChangeSet& set);

} // namespace mlrepo::ci
