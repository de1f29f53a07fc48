// Checkouts as people have them: shallow, sparse and partial clones,
// worktrees, detached HEAD, and paths with spaces or non-ASCII names.
#include "support/repo.hpp"

#include "mlrepo/util/fs.hpp"
#include "mlrepo/util/process.hpp"

#include <catch2/catch.hpp>

using namespace mlrepo::test;
using Catch::Contains;
using Lines = std::vector<std::string>;
using nlohmann::json;

namespace {

// origin: a, b and c on main, then one commit per project.
struct Origin {
  GitRepo repo;
  Origin() {
    repo.git({"config", "uploadpack.allowFilter", "true"});
    repo.git({"config", "uploadpack.allowAnySHA1InWant", "true"});
    for (auto p : {"a", "b", "c"}) {
      repo.write(std::string(p) + "/Dockerfile", "FROM scratch\n");
      repo.write(std::string(p) + "/mlrepo.yaml", "test: [\"true\"]\n");
    }
    repo.commit("initial");
    for (auto p : {"a", "b", "c"}) {
      repo.write(std::string(p) + "/code.py", std::string("# ") + p + "\n");
      repo.commit(std::string("edit ") + p);
    }
  }
};

} // namespace

TEST_CASE("shallow: a clone answers whenever the commits it needs are present", "[changed][shallow]") {
  Origin o;
  GitRepo clone(file_url(o.repo), {"--depth", "2"});
  REQUIRE(clone.git({"rev-parse", "--is-shallow-repository"}) == "true\n");
  auto run = clone.mlrepo({"changed", "--base", "HEAD~1"});
  INFO(run.err);
  CHECK(run.code == 0);
  CHECK(run.lines() == Lines{"c"});
  // Beyond the boundary: history this clone lacks, exit 3 with what to fetch.
  run = clone.mlrepo({"changed", "--base", "HEAD~3"});
  CHECK(run.code == 3);
  CHECK_THAT(run.err, Contains("HEAD~3") && Contains("fetch"));
  CHECK(run.out.empty());
  // A revision that exists nowhere is a typo, shallow or not.
  run = clone.mlrepo({"changed", "--base", "no-such-branch"});
  CHECK(run.code == 2);
  CHECK_THAT(run.err, Contains("no-such-branch"));
  CHECK_THAT(run.err, !Contains("shallow"));
  run = clone.mlrepo({"list", "--rev", "no-such-tag"});
  CHECK(run.code == 2);
}

TEST_CASE("shallow: --all-if-base-missing works in a depth-1 checkout of every event",
          "[changed][shallow][github]") {
  Origin o;
  o.repo.git({"checkout", "-q", "-b", "feature"});
  o.repo.write("b/more.py", "\n");
  std::string feature = o.repo.commit("feature");
  std::string main_sha = o.repo.git({"rev-parse", "main"}).substr(0, 40);
  o.repo.git({"checkout", "-q", "main"}); // origin's HEAD names the default branch
  // What actions/checkout makes: one commit, one branch.
  GitRepo clone(file_url(o.repo), {"--depth", "1", "--branch", "feature"});
  GithubEvent ev;
  const Lines all{"a", "b", "c"};
  struct Case {
    std::string event;
    json payload;
  };
  const std::string zero(40, '0');
  for (const auto& c : {Case{"push", {{"before", zero}, {"after", feature}}},
                        Case{"push", {{"before", main_sha}, {"after", feature}}},
                        Case{"pull_request",
                             {{"pull_request", {{"base", {{"sha", main_sha}, {"ref", "main"}}},
                                                {"head", {{"sha", feature}}}}}}},
                        Case{"merge_group", {{"merge_group", {{"base_sha", main_sha}}}}}}) {
    INFO(c.event << " " << c.payload.dump());
    auto run = clone.mlrepo({"changed"}, ev.env(c.event, c.payload));
    CHECK(run.code == 3);
    CHECK_THAT(run.err, Contains("fetch"));
    CHECK(run.out.empty());
    run = clone.mlrepo({"changed", "--all-if-base-missing"}, ev.env(c.event, c.payload));
    INFO(run.err);
    CHECK(run.code == 0);
    CHECK(run.lines() == all);
    CHECK_THAT(run.err, Contains("EVERY project"));
  }
  // Locally: the default branch was never fetched.
  auto run = clone.mlrepo({"changed"});
  CHECK(run.code == 3);
  run = clone.mlrepo({"changed", "--all-if-base-missing"});
  CHECK(run.code == 0);
  CHECK(run.lines() == all);
  // Once history is there, the real answer comes back.
  clone.git({"fetch", "-q", "--unshallow", "origin", "main:refs/remotes/origin/main"});
  run = clone.mlrepo({"changed", "--all-if-base-missing"});
  INFO(run.err);
  CHECK(run.code == 0);
  CHECK(run.lines() == Lines{"b"});
}

