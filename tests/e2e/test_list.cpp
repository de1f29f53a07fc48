#include "support/repo.hpp"

#include <catch2/catch.hpp>

using namespace mlrepo::test;
using Catch::Contains;
using Lines = std::vector<std::string>;

TEST_CASE("list finds projects at any depth, sorted by path", "[list]") {
  GitRepo r;
  r.write("teams/vision/detector/Dockerfile", "FROM scratch\n");
  r.write("images/Base-Notebook/Dockerfile", "FROM scratch\n");
  r.write("images/Base-Notebook/inner/Dockerfile", "FROM scratch\n");
  r.write("libs/common/x.py", "");
  r.write("Dockerfile", "FROM scratch\n"); // the root is no project
  r.commit();
  auto run = r.mlrepo({"list"});
  INFO(run.err);
  REQUIRE(run.code == 0);
  CHECK(run.lines() == Lines{"base-notebook\timages/Base-Notebook", "inner\timages/Base-Notebook/inner",
                             "detector\tteams/vision/detector"});
}

TEST_CASE("list sees the work tree as git does", "[list]") {
  GitRepo r;
  r.write(".gitignore", "ignored/\n");
  r.write("tracked/Dockerfile", "FROM scratch\n");
  r.write("gone/Dockerfile", "FROM scratch\n");
  r.commit();
  r.write("untracked/Dockerfile", "FROM scratch\n");
  r.write("ignored/Dockerfile", "FROM scratch\n");
  r.write(".devcontainer/Dockerfile", "FROM scratch\n");
  r.write("src/.hidden/Dockerfile", "FROM scratch\n");
  r.remove("gone");
  auto run = r.mlrepo({"list"});
  REQUIRE(run.code == 0);
  CHECK(run.lines() == Lines{"tracked\ttracked", "untracked\tuntracked"});

  SECTION("--rev shows the committed tree") {
    auto at = r.mlrepo({"list", "--rev", "HEAD"});
    REQUIRE(at.code == 0);
    CHECK(at.lines() == Lines{"gone\tgone", "tracked\ttracked"});
  }
}

TEST_CASE("symlinks are never followed", "[list]") {
  GitRepo r;
  r.write("real/Dockerfile", "FROM scratch\n");
  std::filesystem::create_directory_symlink("real", r.file("link"));
  std::filesystem::create_directories(r.file("other"));
  std::filesystem::create_symlink("../real/Dockerfile", r.file("other/Dockerfile"));
  r.commit();
  for (auto args : {std::vector<std::string>{"list"}, {"list", "--rev", "HEAD"}}) {
    auto run = r.mlrepo(args);
    REQUIRE(run.code == 0);
    CHECK(run.lines() == Lines{"real\treal"});
  }
}

TEST_CASE("exclude globs prune discovery", "[list]") {
  GitRepo r;
  r.write("mlrepo.yaml", "exclude:\n  - legacy\n  - '**/scratchpad'\n");
  r.write("legacy/old/Dockerfile", "FROM scratch\n");
  r.write("teams/a/scratchpad/Dockerfile", "FROM scratch\n");
  r.write("teams/a/Dockerfile", "FROM scratch\n");
  r.commit();
  for (auto args : {std::vector<std::string>{"list"}, {"list", "--rev", "HEAD"}}) {
    auto run = r.mlrepo(args);
    REQUIRE(run.code == 0);
    CHECK(run.lines() == Lines{"a\tteams/a"});
  }
}

TEST_CASE("list --json has the contract's shape", "[list]") {
  GitRepo r;
  r.write("mlrepo.yaml", "registry: ghcr.io/acme\nimage_prefix: ml-\n");
  r.write("base/Dockerfile", "FROM scratch\n");
  r.write("app/Dockerfile", "FROM ghcr.io/acme/ml-base:1\n");
  r.write("app/mlrepo.yaml", "name: the-app\ncontext: ..\ndockerfile: Dockerfile\n");
  r.commit();
  auto j = r.mlrepo({"list", "--json"}).json();
  REQUIRE(j["projects"].size() == 2);
  auto app = j["projects"][0];
  CHECK(app["name"] == "the-app");
  CHECK(app["path"] == "app");
  CHECK(app["dockerfile"] == "app/Dockerfile");
  CHECK(app["context"] == "."); // the repository root, as docker spells it
  CHECK(app["image"] == "ghcr.io/acme/ml-the-app");
  CHECK(app["depends_on"] == nlohmann::json::array({"base"}));
  CHECK(j["projects"][1]["depends_on"] == nlohmann::json::array());
}

