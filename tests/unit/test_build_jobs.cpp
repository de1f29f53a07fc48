// The matrix workflow's job layout: dependency depths, shards of at most 256,
// and the GITHUB_OUTPUT lines `changed` writes for them.
#include "mlrepo/ci/build_jobs.hpp"
#include "mlrepo/util/image_ref.hpp"
#include "mlrepo/util/text.hpp"

#include <catch2/catch.hpp>

using namespace mlrepo;

namespace {

// Projects p0..pN-1; `edges` as (dependent, dependency).
project::Graph graph_of(size_t n, const std::vector<std::pair<size_t, size_t>>& edges) {
  std::vector<project::Project> projects;
  for (size_t i = 0; i < n; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "p%03zu", i);
    projects.push_back({name, name, std::string(name) + "/Dockerfile", name, name});
  }
  std::vector<project::Edge> es;
  for (auto [from, to] : edges)
    es.push_back({from, to, "FROM"});
  return project::Graph(std::move(projects), std::move(es), std::vector<std::vector<project::PathInput>>(n));
}

changes::ChangeSet all_changed(size_t n) {
  changes::ChangeSet set;
  for (size_t i = 0; i < n; ++i)
    set.changed.push_back({i, {}});
  return set;
}

} // namespace

TEST_CASE("depth: one more than the deepest dependency") {
  // 0 <- 1 <- 3, 0 <- 2, 2 <- 3: 3 is at depth 2 through either path.
  auto g = graph_of(5, {{1, 0}, {2, 0}, {3, 1}, {3, 2}});
  CHECK(g.depths() == std::vector<size_t>{0, 1, 1, 2, 0});
}

TEST_CASE("build jobs: one per depth, sharded above 256 projects") {
  auto small = ci::build_jobs(graph_of(3, {{1, 0}}));
  REQUIRE(small.size() == 2);
  CHECK(small[0].id() == "build-0");
  CHECK(small[1].id() == "build-1");
  CHECK(small[1].output() == "build_1_0");

  std::vector<std::pair<size_t, size_t>> edges;
  for (size_t i = 1; i <= 513; ++i)
    edges.emplace_back(i, 0);
  auto g = graph_of(514, edges);
  auto jobs = ci::build_jobs(g);
  REQUIRE(jobs.size() == 4); // depth 0, then 513 projects in 3 shards
  CHECK(jobs[1].id() == "build-1-0");
  CHECK(jobs[3].id() == "build-1-2");
  CHECK(jobs[3].output() == "build_1_2");

  auto out = ci::build_job_outputs(g, all_changed(514));
  CHECK(out.find("build_0_0={\"include\":[{\"project\":\"p000\",\"path\":\"p000\",\"timeout_minutes\":60}]}\n") == 0);
  CHECK(out.find("build_1_2={\"include\":[{\"project\":\"p513\",\"path\":\"p513\",\"timeout_minutes\":60}]}\n") != std::string::npos);
  // Nothing changed at a depth: no line, and the job's `if:` skips it.
  changes::ChangeSet one;
  one.changed.push_back({7, {}});
  CHECK(ci::build_job_outputs(g, one) == "build_1_0={\"include\":[{\"project\":\"p007\",\"path\":\"p007\",\"timeout_minutes\":60}]}\n");
  CHECK(ci::build_job_outputs(g, {}).empty());
}

TEST_CASE("strip_tag: a registry port is not a tag") {
  CHECK(util::strip_tag("localhost:5000/acme/x:content-1") == "localhost:5000/acme/x");
  CHECK(util::strip_tag("localhost:5000/acme/x") == "localhost:5000/acme/x");
  CHECK(util::strip_tag("ghcr.io/acme/x@sha256:abc") == "ghcr.io/acme/x");
  CHECK(util::strip_tag("ghcr.io/acme/x:1@sha256:abc") == "ghcr.io/acme/x");
  CHECK(util::strip_tag("python:3.11") == "python");
}

TEST_CASE("last_line: the last non-blank line") {
  CHECK(util::last_line("a\nb\n\n") == "b");
  CHECK(util::last_line("only") == "only");
  CHECK(util::last_line("\n \n").empty());
}
