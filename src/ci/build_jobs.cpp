#include "mlrepo/ci/build_jobs.hpp"

#include <nlohmann/json.hpp>

namespace mlrepo::ci {

std::string BuildJob::id() const {
  return "build-" + std::to_string(depth) + (shards > 1 ? "-" + std::to_string(shard) : "");
}

std::string BuildJob::output() const {
  return "build_" + std::to_string(depth) + "_" + std::to_string(shard);
}

std::vector<BuildJob> build_jobs(const project::Graph& graph) {
  std::vector<size_t> per_depth;
  for (size_t d : graph.depths()) {
    if (d >= per_depth.size())
      per_depth.resize(d + 1, 0);
    ++per_depth[d];
  }
  std::vector<BuildJob> out;
  for (size_t d = 0; d < per_depth.size(); ++d) {
    size_t shards = (per_depth[d] + kMaxMatrixJobs - 1) / kMaxMatrixJobs;
    for (size_t s = 0; s < shards; ++s)
      out.push_back({d, s, shards});
  }
  return out;
}

std::string build_job_outputs(const project::Graph& graph, const changes::ChangeSet& set) {
  auto depths = graph.depths();
  // Changed projects come sorted by path: shards are cut in that order.
  std::vector<std::vector<size_t>> at_depth;
  for (const auto& c : set.changed) {
    if (!graph.projects()[c.project].config->ci_enabled)
      continue; // ci.enabled: false: CI builds nothing for it
    size_t d = depths[c.project];
    if (d >= at_depth.size())
      at_depth.resize(d + 1);
    at_depth[d].push_back(c.project);
  }
  std::string out;
  for (size_t d = 0; d < at_depth.size(); ++d) {
    const auto& projects = at_depth[d];
    for (size_t start = 0; start < projects.size(); start += kMaxMatrixJobs) {
      auto include = nlohmann::ordered_json::array();
      for (size_t k = start; k < std::min(projects.size(), start + kMaxMatrixJobs); ++k) {
        const auto& p = graph.projects()[projects[k]];
        include.push_back({{"project", p.name}, {"path", p.path}, {"timeout_minutes", p.config->ci_timeout_minutes}});
      }
      BuildJob job{d, start / kMaxMatrixJobs, 0};
      out += job.output() + "=" + nlohmann::ordered_json{{"include", include}}.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
    }
  }
  return out;
}

} // namespace mlrepo::ci
