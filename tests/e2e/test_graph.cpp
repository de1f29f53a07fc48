#include "support/repo.hpp"

#include "mlrepo/util/fs.hpp"

#include <algorithm>
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

TEST_CASE("graph and list --json show path dependencies: depends_on paths and COPY inputs", "[graph]") {
  GitRepo r;
  r.write("libs/common/x.py", "\n");
  r.write("data/a.csv", "\n");
  r.write("app/Dockerfile", "FROM scratch\n");
  r.write("app/mlrepo.yaml", "depends_on: [libs/common]\n");
  r.write("api/Dockerfile", "FROM scratch\nCOPY data/*.csv /d/\n");
  r.write("api/mlrepo.yaml", "context: ..\n");
  r.commit();
  auto list = r.mlrepo({"list", "--json"}).json();
  nlohmann::json app, api;
  for (const auto& p : list["projects"])
    (p["name"] == "app" ? app : api) = p;
  REQUIRE(app["inputs"].size() == 1);
  CHECK(app["inputs"][0]["path"] == "libs/common");
  CHECK(app["inputs"][0]["origin"] == "depends_on libs/common");
  REQUIRE(api["inputs"].size() == 1);
  CHECK(api["inputs"][0]["path"] == "data/*.csv");
  CHECK(api["inputs"][0]["glob"] == true);
  CHECK_THAT(api["inputs"][0]["origin"].get<std::string>(), Contains("api/Dockerfile:2"));

  auto graph = r.mlrepo({"graph", "--format", "json"}).json();
  bool found = false;
  for (const auto& n : graph["nodes"])
    if (n["name"] == "app")
      found = n["inputs"] == app["inputs"];
  CHECK(found);
  auto dot = r.mlrepo({"graph"});
  CHECK_THAT(dot.out, Contains(R"("path:libs/common" [shape=folder, label="libs/common"];)") &&
                          Contains(R"("app" -> "path:libs/common" [style=dashed, label="depends_on")") &&
                          Contains(R"("api" -> "path:data/*.csv" [style=dashed, label="COPY")"));
}

TEST_CASE("graph --format dot: Graphviz's language, read back by pydot, holds the JSON graph's nodes and edges",
          "[graph]") {
  GitRepo r;
  r.write("images/ml-base/Dockerfile", "FROM scratch\n");
  r.write("train/Dockerfile", "FROM ml-base\nCOPY data/*.csv /d/\n");
  r.write("train/mlrepo.yaml", "context: ..\ndepends_on: [libs/common]\n");
  r.write("libs/common/x.py", "\n");
  r.write("data/a.csv", "\n");
  r.write("serve/Dockerfile", "FROM scratch\nCOPY --from=train /m /m\n");
  r.commit();
  auto dot = r.mlrepo({"graph", "--format", "dot"});
  INFO(dot.err);
  REQUIRE(dot.code == 0);
  CHECK(dot.out == r.mlrepo({"graph"}).out); // dot is the default
  // pydot (PyPI) parses the output as Graphviz does; the script prints each
  // project node and edge, which must be exactly the JSON graph's.
  TempDir tmp;
  mlrepo::util::write_file_atomic(tmp.path() / "graph.dot", dot.out);
  mlrepo::util::write_file_atomic(tmp.path() / "read.py",
                                  "import json, sys, pydot\n"
                                  "(g,) = pydot.graph_from_dot_file(sys.argv[1])\n"
                                  "u = lambda s: s.strip('\"')\n"
                                  "print(json.dumps({'directed': g.get_type() == 'digraph',\n"
                                  "  'nodes': sorted(u(n.get_name()) for n in g.get_nodes() if n.get_name() not in "
                                  "('node', 'edge', 'graph')),\n"
                                  "  'edges': sorted([u(e.get_source()), u(e.get_destination()), "
                                  "u(e.get('label') or '')] for e in g.get_edges())}))\n");
  auto read = run_program({std::string(MLREPO_TOOLS_DIR) + "/python", (tmp.path() / "read.py").string(),
                           (tmp.path() / "graph.dot").string()},
                          tmp.path());
  INFO(read.err);
  REQUIRE(read.code == 0);
  auto parsed = json::parse(read.out);
  CHECK(parsed["directed"] == true);
  auto graph = r.mlrepo({"graph", "--format", "json"}).json();
  std::vector<std::string> nodes;
  std::vector<std::vector<std::string>> edges;
  for (const auto& n : graph["nodes"]) {
    nodes.push_back(n["name"]);
    for (const auto& in : n["inputs"]) {
      nodes.push_back("path:" + in["path"].get<std::string>());
      std::string origin = in["origin"];
      edges.push_back({n["name"], "path:" + in["path"].get<std::string>(), origin.substr(0, origin.find(' '))});
    }
  }
  for (const auto& e : graph["edges"])
    edges.push_back({e["from"], e["to"], e["via"]});
  std::sort(nodes.begin(), nodes.end());
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  std::sort(edges.begin(), edges.end());
  CHECK(parsed["nodes"] == json(nodes));
  CHECK(parsed["edges"] == json(edges));
  CHECK(edges.size() == 4); // train FROM ml-base, serve COPY --from train, and train's two paths

  auto bad = r.mlrepo({"graph", "--format", "svg"});
  CHECK(bad.code == 2);
  CHECK_THAT(bad.err, Contains("--format") && Contains("dot"));
}