TEST_CASE("name_from: path joins the path", "[list]") {
  GitRepo r;
  r.write("mlrepo.yaml", "name_from: path\n");
  r.write("teams/Vision/detector/Dockerfile", "FROM scratch\n");
  r.commit();
  CHECK(r.mlrepo({"list"}).lines() == Lines{"teams-vision-detector\tteams/Vision/detector"});
}

TEST_CASE("invalid and duplicate names are errors that say how to fix them", "[list]") {
  GitRepo r;
  SECTION("invalid default name") {
    r.write("My Model/Dockerfile", "FROM scratch\n");
    auto run = r.mlrepo({"list"});
    CHECK(run.code == 2);
    CHECK_THAT(run.err, Contains("My Model") && Contains("name:") && Contains("My Model/mlrepo.yaml"));
    CHECK(run.out.empty());
  }
  SECTION("duplicate names") {
    r.write("a/model/Dockerfile", "FROM scratch\n");
    r.write("b/model/Dockerfile", "FROM scratch\n");
    auto run = r.mlrepo({"list"});
    CHECK(run.code == 2);
    CHECK_THAT(run.err, Contains("a/model") && Contains("b/model") && Contains("name:") &&
                            Contains("name_from: path"));
  }
  SECTION("invalid configured name") {
    r.write("a/Dockerfile", "FROM scratch\n");
    r.write("a/mlrepo.yaml", "\nname: Bad_Name\n");
    auto run = r.mlrepo({"list"});
    CHECK(run.code == 2);
    CHECK_THAT(run.err, Contains("a/mlrepo.yaml:2"));
  }
}

TEST_CASE("config errors name file, line and key", "[list]") {
  GitRepo r;
  r.write("a/Dockerfile", "FROM scratch\n");
  SECTION("unknown key") {
    r.write("a/mlrepo.yaml", "name: a\nbuild-args: {}\n");
    auto run = r.mlrepo({"list"});
    CHECK(run.code == 2);
    CHECK_THAT(run.err, Contains("a/mlrepo.yaml:2") && Contains("build-args") && Contains("build_args"));
  }
  SECTION("malformed workspace config") {
    r.write("mlrepo.yaml", "exclude: [a\n");
    auto run = r.mlrepo({"list"});
    CHECK(run.code == 2);
    CHECK_THAT(run.err, Contains("mlrepo.yaml") && Contains("malformed"));
  }
  SECTION("paths may not leave the repo") {
    r.write("a/mlrepo.yaml", "context: ../..\n");
    auto run = r.mlrepo({"list"});
    CHECK(run.code == 2);
    CHECK_THAT(run.err, Contains("a/mlrepo.yaml:1") && Contains("leaves the repository"));
  }
  SECTION("a dockerfile that is not there") {
    r.write("a/mlrepo.yaml", "dockerfile: Dockerfile.gpu\n");
    auto run = r.mlrepo({"list"});
    CHECK(run.code == 2);
    CHECK_THAT(run.err, Contains("a/Dockerfile.gpu"));
  }
  SECTION("in GitHub Actions the error is an annotation too") {
    r.write("a/mlrepo.yaml", "name: a\nbogus: 1\n");
    auto run = r.mlrepo({"list"}, {{"GITHUB_ACTIONS", "true"}});
    CHECK(run.code == 2);
    CHECK_THAT(run.err, Contains("::error file=a/mlrepo.yaml,line=2::"));
  }
}

TEST_CASE("list works from subdirectories, with -C, and fails outside a repo", "[list]") {
  GitRepo r;
  r.write("a/b/Dockerfile", "FROM scratch\n");
  r.commit();
  CHECK(r.mlrepo({"list"}, {}, "a/b").lines() == Lines{"b\ta/b"});
  TempDir outside;
  auto run = run_program({MLREPO_BIN, "-C", r.path().string(), "list"}, outside.path());
  CHECK(run.lines() == Lines{"b\ta/b"});
  auto bad = run_program({MLREPO_BIN, "list"}, outside.path());
  CHECK(bad.code == 3);
  CHECK_THAT(bad.err, Contains("not inside a git repository"));
}

