#include "support/repo.hpp"

#include <catch2/catch.hpp>

using namespace mlrepo::test;
using Lines = std::vector<std::string>;
using nlohmann::json;

namespace {
// The bundled example monorepo, committed into a fresh repository.
void copy_example(const GitRepo& r) {
  fs::copy(fs::path(MLREPO_SOURCE_DIR) / "examples" / "monorepo", r.path(),
           fs::copy_options::recursive);
  r.commit("example");
}
} // namespace

TEST_CASE("the example monorepo: projects, graph and changes", "[example]") {
  GitRepo r;
  copy_example(r);
  auto list = r.mlrepo({"list"});
  REQUIRE(list.code == 0);
  CHECK(list.lines() == Lines{"notebook\timages/notebook", "python-base\timages/python-base",
                              "churn-model\tprojects/churn-model",
                              "demand-forecast\tprojects/demand-forecast"});
  auto edges = r.mlrepo({"graph", "--format", "json"}).json()["edges"];
  CHECK(edges.size() == 3);
  for (const auto& e : edges)
    CHECK(e["to"] == "python-base");

  r.git({"checkout", "-q", "-b", "feature"});
  r.write("libs/mlcommon/mlcommon/features.py", "# changed\n");
  r.commit();
  CHECK(r.mlrepo({"changed"}).lines() == Lines{"churn-model"});
  r.write("constraints.txt", "numpy==2.0\n");
  CHECK(r.mlrepo({"changed"}).lines().size() == 4);
}
