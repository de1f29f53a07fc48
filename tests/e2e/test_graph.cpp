#include "support/repo.hpp"

#include <catch2/catch.hpp>

using namespace mlrepo::test;
using Catch::Contains;
using nlohmann::json;


TEST_CASE("FROM lines make dependencies by local name, whatever the tag", "[graph]") {
  GitRepo r;
  r.write("images/ml-base/Dockerfile", "FROM scratch\n");
  r.write("a/Dockerfile", "FROM ml-base:1.2 AS b\nFROM b\n");
  r.write("c/Dockerfile", "FROM scratch\nCOPY --from=a:latest /x /x\n");
  r.write("d/Dockerfile", "FROM ml-base@sha256:0123\n");
  r.commit();
  CHECK(graph_edges(r) == json::array({graph_edge("a", "ml-base", "FROM"), graph_edge("c", "a", "FROM")}));
}

TEST_CASE("build_args override ARG defaults in FROM", "[graph]") {
  GitRepo r;
  r.write("one/Dockerfile", "FROM scratch\n");
  r.write("two/Dockerfile", "FROM scratch\n");
  r.write("app/Dockerfile", "ARG BASE=one\nFROM ${BASE}:latest\n");
  r.write("app/mlrepo.yaml", "build_args:\n  BASE: two\n");
  r.commit();
  CHECK(graph_edges(r) == json::array({graph_edge("app", "two", "FROM")}));
}

TEST_CASE("depends_on takes project names and paths", "[graph]") {
  GitRepo r;
  r.write("base/Dockerfile", "FROM scratch\n");
  r.write("tools/Dockerfile", "FROM scratch\n");
  r.write("libs/common/x.py", "");
  r.write("app/Dockerfile", "FROM scratch\n");
  r.write("app/mlrepo.yaml", "depends_on: [base, ./tools/, libs/common]\n");
  r.commit();
  CHECK(graph_edges(r) == json::array({graph_edge("app", "base", "depends_on"), graph_edge("app", "tools", "depends_on")}));
  auto dot = r.mlrepo({"graph"});
  CHECK_THAT(dot.out, Contains("digraph") && Contains("\"app\" -> \"base\" [label=\"depends_on\"]"));
}

TEST_CASE("a depends_on entry that names nothing is an error", "[graph]") {
  GitRepo r;
  r.write("app/Dockerfile", "FROM scratch\n");
  r.write("app/mlrepo.yaml", "name: app\ndepends_on:\n  - libs/typo\n");
  auto run = r.mlrepo({"graph"});
  CHECK(run.code == 2);
  CHECK_THAT(run.err, Contains("app/mlrepo.yaml:3") && Contains("libs/typo"));
  r.write("app/mlrepo.yaml", "depends_on: [../outside]\n");
  run = r.mlrepo({"list"});
  CHECK(run.code == 2);
  CHECK_THAT(run.err, Contains("leaves the repository"));
}

TEST_CASE("a dependency cycle is an error naming the cycle", "[graph]") {
  GitRepo r;
  r.write("a/Dockerfile", "FROM b\n");
  r.write("b/Dockerfile", "FROM c\n");
  r.write("c/Dockerfile", "FROM scratch\n");
  r.write("c/mlrepo.yaml", "depends_on: [a]\n");
  r.commit();
  for (auto cmd : {"graph", "list", "changed"}) {
    auto run = r.mlrepo({cmd});
    CHECK(run.code == 2);
    CHECK_THAT(run.err, Contains("a -> b -> c -> a"));
  }
}

TEST_CASE("a project FROM its own published image is no cycle", "[graph]") {
  GitRepo r;
  r.write("python/Dockerfile", "FROM python:3.11-slim\n");
  r.commit();
  CHECK(graph_edges(r) == json::array());
}