namespace {

// A monorepo with projects in and out of the checkout cone.
struct SparseRepo {
  GitRepo repo;
  std::string before_last;
  SparseRepo() {
    repo.write("mlrepo.yaml", "registry: localhost:5000\n");
    repo.write("teams/vision/detector/Dockerfile", "FROM scratch\n");
    repo.write("teams/vision/detector/model.py", "\n");
    repo.write("teams/nlp/tagger/Dockerfile", "FROM localhost:5000/detector\n");
    repo.write("teams/nlp/tagger/mlrepo.yaml", "depends_on: [libs/text]\n");
    repo.write("libs/text/tok.py", "\n");
    repo.write("tools/cli/Dockerfile", "FROM scratch\n");
    before_last = repo.commit("initial");
    repo.write("teams/nlp/tagger/train.py", "\n");
    repo.commit("tagger");
  }
};

Lines lines_of(const GitRepo& r, std::vector<std::string> args) {
  auto run = r.mlrepo(args);
  INFO(run.err);
  REQUIRE(run.code == 0);
  return run.lines();
}

} // namespace

TEST_CASE("sparse: files outside the checkout are present and unchanged", "[changed][sparse]") {
  SparseRepo s;
  const Lines all{"cli", "tagger", "detector"};
  const Lines listed{"tools/cli", "teams/nlp/tagger", "teams/vision/detector"};
  std::vector<std::vector<std::string>> modes{{"set", "--cone", "tools"},
                                              {"set", "--no-cone", "/tools/", "/mlrepo.yaml"},
                                              {"set", "--cone", "--sparse-index", "tools"}};
  for (const auto& mode : modes) {
    std::vector<std::string> args{"sparse-checkout"};
    args.insert(args.end(), mode.begin(), mode.end());
    INFO(mlrepo::util::shell_quote(args));
    s.repo.git({"sparse-checkout", "disable"});
    s.repo.git(args);
    REQUIRE_FALSE(fs::exists(s.repo.file("teams/vision/detector/Dockerfile")));
    REQUIRE(s.repo.git({"status", "--porcelain"}).empty());
    // list sees every project, as git does.
    Lines paths;
    for (const auto& line : lines_of(s.repo, {"list"}))
      paths.push_back(line.substr(line.find('\t') + 1));
    std::sort(paths.begin(), paths.end());
    Lines expected = listed;
    std::sort(expected.begin(), expected.end());
    CHECK(paths == expected);
    // Nothing uncommitted, nothing removed.
    auto run = s.repo.mlrepo({"changed", "--base", "HEAD", "--json"});
    INFO(run.err);
    REQUIRE(run.code == 0);
    CHECK(run.json()["changed"] == json::array());
    CHECK(run.json()["removed"] == json::array());
    // History outside the cone still counts, with its dependencies.
    CHECK(lines_of(s.repo, {"changed", "--base", s.before_last}) == Lines{"tagger"});
    auto graph = s.repo.mlrepo({"graph", "--format", "json"});
    REQUIRE(graph.code == 0);
    CHECK(graph.json()["edges"].size() == 1);
    // Work inside the cone is seen; the rest stays quiet.
    s.repo.write("tools/cli/new.sh", "echo\n");
    CHECK(lines_of(s.repo, {"changed", "--base", "HEAD"}) == Lines{"cli"});
    // The build tags what is outside the checkout as clean.
    auto dry = s.repo.mlrepo({"build", "tagger", "--dry-run"});
    INFO(dry.err);
    CHECK(dry.code == 0);
    CHECK_THAT(dry.out, !Contains("-dirty"));
    s.repo.remove("tools/cli/new.sh");
    // Twice, so a cached answer is checked too.
    CHECK(lines_of(s.repo, {"changed", "--base", "HEAD"}).empty());
  }
  // Widening the checkout changes nothing either.
  s.repo.git({"sparse-checkout", "add", "teams/nlp"});
  CHECK(lines_of(s.repo, {"changed", "--base", "HEAD"}).empty());
  CHECK(lines_of(s.repo, {"list"}).size() == 3);
}

