// The run context: which CI provider, which event and change, which refs,
// where summaries go, detected once from the environment through the
// provider table.
#include "mlrepo/context/providers.hpp"
#include "mlrepo/context/run_context.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"
#include "support/repo.hpp"

#include <catch2/catch.hpp>
#include <algorithm>
#include <filesystem>
#include <map>

using namespace mlrepo;
using context::ChangeHint;
using context::RunContext;
namespace fs = std::filesystem;

namespace {

context::EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

} // namespace

TEST_CASE("run context: a bare environment is a local run with no event", "[context]") {
  auto run = RunContext::detect(env_of({}));
  CHECK(run.provider() == "local");
  CHECK_FALSE(run.github_actions());
  CHECK_FALSE(run.ci());
  CHECK(run.event().empty());
  CHECK_FALSE(run.ref());
  CHECK_FALSE(run.branch());
  CHECK(run.source_url().empty());
  CHECK_FALSE(run.step_summary());
  CHECK_FALSE(run.outputs());
  CHECK_FALSE(run.secrets_withheld());
  CHECK(run.change_hint().kind == ChangeHint::Kind::None);
  CHECK(run.ref_variable() == "GITHUB_REF");

  // CI set by another system: a CI run, still without a provider's event.
  CHECK(RunContext::detect(env_of({{"CI", "true"}})).ci());
  CHECK_FALSE(RunContext::detect(env_of({{"CI", "false"}})).ci());
  CHECK_FALSE(RunContext::detect(env_of({{"CI", "0"}})).ci());
  // Other variables are looked up as they are.
  CHECK(RunContext::detect(env_of({{"DB_PASSWORD", "x"}}))("DB_PASSWORD") == std::optional<std::string>("x"));
  // A step imitated by hand outside Actions: its ref and files still count.
  auto by_hand = RunContext::detect(env_of({{"GITHUB_REF", "refs/tags/app/v1.0.0"},
                                            {"GITHUB_STEP_SUMMARY", "/tmp/summary.md"},
                                            {"GITHUB_OUTPUT", ""}}));
  CHECK(by_hand.provider() == "local");
  CHECK(by_hand.ref() == std::optional<std::string>("refs/tags/app/v1.0.0"));
  CHECK(by_hand.step_summary() == std::optional<std::string>("/tmp/summary.md"));
  CHECK_FALSE(by_hand.outputs()); // empty is unset
  CHECK_FALSE(by_hand.branch());  // a branch is the provider's word only
}

TEST_CASE("run context: a GitHub Actions pull request from a fork", "[context]") {
  test::TempDir tmp;
  auto payload = tmp.path() / "event.json";
  util::write_file_atomic(payload, R"({"pull_request": {"base": {"ref": "main", "sha": "aaa"},
    "head": {"ref": "feature", "sha": "bbb", "repo": {"full_name": "someone/monorepo"}}}})");
  std::map<std::string, std::string> vars{
      {"GITHUB_ACTIONS", "true"},         {"GITHUB_EVENT_NAME", "pull_request"},
      {"GITHUB_EVENT_PATH", payload},     {"GITHUB_REF", "refs/pull/7/merge"},
      {"GITHUB_HEAD_REF", "feature"},     {"GITHUB_REF_NAME", "7/merge"},
      {"GITHUB_SERVER_URL", "https://github.com"}, {"GITHUB_REPOSITORY", "acme/monorepo"},
      {"GITHUB_STEP_SUMMARY", "/tmp/s"},  {"GITHUB_OUTPUT", "/tmp/o"}};
  auto run = RunContext::detect(env_of(vars));
  CHECK(run.provider() == "github-actions");
  CHECK(run.github_actions());
  CHECK(run.ci());
  CHECK(run.event() == "pull_request");
  CHECK(run.ref() == std::optional<std::string>("refs/pull/7/merge"));
  CHECK(run.branch() == std::optional<std::string>("feature")); // the pull request's head branch
  CHECK(run.source_url() == "https://github.com/acme/monorepo");
  CHECK(run.step_summary() == std::optional<std::string>("/tmp/s"));
  CHECK(run.outputs() == std::optional<std::string>("/tmp/o"));
  CHECK(run.secrets_withheld()); // a fork's
  const auto& hint = run.change_hint();
  CHECK(hint.kind == ChangeHint::Kind::PullRequest);
  CHECK(hint.base_sha == "aaa");
  CHECK(hint.base_ref == "main");
  CHECK(hint.head_sha == "bbb");
  CHECK_FALSE(hint.checks_out_target);

  // The same repository's pull request has its secrets; Dependabot's has none.
  util::write_file_atomic(payload, R"({"pull_request": {"head": {"repo": {"full_name": "acme/monorepo"}}}})");
  CHECK_FALSE(RunContext::detect(env_of(vars)).secrets_withheld());
  vars["GITHUB_ACTOR"] = "dependabot[bot]";
  CHECK(RunContext::detect(env_of(vars)).secrets_withheld());
}

