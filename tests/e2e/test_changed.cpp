#include "support/repo.hpp"

#include "mlrepo/util/fs.hpp"

#include <catch2/catch.hpp>

using namespace mlrepo::test;
using Catch::Contains;
using Lines = std::vector<std::string>;
using nlohmann::json;

namespace {

// Three projects: app builds FROM base; tool stands alone.
void three_projects(const GitRepo& r) {
  r.write("mlrepo.yaml", "registry: localhost:5000\n");
  r.write("images/base/Dockerfile", "FROM scratch\n");
  r.write("projects/app/Dockerfile", "FROM localhost:5000/base:latest\n");
  r.write("projects/app/src/main.py", "print(1)\n");
  r.write("projects/tool/Dockerfile", "FROM scratch\n");
  r.write("projects/tool/run.sh", "echo\n");
  r.commit("initial");
}

Lines changed(const GitRepo& r, std::vector<std::string> args = {}, const Env& env = {}) {
  args.insert(args.begin(), "changed");
  auto run = r.mlrepo(args, env);
  INFO(run.err);
  REQUIRE(run.code == 0);
  return run.lines();
}

json reasons_of(const json& j, const std::string& name) {
  for (const auto& c : j["changed"])
    if (c["name"] == name)
      return c["reasons"];
  return json();
}

} // namespace

TEST_CASE("three-dot: only what the head changed since the merge-base", "[changed]") {
  GitRepo r;
  three_projects(r);
  r.git({"checkout", "-q", "-b", "feature"});
  r.write("projects/tool/run.sh", "echo 2\n");
  r.commit("tool");
  r.git({"checkout", "-q", "main"});
  r.write("images/base/README", "x");
  r.commit("main moves on");
  r.git({"checkout", "-q", "feature"});
  CHECK(changed(r, {"--base", "main"}) == Lines{"tool"});
  // Default outside CI: merge-base with main, plus uncommitted work.
  CHECK(changed(r) == Lines{"tool"});
}

TEST_CASE("dependencies propagate transitively, with reasons", "[changed]") {
  GitRepo r;
  three_projects(r);
  r.write("projects/leaf/Dockerfile", "FROM app\n");
  std::string base = r.commit("leaf");
  r.write("images/base/Dockerfile", "FROM scratch\nLABEL v=2\n");
  r.commit();
  auto run = r.mlrepo({"changed", "--base", base, "--json"});
  REQUIRE(run.code == 0);
  auto j = run.json();
  CHECK(j["base"] == base);
  CHECK(j["head"] == r.head());
  Lines names;
  for (const auto& c : j["changed"])
    names.push_back(c["name"]);
  CHECK(names == Lines{"base", "app", "leaf"}); // sorted by path
  CHECK(reasons_of(j, "base") == json::array({{{"kind", "file"}, {"detail", "images/base/Dockerfile"}}}));
  CHECK(reasons_of(j, "app") == json::array({{{"kind", "dependency"}, {"detail", "base (FROM)"}}}));
  CHECK(reasons_of(j, "leaf") == json::array({{{"kind", "dependency"}, {"detail", "app (FROM)"}}}));
  CHECK(j["removed"] == json::array());
}

TEST_CASE("a file in a nested project changes it and every enclosing project whose build sees it", "[changed]") {
  GitRepo r;
  r.write("outer/Dockerfile", "FROM scratch\nCOPY . /\n");
  r.write("outer/inner/Dockerfile", "FROM scratch\n");
  r.write("outer/inner/a.py", "");
  r.write("outer/inner/deep/Dockerfile", "FROM scratch\n");
  r.write("outer/inner/deep/d.py", "");
  std::string base = r.commit();
  // outer's build context holds outer/inner/a.py: both images move.
  r.write("outer/inner/a.py", "1");
  r.commit();
  CHECK(changed(r, {"--base", base}) == Lines{"outer", "inner"});
  auto doc = r.mlrepo({"changed", "--base", base, "--json"}).json();
  REQUIRE(doc["changed"].size() == 2);
  CHECK(doc["changed"][0]["name"] == "outer");
  CHECK(doc["changed"][0]["reasons"][0]["detail"] ==
        "outer/inner/a.py (in the nested project inner, which outer's build sees)");
  CHECK(doc["changed"][1]["reasons"][0]["detail"] == "outer/inner/a.py");
  // Two levels: all three; the deepest still owns the file.
  r.write("outer/inner/deep/d.py", "1");
  CHECK(changed(r, {"--base", "HEAD"}) == Lines{"outer", "inner", "deep"});
  CHECK(r.mlrepo({"changed", "--base", "HEAD", "--json"}).json()["changed"][0]["reasons"][0]["detail"] ==
        "outer/inner/deep/d.py (in the nested project deep, which outer's build sees)");
  r.commit();
  // The outer project's ignore file leaves the nested one out: only it.
  r.write("outer/.dockerignore", "inner\n");
  r.commit();
  std::string ignored = r.head();
  r.write("outer/inner/a.py", "2");
  CHECK(changed(r, {"--base", ignored}) == Lines{"inner"});
  r.commit();
  r.write("outer/b.py", "1");
  r.commit();
  CHECK(changed(r, {"--base", ignored}) == Lines{"outer", "inner"});
}