TEST_CASE("partial: a blob the clone filtered out is exit 3 naming the path, revision and fix",
          "[changed][partial]") {
  Origin o;
  o.repo.write("a/Dockerfile", "FROM scratch\nLABEL v=2\n");
  o.repo.write("a/mlrepo.yaml", "test: [\"false\"]\n");
  o.repo.write("c/Dockerfile", "FROM scratch\nLABEL v=2\n");
  o.repo.write("c/mlrepo.yaml", "test: [\"c\"]\n");
  o.repo.commit("a and c v2"); // no old Dockerfile or config content is left at HEAD
  o.repo.remove("b/Dockerfile");
  o.repo.commit("b is no project any more");
  GitRepo clone(file_url(o.repo), {"--filter=blob:none"});
  REQUIRE(clone.git({"config", "remote.origin.promisor"}) == "true\n");
  // What the checkout has works.
  CHECK(lines_of(clone, {"list"}) == Lines{"a\ta", "c\tc"});
  CHECK(lines_of(clone, {"changed", "--base", "HEAD"}).empty());
  CHECK(lines_of(clone, {"graph"}).size() >= 2);
  // An old revision's Dockerfile was never fetched.
  std::string old = clone.git({"rev-parse", "HEAD~3"}).substr(0, 40);
  auto run = clone.mlrepo({"list", "--rev", "HEAD~3"});
  CHECK(run.code == 3);
  CHECK_THAT(run.err, Contains("a/mlrepo.yaml") || Contains("a/Dockerfile"));
  CHECK_THAT(run.err, Contains(old.substr(0, 12)) && Contains("partial clone") &&
                          Contains("git cat-file blob"));
  CHECK_THAT(run.err, !Contains("internal error"));
  // Finding a removed project needs its config at the base (which the
  // checkout has), not its old Dockerfile (which it lacks).
  run = clone.mlrepo({"changed", "--base", "HEAD~1", "--json"});
  INFO(run.err);
  CHECK(run.code == 0);
  CHECK(run.json()["removed"] == json::array({{{"name", "b"}, {"path", "b"}}}));
  // The fix the message gives works.
  auto missing = run_program({"sh", "-c", "git rev-list --objects --missing=print HEAD~3 | sed -n 's/^?//p'"},
                             clone.path());
  std::istringstream ids(missing.out);
  for (std::string id; std::getline(ids, id);)
    run_program({"git", "cat-file", "blob", id}, clone.path());
  run = clone.mlrepo({"list", "--rev", "HEAD~3"});
  INFO(run.err);
  CHECK(run.code == 0);
  CHECK(run.lines() == Lines{"a\ta", "b\tb", "c\tc"});
}

TEST_CASE("checkouts: worktrees, detached HEAD, submodules, spaces and non-ASCII paths",
          "[changed][checkouts]") {
  GitRepo r;
  r.write("data science/my model/Dockerfile", "FROM scratch\n");
  r.write("data science/my model/mlrepo.yaml", "name: my-model\n");
  r.write("modèles/détecteur/Dockerfile", "FROM scratch\n");
  r.write("modèles/détecteur/mlrepo.yaml", "name: detecteur\n");
  r.write("plain/Dockerfile", "FROM scratch\n");
  std::string first = r.commit("initial");
  GitRepo sub;
  sub.write("README", "lib\n");
  sub.commit();
  r.git({"-c", "protocol.file.allow=always", "submodule", "add", "-q", sub.path().string(), "plain/vendor"});
  r.commit("submodule");
  r.write("data science/my model/train py.py", "\n");
  r.write("modèles/détecteur/poids.txt", "\n");
  std::string last = r.commit("edits");
  CHECK(lines_of(r, {"changed", "--base", first}) == Lines{"my-model", "detecteur", "plain"});
  auto paths = lines_of(r, {"changed", "--base", first, "--format", "paths"});
  CHECK(paths == Lines{"data science/my model", "modèles/détecteur", "plain"});
  // Uncommitted work under a space and an accent.
  r.write("modèles/détecteur/poids.txt", "2\n");
  CHECK(lines_of(r, {"changed", "--base", "HEAD"}) == Lines{"detecteur"});
  r.git({"checkout", "-q", "--", "modèles"});
  // A linked worktree, on a detached HEAD.
  TempDir wt;
  r.git({"worktree", "add", "-q", "--detach", (wt.path() / "w").string(), first});
  auto run = run_program({MLREPO_BIN, "changed", "--base", "HEAD", "--head", "HEAD"}, wt.path() / "w");
  INFO(run.err);
  CHECK(run.code == 0);
  CHECK(run.lines().empty());
  run = run_program({MLREPO_BIN, "changed", "--base", first, "--head", last}, wt.path() / "w");
  CHECK(run.lines() == Lines{"my-model", "detecteur", "plain"});
  run = run_program({MLREPO_BIN, "list"}, wt.path() / "w");
  CHECK(run.lines().size() == 3);
  // Detached HEAD in the main work tree.
  r.git({"checkout", "-q", "--detach", "HEAD~1"});
  CHECK(lines_of(r, {"changed", "--base", first}) == Lines{"plain"});
}