TEST_CASE("usage errors exit 2, help and version exit 0", "[cli]") {
  GitRepo r;
  auto bogus = r.mlrepo({"list", "--bogus"});
  CHECK(bogus.code == 2);
  CHECK_THAT(bogus.err, Contains("--bogus"));
  CHECK(bogus.out.empty());
  auto unknown = r.mlrepo({"frobnicate"});
  CHECK(unknown.code == 2);
  CHECK_THAT(unknown.err, Contains("'frobnicate' is not an mlrepo command"));
  CHECK(r.mlrepo({"changed", "--format", "xml"}).code == 2);
  auto help = r.mlrepo({"changed", "--help"});
  CHECK(help.code == 0);
  CHECK_THAT(help.out, Contains("--base") && Contains("Examples"));
  auto version = r.mlrepo({"--version"});
  CHECK(version.code == 0);
  CHECK_THAT(version.out, Contains("mlrepo"));
  CHECK(r.mlrepo({"list", "--rev", "nope"}).code == 2);
}

TEST_CASE("one odd Dockerfile never breaks the others", "[list]") {
  GitRepo r;
  r.write("odd/Dockerfile", "FROM 99999999999999999999999\nCOPY --from=88888888888888888888888 /a /a\n");
  r.write("fine/Dockerfile", "FROM scratch\n");
  r.commit();
  for (const auto& args : {std::vector<std::string>{"list"}, {"graph", "--format", "json"}, {"changed", "--base", "HEAD"}}) {
    auto run = r.mlrepo(args);
    INFO(args[0] << ": " << run.err);
    CHECK(run.code == 0);
    CHECK_THAT(run.err, !Contains("internal error"));
  }
  CHECK(r.mlrepo({"list"}).lines() == Lines{"fine\tfine", "odd\todd"});
}

TEST_CASE("list: one invalid project directory blocks only the commands that need every project", "[list]") {
  GitRepo r;
  r.write("projects/score/Dockerfile", "FROM scratch\n");
  r.write("projects/ab test/Dockerfile", "FROM scratch\n");
  r.write("projects/Bad_Config/Dockerfile", "FROM scratch\n");
  r.write("projects/Bad_Config/mlrepo.yaml", "name: bad\nunknown_key: 1\n");
  r.commit();
  // Commands that name their projects go on, with a warning about the others.
  auto build = r.mlrepo({"build", "score", "--dry-run"});
  INFO(build.err);
  CHECK(build.code == 0);
  CHECK_THAT(build.err, Contains("left out projects/ab test") && Contains("left out projects/Bad_Config"));
  CHECK_THAT(build.out, Contains("score:content-"));
  auto inside = r.mlrepo({"build", "--dry-run"}, {}, "projects/score");
  CHECK(inside.code == 0);
  // Naming the invalid one gives its own error, not "not a project".
  auto bad = r.mlrepo({"build", "projects/ab test", "--dry-run"});
  CHECK(bad.code == 2);
  CHECK_THAT(bad.err, Contains("'ab test' is not a valid name") && !Contains("is not a project") &&
                          !Contains("'ab test' in 'ab test'"));
  // A new project reports its own problem, not another directory's.
  auto made = r.mlrepo({"new", "projects/my project", "--no-ci"});
  CHECK(made.code == 2);
  CHECK_THAT(made.err, Contains("'my project'") && !Contains("error: project 'projects/ab test'"));
  auto fresh = r.mlrepo({"new", "projects/fresh", "--no-ci"});
  CHECK(fresh.code == 0);
  // list, --all and --changed report every problem at once, exit 2.
  for (const auto& args : {std::vector<std::string>{"list"}, {"build", "--all", "--dry-run"},
                           {"changed", "--base", "HEAD"}}) {
    auto run = r.mlrepo(args);
    INFO(args[0]);
    CHECK(run.code == 2);
    CHECK_THAT(run.err, Contains("2 problems") && Contains("projects/ab test") && Contains("unknown_key"));
  }
}