TEST_CASE("renames count on both sides, deleted projects are removed", "[changed]") {
  GitRepo r;
  three_projects(r);
  std::string base = r.head();
  r.git({"mv", "projects/tool/run.sh", "projects/app/run.sh"});
  r.commit("move");
  auto j = r.mlrepo({"changed", "--base", base, "--json"}).json();
  REQUIRE(j["changed"].size() == 2);
  CHECK_THAT(reasons_of(j, "tool").dump(), Contains("renamed from projects/tool/run.sh"));

  r.git({"rm", "-q", "-r", "projects/tool"});
  r.commit("remove tool");
  j = r.mlrepo({"changed", "--base", base, "--json"}).json();
  CHECK(j["removed"] == json::array({{{"name", "tool"}, {"path", "projects/tool"}}}));
  for (const auto& c : j["changed"])
    CHECK(c["name"] != "tool");
}

TEST_CASE("depends_on paths and global triggers", "[changed]") {
  GitRepo r;
  r.write("mlrepo.yaml", "global_triggers: ['ci/*.txt']\n");
  r.write("libs/common/util.py", "");
  r.write("a/Dockerfile", "FROM scratch\n");
  r.write("a/mlrepo.yaml", "depends_on: [libs/common]\n");
  r.write("b/Dockerfile", "FROM scratch\n");
  std::string base = r.commit();
  r.write("libs/common/util.py", "x = 1\n");
  r.commit();
  auto j = r.mlrepo({"changed", "--base", base, "--json"}).json();
  REQUIRE(j["changed"].size() == 1);
  CHECK(reasons_of(j, "a") ==
        json::array({{{"kind", "dependency"}, {"detail", "libs/common/util.py (depends_on libs/common)"}}}));
  r.write("ci/constraints.txt", "numpy==2\n");
  r.write("ci/deep/other.txt", "");
  r.commit();
  j = r.mlrepo({"changed", "--base", "HEAD~1", "--json"}).json();
  REQUIRE(j["changed"].size() == 2);
  CHECK(reasons_of(j, "b") ==
        json::array({{{"kind", "global"}, {"detail", "ci/constraints.txt matches global trigger 'ci/*.txt'"}}}));
}

TEST_CASE("uncommitted work: staged, unstaged and untracked, never ignored", "[changed]") {
  GitRepo r;
  r.write(".gitignore", "*.ckpt\n");
  three_projects(r);
  CHECK(changed(r).empty());
  r.write("projects/tool/model.ckpt", "weights");
  CHECK(changed(r).empty());
  r.write("projects/tool/new.py", "");
  CHECK(changed(r) == Lines{"tool"});
  CHECK(changed(r, {"--no-uncommitted"}).empty());
  r.write("images/base/Dockerfile", "FROM scratch\nLABEL x=1\n");
  r.git({"add", "images/base/Dockerfile"});
  auto j = r.mlrepo({"changed", "--json"}).json();
  CHECK(reasons_of(j, "base") ==
        json::array({{{"kind", "uncommitted"}, {"detail", "images/base/Dockerfile"}}}));
  CHECK(j["changed"].size() == 3);
  // In CI uncommitted work is off unless asked for.
  CHECK(changed(r, {}, {{"CI", "true"}}).empty());
  CHECK(changed(r, {"--uncommitted"}, {{"CI", "true"}}).size() == 3);
  auto bad = r.mlrepo({"changed", "--uncommitted", "--head", "HEAD~0"});
  CHECK(bad.code == 2);
  CHECK_THAT(bad.err, Contains("--uncommitted") && Contains("--head"));
  CHECK(bad.out.empty());
}