TEST_CASE("run context: GitHub's events become change hints, and the payload is read once, on first use",
          "[context]") {
  test::TempDir tmp;
  auto payload = tmp.path() / "event.json";
  auto github = [&](const std::string& event, std::map<std::string, std::string> more = {}) {
    more["GITHUB_ACTIONS"] = "true";
    more["GITHUB_EVENT_NAME"] = event;
    more["GITHUB_EVENT_PATH"] = payload.string();
    return RunContext::detect(env_of(more));
  };
  util::write_file_atomic(payload, R"({"before": "b0", "after": "a1"})");
  auto push = github("push", {{"GITHUB_REF_NAME", "main"}, {"GITHUB_REF_TYPE", "branch"}});
  CHECK(push.change_hint().kind == ChangeHint::Kind::Push);
  CHECK(push.change_hint().before == "b0");
  CHECK(push.change_hint().after == "a1");
  CHECK(push.branch() == std::optional<std::string>("main"));
  // Read once: the file may go, the hint stays (copies share it).
  auto copy = push;
  fs::remove(payload);
  CHECK(copy.change_hint().after == "a1");

  util::write_file_atomic(payload, R"({"merge_group": {"base_sha": "q1"}})");
  auto queue = github("merge_group");
  CHECK(queue.change_hint().kind == ChangeHint::Kind::MergeQueue);
  CHECK(queue.change_hint().base_sha == "q1");
  CHECK(github("schedule").change_hint().kind == ChangeHint::Kind::Everything);
  CHECK(github("workflow_dispatch").change_hint().kind == ChangeHint::Kind::Everything);
  CHECK(github("release").change_hint().kind == ChangeHint::Kind::Other);
  util::write_file_atomic(payload, R"({"pull_request": {"base": {"ref": "main"}}})");
  CHECK(github("pull_request_target").change_hint().checks_out_target);
  auto tag = github("push", {{"GITHUB_REF_NAME", "app/v1.0.0"}, {"GITHUB_REF_TYPE", "tag"}});
  CHECK_FALSE(tag.branch()); // a tag is no branch

  // Nothing is read until asked: detecting never fails, the hint says why.
  fs::remove(payload);
  auto missing = github("push");
  CHECK_THROWS_AS(missing.change_hint(), EnvironmentError);
  CHECK_FALSE(missing.secrets_withheld());
  util::write_file_atomic(payload, "{not json");
  CHECK_THROWS_AS(github("push").change_hint(), UsageError);
}

TEST_CASE("run context: the provider table", "[context]") {
  auto rows = context::providers();
  REQUIRE(rows.size() >= 1);
  CHECK(std::string(rows[0].name) == "github-actions");
  CHECK(std::string(context::local_provider().name) == "local");
  auto prefixes = context::reserved_variable_prefixes();
  CHECK(std::find(prefixes.begin(), prefixes.end(), "GITHUB_") != prefixes.end());
}
