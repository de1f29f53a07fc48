#include "support/repo.hpp"

#include "mlrepo/util/fs.hpp"

#include <catch2/catch.hpp>

using namespace mlrepo::test;
using Catch::Contains;
using Lines = std::vector<std::string>;
using nlohmann::json;

namespace {

// origin: main with projects a, b, c; the clone is where the workflow runs.
struct Setup {
  GitRepo origin;
  std::string first;
  Setup() {
    for (auto p : {"a", "b", "c"})
      origin.write(std::string(p) + "/Dockerfile", "FROM scratch\n");
    first = origin.commit("initial");
  }
};

Run changed(const GitRepo& r, const Env& env, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"changed"};
  args.insert(args.end(), extra.begin(), extra.end());
  return r.mlrepo(args, env);
}

} // namespace

TEST_CASE("push: the pushed range", "[github]") {
  Setup s;
  s.origin.write("a/x", "1");
  std::string before = s.origin.commit();
  s.origin.write("b/x", "1");
  std::string after = s.origin.commit();
  GitRepo clone(s.origin, {});
  GithubEvent ev;
  auto run = changed(clone, ev.env("push", {{"before", before}, {"after", after}}));
  REQUIRE(run.code == 0);
  CHECK(run.lines() == Lines{"b"});
  CHECK_THAT(run.err, Contains("push event: the pushed range"));
  // Uncommitted work never counts in CI unless asked for.
  clone.write("c/new", "");
  CHECK(changed(clone, ev.env("push", {{"before", before}, {"after", after}})).lines() == Lines{"b"});
}

TEST_CASE("push of a new branch or with an unknown before: merge-base with the default branch",
          "[github]") {
  Setup s;
  s.origin.git({"checkout", "-q", "-b", "feature"});
  s.origin.write("c/x", "1");
  std::string after = s.origin.commit();
  s.origin.git({"checkout", "-q", "main"}); // origin/HEAD must name the default branch
  GitRepo clone(s.origin, {"--branch", "feature"});
  GithubEvent ev;
  for (std::string before : {std::string(40, '0'), std::string("1234567890123456789012345678901234567890")}) {
    auto run = changed(clone, ev.env("push", {{"before", before}, {"after", after}}));
    REQUIRE(run.code == 0);
    CHECK(run.lines() == Lines{"c"});
    CHECK_THAT(run.err, Contains("origin/main"));
  }
}

TEST_CASE("push to the default branch with an unknown before: everything, loudly", "[github]") {
  Setup s;
  s.origin.write("a/x", "1");
  std::string after = s.origin.commit();
  GitRepo clone(s.origin, {});
  GithubEvent ev;
  auto run = changed(clone, ev.env("push", {{"before", std::string(40, '0')}, {"after", after}}));
  REQUIRE(run.code == 0);
  CHECK(run.lines() == Lines{"a", "b", "c"});
  CHECK_THAT(run.err, Contains("warning") && Contains("every project"));
}

TEST_CASE("pull_request: merge-base with the target branch", "[github]") {
  Setup s;
  s.origin.git({"checkout", "-q", "-b", "pr"});
  s.origin.write("b/x", "1");
  s.origin.commit();
  s.origin.git({"checkout", "-q", "main"});
  s.origin.write("a/x", "1");
  std::string main_tip = s.origin.commit("main moved");
  GitRepo clone(s.origin, {"--branch", "pr"});
  GithubEvent ev;
  json payload = {{"pull_request", {{"base", {{"ref", "main"}, {"sha", main_tip}}}, {"head", {{"sha", clone.head()}}}}}};
  auto run = changed(clone, ev.env("pull_request", payload));
  REQUIRE(run.code == 0);
  CHECK(run.lines() == Lines{"b"});
  CHECK_THAT(run.err, Contains("pull_request event"));

  SECTION("a base sha the clone lacks falls back to origin/<ref>") {
    payload["pull_request"]["base"]["sha"] = std::string(40, 'f');
    run = changed(clone, ev.env("pull_request", payload));
    REQUIRE(run.code == 0);
    CHECK(run.lines() == Lines{"b"});
  }
  SECTION("a target branch that is missing entirely is an error") {
    payload["pull_request"]["base"] = {{"ref", "release"}, {"sha", std::string(40, 'f')}};
    run = changed(clone, ev.env("pull_request", payload));
    CHECK(run.code == 2);
    CHECK_THAT(run.err, Contains("release"));
  }
}

TEST_CASE("merge_group: the queue's base", "[github]") {
  Setup s;
  s.origin.write("c/x", "1");
  s.origin.commit();
  GitRepo clone(s.origin, {});
  GithubEvent ev;
  auto run = changed(clone, ev.env("merge_group", {{"merge_group", {{"base_sha", s.first}}}}));
  REQUIRE(run.code == 0);
  CHECK(run.lines() == Lines{"c"});
}

TEST_CASE("workflow_dispatch and schedule: everything unless --base", "[github]") {
  Setup s;
  s.origin.write("c/x", "1");
  s.origin.commit();
  GitRepo clone(s.origin, {});
  GithubEvent ev;
  for (auto name : {"workflow_dispatch", "schedule"}) {
    auto run = changed(clone, ev.env(name, json::object()), {"--json"});
    REQUIRE(run.code == 0);
    auto j = run.json();
    CHECK(j["changed"].size() == 3);
    CHECK(j["base"].is_null());
    CHECK(j["changed"][0]["reasons"][0]["kind"] == "global");
  }
  auto run = changed(clone, ev.env("workflow_dispatch", json::object()), {"--base", "HEAD~1"});
  CHECK(run.lines() == Lines{"c"});
}

TEST_CASE("a shallow checkout of a push fails with what to do", "[github]") {
  Setup s;
  s.origin.write("a/x", "1");
  std::string before = s.origin.commit();
  s.origin.write("b/x", "1");
  std::string after = s.origin.commit();
  GitRepo clone(s.origin, {"--depth", "1", "--no-local"});
  GithubEvent ev;
  auto run = changed(clone, ev.env("push", {{"before", before}, {"after", after}}));
  // 'before' is missing: the fallback base lies in the shallow history too.
  CHECK(run.code == 3);
  CHECK_THAT(run.err, Contains("fetch-depth: 0") && Contains(before));
  CHECK(run.out.empty());
  run = changed(clone, ev.env("push", {{"before", before}, {"after", after}}), {"--all-if-base-missing"});
  CHECK(run.code == 0);
  CHECK(run.lines() == Lines{"a", "b", "c"});
}