TEST_CASE("a project deleted in the work tree is removed", "[changed]") {
  GitRepo r;
  three_projects(r);
  r.remove("projects/tool");
  auto j = r.mlrepo({"changed", "--json"}).json();
  CHECK(j["removed"] == json::array({{{"name", "tool"}, {"path", "projects/tool"}}}));
}

TEST_CASE("a submodule pointer change counts for its project", "[changed]") {
  GitRepo sub;
  sub.write("lib.py", "1");
  sub.commit();
  GitRepo r;
  three_projects(r);
  r.git({"-c", "protocol.file.allow=always", "submodule", "add", "-q", sub.path().string(),
         "projects/app/vendor"});
  std::string base = r.commit("add submodule");
  sub.write("lib.py", "2");
  sub.commit();
  r.git({"-C", "projects/app/vendor", "pull", "-q", "origin", "main"});
  r.commit("bump submodule");
  auto j = r.mlrepo({"changed", "--base", base, "--json"}).json();
  REQUIRE(j["changed"].size() == 1);
  CHECK(reasons_of(j, "app") == json::array({{{"kind", "file"}, {"detail", "projects/app/vendor"}}}));
}

TEST_CASE("the default branch comes from origin when there is one", "[changed]") {
  GitRepo origin;
  three_projects(origin);
  GitRepo clone(origin, {});
  clone.git({"checkout", "-q", "-b", "work"});
  clone.write("projects/tool/run.sh", "echo 3\n");
  clone.commit();
  // A local main that moved on must not matter: origin/main wins.
  clone.git({"branch", "-f", "main", "HEAD"});
  CHECK(changed(clone) == Lines{"tool"});

  SECTION("detached HEAD with only origin refs") {
    clone.git({"checkout", "-q", "--detach", "HEAD"});
    clone.git({"branch", "-D", "main", "work"});
    CHECK(changed(clone) == Lines{"tool"});
  }
  SECTION("workspace default_branch wins") {
    origin.git({"branch", "trunk", "HEAD"});
    clone.git({"fetch", "-q", "origin"});
    clone.write("mlrepo.yaml", "registry: localhost:5000\ndefault_branch: trunk\n");
    clone.commit();
    CHECK(changed(clone, {"-v"}) == Lines{"tool"});
    auto run = clone.mlrepo({"changed"});
    CHECK_THAT(run.err, Contains("origin/trunk"));
  }
}

TEST_CASE("unknown revisions fail and name themselves", "[changed]") {
  GitRepo r;
  three_projects(r);
  auto run = r.mlrepo({"changed", "--base", "no-such-branch"});
  CHECK(run.code == 2);
  CHECK_THAT(run.err, Contains("no-such-branch"));
  CHECK(run.out.empty());
  run = r.mlrepo({"changed", "--head", "nope"});
  CHECK(run.code == 2);
  CHECK_THAT(run.err, Contains("nope"));
}

TEST_CASE("shallow clones: exit 3 with what to fetch, or everything on request", "[changed]") {
  GitRepo origin;
  three_projects(origin);
  for (int i = 0; i < 3; ++i) {
    origin.write("projects/tool/run.sh", "echo " + std::to_string(i) + "\n");
    origin.commit();
  }
  std::string old = origin.git({"rev-parse", "HEAD~3"}).substr(0, 40);
  GitRepo clone(origin, {"--depth", "1", "--no-local"});
  auto run = clone.mlrepo({"changed", "--base", old});
  CHECK(run.code == 3);
  CHECK_THAT(run.err, Contains(old) && Contains("fetch-depth: 0"));
  CHECK(run.out.empty());
  run = clone.mlrepo({"changed", "--base", old, "--all-if-base-missing"});
  CHECK(run.code == 0);
  CHECK(run.lines() == Lines{"base", "app", "tool"});
  CHECK_THAT(run.err, Contains("EVERY project"));
  // The base exists but the merge-base lies beyond the shallow boundary.
  clone.git({"fetch", "-q", "--depth", "1", "origin", old});
  run = clone.mlrepo({"changed", "--base", old});
  CHECK(run.code == 3);
  CHECK_THAT(run.err, Contains("shallow"));
}

TEST_CASE("output formats and GitHub outputs", "[changed]") {
  GitRepo r;
  three_projects(r);
  r.write("projects/tool/run.sh", "echo 2\n");
  r.write("projects/app/src/main.py", "print(2)\n");
  r.commit();
  CHECK(changed(r, {"--base", "HEAD~1", "--format", "paths"}) == Lines{"projects/app", "projects/tool"});
  CHECK(changed(r, {"--base", "HEAD~1", "--format", "github-matrix"}) ==
        Lines{R"({"include":[{"project":"app","path":"projects/app"},{"project":"tool","path":"projects/tool"}]})"});
  TempDir tmp;
  auto out = tmp.path() / "github_output";
  mlrepo::util::append_file(out, "earlier=1\n");
  auto run = r.mlrepo({"changed", "--base", "HEAD~1", "--github-output"}, {{"GITHUB_OUTPUT", out.string()}});
  REQUIRE(run.code == 0);
  CHECK(*mlrepo::util::read_file(out) ==
        "earlier=1\nprojects=[\"app\",\"tool\"]\n"
        "matrix={\"include\":[{\"project\":\"app\",\"path\":\"projects/app\"},"
        "{\"project\":\"tool\",\"path\":\"projects/tool\"}]}\nany_changed=true\n"
        // The matrix workflow's build jobs, by dependency depth: app builds FROM tool.
        "build_0_0={\"include\":[{\"project\":\"tool\",\"path\":\"projects/tool\",\"timeout_minutes\":60}]}\n"
        "build_1_0={\"include\":[{\"project\":\"app\",\"path\":\"projects/app\",\"timeout_minutes\":60}]}\n");
  CHECK(r.mlrepo({"changed", "--base", "HEAD~1", "--exit-code"}).code == 1);
  CHECK(r.mlrepo({"changed", "--base", "HEAD", "--no-uncommitted", "--exit-code"}).code == 0);
  auto empty = r.mlrepo({"changed", "--base", "HEAD", "--no-uncommitted", "--format", "github-matrix"});
  CHECK(empty.out == "{\"include\":[]}\n");
  auto no_output = r.mlrepo({"changed", "--github-output"});
  CHECK(no_output.code == 2);
  CHECK_THAT(no_output.err, Contains("GITHUB_OUTPUT"));
}

TEST_CASE("changed works from a subdirectory and explains itself with -v", "[changed]") {
  GitRepo r;
  three_projects(r);
  r.write("projects/tool/run.sh", "echo 9\n");
  r.commit();
  auto run = r.mlrepo({"changed", "--base", "HEAD~1", "-v"}, {}, "projects/app/src");
  CHECK(run.lines() == Lines{"tool"});
  CHECK_THAT(run.err, Contains("tool changed: file: projects/tool/run.sh"));
}

TEST_CASE("a Dockerfile outside the project counts, a wider context does not", "[changed]") {
  GitRepo r;
  r.write("docker/python.Dockerfile", "FROM scratch\n");
  r.write("docker/other.txt", "");
  r.write("app/Dockerfile", "FROM scratch\n");
  r.write("app/mlrepo.yaml", "dockerfile: ../docker/python.Dockerfile\ncontext: ..\n");
  r.write("tool/Dockerfile", "FROM scratch\n");
  std::string base = r.commit();
  r.write("docker/other.txt", "1");
  r.commit();
  CHECK(changed(r, {"--base", base}).empty());
  r.write("docker/python.Dockerfile", "FROM scratch\nLABEL a=b\n");
  r.commit();
  auto j = r.mlrepo({"changed", "--base", base, "--json"}).json();
  REQUIRE(j["changed"].size() == 1);
  CHECK(reasons_of(j, "app") ==
        json::array({{{"kind", "file"}, {"detail", "docker/python.Dockerfile (the project's Dockerfile)"}}}));
}

TEST_CASE("long reason lists are summarised", "[changed]") {
  GitRepo r;
  r.write("a/Dockerfile", "FROM scratch\n");
  std::string base = r.commit();
  for (int i = 0; i < 25; ++i)
    r.write("a/f" + std::to_string(i), "x");
  r.commit();
  auto j = r.mlrepo({"changed", "--base", base, "--json"}).json();
  auto reasons = reasons_of(j, "a");
  REQUIRE(reasons.size() == 21);
  CHECK(reasons[20]["detail"] == "and 5 more");
}
