// `mlrepo ci generate`: the workflows parse, trigger on the right paths, are
// safe, stay byte-identical, and pass actionlint (with shellcheck) and zizmor.
#include "support/docker.hpp"
#include "support/lint.hpp"

#include "mlrepo/util/fs.hpp"

#include <catch2/catch.hpp>
#include <regex>
#include <thread>
#include <yaml-cpp/yaml.h>

using namespace mlrepo::test;
using Catch::Contains;

namespace {

const char* kPinned = "ci:\n  mlrepo_action: acme/mlrepo@0123456789abcdef0123456789abcdef01234567\n";

YAML::Node load(const GitRepo& r, const std::string& rel) {
  auto content = mlrepo::util::read_file(r.file(rel));
  INFO(rel);
  REQUIRE(content);
  return YAML::Load(*content);
}

std::vector<std::string> strings(const YAML::Node& n) {
  std::vector<std::string> out;
  for (const auto& i : n)
    out.push_back(i.as<std::string>());
  return out;
}

Run generate(const GitRepo& r, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"ci", "generate"};
  args.insert(args.end(), extra.begin(), extra.end());
  return r.mlrepo(args);
}

} // namespace

TEST_CASE("ci generate: one workflow per project, with the right triggers and jobs", "[ci]") {
  GitRepo r;
  fs::copy(fs::path(MLREPO_SOURCE_DIR) / "examples" / "monorepo", r.path(), fs::copy_options::recursive);
  r.commit();
  auto run = generate(r);
  INFO(run.err);
  REQUIRE(run.code == 0);
  for (auto name : {"churn-model", "demand-forecast", "notebook", "python-base"})
    CHECK(fs::exists(r.file(std::string(".github/workflows/mlrepo-") + name + ".yml")));

  auto wf = load(r, ".github/workflows/mlrepo-churn-model.yml");
  // Project directories (shallower first), then inputs: python-base COPYs
  // constraints.txt from its root context; churn-model depends on libs/mlcommon.
  auto paths = std::vector<std::string>{"images/python-base/**", "projects/churn-model/**",
                                        "constraints.txt", "libs/mlcommon/**", "mlrepo.yaml",
                                        ".github/workflows/mlrepo-churn-model.yml"};
  CHECK(strings(wf["on"]["push"]["paths"]) == paths);
  CHECK(strings(wf["on"]["pull_request"]["paths"]) == paths);
  CHECK(strings(wf["on"]["push"]["branches"]) == std::vector<std::string>{"main"});
  CHECK(wf["on"]["workflow_dispatch"]);
  CHECK(wf["permissions"]["contents"].as<std::string>() == "read");
  CHECK_FALSE(wf["permissions"]["packages"]);
  CHECK(wf["defaults"]["run"]["working-directory"].as<std::string>() == "projects/churn-model");
  CHECK_THAT(wf["concurrency"]["group"].as<std::string>(), Contains("churn-model"));
  auto test = wf["jobs"]["test"];
  CHECK_FALSE(test["if"]);
  CHECK(test["steps"][0]["with"]["persist-credentials"].as<std::string>() == "false");
  CHECK_THAT(test["steps"][0]["uses"].as<std::string>(), Contains("actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"));
  CHECK(test["steps"][2]["run"].as<std::string>() == "mlrepo test --only test");
  auto push = wf["jobs"]["push"];
  CHECK(push["permissions"]["packages"].as<std::string>() == "write");
  CHECK_THAT(push["if"].as<std::string>(), Contains("refs/heads/main") && Contains("'push'"));
  CHECK(push["steps"][3]["run"].as<std::string>() == "mlrepo build --push");
  // No expression is expanded inside a run: script.
  for (const auto& job : wf["jobs"])
    for (const auto& step : job.second["steps"])
      if (step["run"])
        CHECK_THAT(step["run"].as<std::string>(), !Contains("${{"));
  expect_workflows_lint_clean(r);

  SECTION("deterministic, and --check agrees") {
    auto before = mlrepo::util::read_file(r.file(".github/workflows/mlrepo-notebook.yml"));
    auto again = generate(r);
    CHECK_THAT(again.err, Contains("0 created, 0 updated, 0 deleted, 4 unchanged"));
    CHECK(mlrepo::util::read_file(r.file(".github/workflows/mlrepo-notebook.yml")) == before);
    CHECK(generate(r, {"--check"}).code == 0);
  }
}

TEST_CASE("ci generate --check names missing, stale and obsolete workflows", "[ci]") {
  GitRepo r;
  r.write("mlrepo.yaml", kPinned);
  r.write("a/Dockerfile", "FROM scratch\n");
  r.write("b/Dockerfile", "FROM scratch\n");
  r.write(".github/workflows/hand.yml", "name: mine\non: push\njobs: {}\n");
  r.write(".github/workflows/mlrepo-c.yml", "# hand-written, not generated\n");
  r.commit();
  REQUIRE(generate(r).code == 0);
  auto hand = mlrepo::util::read_file(r.file(".github/workflows/hand.yml"));
  r.write("c2/Dockerfile", "FROM scratch\n");
  r.remove("b");
  r.write("a/mlrepo.yaml", "depends_on: [c2]\n");
  auto check = generate(r, {"--check"});
  CHECK(check.code == 1);
  CHECK_THAT(check.err, Contains("missing: .github/workflows/mlrepo-c2.yml") &&
                            Contains("stale: .github/workflows/mlrepo-a.yml") &&
                            Contains("obsolete: .github/workflows/mlrepo-b.yml"));
  CHECK(fs::exists(r.file(".github/workflows/mlrepo-b.yml"))); // --check writes nothing
  REQUIRE(generate(r).code == 0);
  CHECK_FALSE(fs::exists(r.file(".github/workflows/mlrepo-b.yml")));
  CHECK(mlrepo::util::read_file(r.file(".github/workflows/hand.yml")) == hand);
  CHECK(mlrepo::util::read_file(r.file(".github/workflows/mlrepo-c.yml")) == "# hand-written, not generated\n");
  CHECK(generate(r, {"--check"}).code == 0);

  // A hand-written file in the way of a generated one is never overwritten.
  r.write("c/Dockerfile", "FROM scratch\n");
  auto clash = generate(r);
  CHECK(clash.code == 2);
  CHECK_THAT(clash.err, Contains("mlrepo-c.yml") && Contains("not generated"));
}

TEST_CASE("ci generate: tricky paths are quoted or refused", "[ci]") {
  GitRepo r;
  r.write("mlrepo.yaml", std::string(kPinned) + "registry: ghcr.io/acme\n");
  r.write("teams/Vision Models/détecteur [v2]/Dockerfile", "FROM scratch\n");
  r.write("teams/Vision Models/détecteur [v2]/mlrepo.yaml", "name: detector\ntest: ['sh', '-c', 'true']\n");
  r.write("it's/Dockerfile", "FROM scratch\n");
  r.write("it's/mlrepo.yaml", "name: quote\n");
  r.commit();
  auto run = generate(r);
  INFO(run.err);
  REQUIRE(run.code == 0);
  auto wf = load(r, ".github/workflows/mlrepo-detector.yml");
  CHECK(strings(wf["on"]["push"]["paths"])[0] == "teams/Vision Models/détecteur \\[v2\\]/**");
  CHECK(wf["defaults"]["run"]["working-directory"].as<std::string>() == "teams/Vision Models/détecteur [v2]");
  // ghcr.io logs in with the job's own token.
  auto login = wf["jobs"]["push"]["steps"][2];
  CHECK(login["env"]["REGISTRY_PASSWORD"].as<std::string>() == "${{ secrets.GITHUB_TOKEN }}");
  CHECK(load(r, ".github/workflows/mlrepo-quote.yml")["defaults"]["run"]["working-directory"].as<std::string>() == "it's");
  expect_workflows_lint_clean(r);

  r.write("x${{ github.token }}/Dockerfile", "FROM scratch\n");
  r.write("x${{ github.token }}/mlrepo.yaml", "name: evil\n");
  auto evil = generate(r);
  CHECK(evil.code == 2);
  CHECK_THAT(evil.err, Contains("${{") && Contains("rename"));
}

TEST_CASE("ci generate: a version matrix from the project config", "[ci]") {
  GitRepo r;
  r.write("mlrepo.yaml", kPinned);
  r.write("m/Dockerfile", "ARG PYTHON_VERSION=3.11\nFROM python:${PYTHON_VERSION}-slim\n");
  r.write("m/mlrepo.yaml", "test: pytest -q\nlint: ruff check .\nci:\n  matrix:\n    PYTHON_VERSION: ['3.10', '3.11']\n");
  r.commit();
  REQUIRE(generate(r).code == 0);
  auto wf = load(r, ".github/workflows/mlrepo-m.yml");
  auto test = wf["jobs"]["test"];
  CHECK(strings(test["strategy"]["matrix"]["PYTHON_VERSION"]) == std::vector<std::string>{"3.10", "3.11"});
  CHECK(test["env"]["MATRIX_PYTHON_VERSION"].as<std::string>() == "${{ matrix.PYTHON_VERSION }}");
  CHECK(test["steps"][2]["run"].as<std::string>() == "mlrepo test --only lint --build-arg \"PYTHON_VERSION=$MATRIX_PYTHON_VERSION\"");
  // The workflow checks itself, as its header says.
  auto steps = test["steps"];
  CHECK(steps[steps.size() - 1]["run"].as<std::string>() == "mlrepo ci generate --check");
  CHECK_FALSE(wf["jobs"]["push"]); // no registry: nothing to push to
  expect_workflows_lint_clean(r);

  // A key the Dockerfile does not declare would build the same image under every name.
  r.write("m/mlrepo.yaml", "test: pytest -q\nci:\n  matrix:\n    PYTON_VERSION: ['3.10', '3.11']\n");
  auto typo = generate(r);
  CHECK(typo.code == 2);
  CHECK_THAT(typo.err, Contains("m/mlrepo.yaml:4: ci.matrix key 'PYTON_VERSION' is not an ARG of m/Dockerfile "
                                "(its ARGs: PYTHON_VERSION)") &&
                           Contains("ARG PYTON_VERSION"));
}

TEST_CASE("ci generate --mode matrix: one workflow with a gate", "[ci]") {
  GitRepo r;
  r.write("mlrepo.yaml", std::string(kPinned) + "registry: registry.example.com/ml\n");
  r.write("a/Dockerfile", "FROM scratch\n");
  r.commit();
  REQUIRE(generate(r).code == 0);
  // A mode on the command line that the workspace config does not record
  // would make the next `ci generate --check` report drift: refused, with the edit.
  auto unrecorded = generate(r, {"--mode", "matrix"});
  CHECK(unrecorded.code == 2);
  CHECK_THAT(unrecorded.err, Contains("mode: matrix") && Contains("mlrepo.yaml"));
  r.write("mlrepo.yaml", "ci:\n  mode: matrix\n  mlrepo_action: acme/mlrepo@0123456789abcdef0123456789abcdef01234567\n"
                         "registry: registry.example.com/ml\n");
  auto run = generate(r, {"--mode", "matrix"});
  INFO(run.err);
  REQUIRE(run.code == 0);
  CHECK(generate(r, {"--check"}).code == 0); // with or without flags, --check agrees
  CHECK_FALSE(fs::exists(r.file(".github/workflows/mlrepo-a.yml"))); // replaced
  auto wf = load(r, ".github/workflows/mlrepo.yml");
  auto jobs = wf["jobs"];
  CHECK(jobs["changes"]["steps"][0]["with"]["fetch-depth"].as<int>() == 0);
  CHECK_THAT(jobs["changes"]["steps"][2]["run"].as<std::string>(), Contains("--format github-matrix --github-output"));
  CHECK(jobs["changes"]["steps"][3]["run"].as<std::string>() == "mlrepo ci generate --check");
  CHECK(wf["on"]["merge_group"]); // merge queues wait for the gate
  CHECK(jobs["test"]["if"].as<std::string>() == "needs.changes.outputs.any_changed == 'true'");
  CHECK(jobs["test"]["strategy"]["matrix"].as<std::string>() == "${{ fromJSON(needs.changes.outputs.matrix) }}");
  CHECK(jobs["gate"]["if"].as<std::string>() == "always()");
  CHECK(jobs["push"]["steps"][2]["env"]["REGISTRY_PASSWORD"].as<std::string>() == "${{ secrets.REGISTRY_PASSWORD }}");
  expect_workflows_lint_clean(r);
}

TEST_CASE("ci generate: mlrepo's own action is pinned to the commit it was built from by default", "[ci]") {
  GitRepo r;
  r.write("mlrepo.yaml", "registry: registry.example.com/ml\n"); // no ci.mlrepo_action
  r.write("a/Dockerfile", "FROM scratch\n");
  r.write("a/mlrepo.yaml", "test: 'true'\n");
  r.commit();
  auto run = generate(r);
  INFO(run.err);
  REQUIRE(run.code == 0);
  CHECK_THAT(run.err, !Contains("not pinned"));
  auto text = mlrepo::util::read_file(r.file(".github/workflows/mlrepo-a.yml")).value_or("");
  std::smatch m;
  REQUIRE(std::regex_search(text, m, std::regex("uses: '?mlrepo/mlrepo@([0-9a-f]{40})'? # v([0-9.]+)")));
  // A commit of this very source tree (the one built; HEAD may have moved on
  // since the last build).
  if (fs::exists(std::string(MLREPO_SOURCE_DIR) + "/.git"))
    CHECK(run_program({"git", "-C", MLREPO_SOURCE_DIR, "merge-base", "--is-ancestor", m[1].str(), "HEAD"}, r.path())
              .code == 0);
  expect_workflows_lint_clean(r); // zizmor's unpinned-uses included
  // pin_actions: tag pins to the version instead.
  r.write("mlrepo.yaml", "registry: registry.example.com/ml\nci:\n  pin_actions: tag\n");
  REQUIRE(generate(r).code == 0);
  CHECK_THAT(mlrepo::util::read_file(r.file(".github/workflows/mlrepo-a.yml")).value_or(""),
             Contains("mlrepo/mlrepo@v"));
}

namespace {
// The `run:` script and env names of the step called `name` in `steps`.
YAML::Node step_named(const YAML::Node& steps, const std::string& name) {
  for (const auto& s : steps)
    if (s["name"] && s["name"].as<std::string>() == name)
      return s;
  return {};
}
} // namespace

TEST_CASE("ci generate: the Slack notification posts what failed; pushed text stays data", "[ci]") {
  GitRepo r;
  r.write("mlrepo.yaml", std::string(kPinned) + "  notify:\n    slack_webhook_secret: SLACK_WEBHOOK_URL\n"
                                                "registry: registry.example.com/ml\n");
  r.write("a/Dockerfile", "FROM scratch\n");
  r.write("a/mlrepo.yaml", "test: 'true'\n");
  r.commit();
  REQUIRE(generate(r).code == 0);
  expect_workflows_lint_clean(r);
  auto wf = load(r, ".github/workflows/mlrepo-a.yml");
  auto step = step_named(wf["jobs"]["test"]["steps"], "Tell Slack that the default branch failed");
  REQUIRE(step);
  CHECK(step["if"].as<std::string>() == "failure() && github.event_name == 'push'");
  CHECK(step["env"]["SLACK_WEBHOOK"].as<std::string>() == "${{ secrets.SLACK_WEBHOOK_URL }}");
  CHECK(step_named(wf["jobs"]["push"]["steps"], "Tell Slack that the default branch failed"));
  std::string script = step["run"].as<std::string>();
  CHECK_THAT(script, !Contains("${{")); // nothing interpolated into the script itself

  TempDir tmp;
  auto received = tmp.path() / "received.txt";
  int port = free_port();
  Background slack({"python3", std::string(MLREPO_SOURCE_DIR) + "/tests/fixtures/capture_http.py",
                    std::to_string(port), received.string()},
                   tmp.path());
  for (int i = 0; i < 100 && !port_open(port); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(port_open(port));
  auto pwned = tmp.path() / "pwned";
  Env env{{"SLACK_WEBHOOK", "http://127.0.0.1:" + std::to_string(port) + "/hook"},
          {"PROJECT", "a"},
          {"REPOSITORY", "acme/ml"},
          {"COMMIT", "0123abc"},
          {"BRANCH", "main"},
          {"MESSAGE", "Fix $(touch " + pwned.string() + ") `touch " + pwned.string() + "` \"q\"\nsecond line"},
          {"RUN_URL", "https://github.com/acme/ml/actions/runs/7"}};
  auto sent = run_program({"bash", "-e", "-c", script}, tmp.path(), env);
  INFO(sent.out << sent.err);
  REQUIRE(sent.code == 0);
  auto body = mlrepo::util::read_file(received).value_or("");
  REQUIRE(!body.empty());
  auto text = nlohmann::json::parse(body.substr(0, body.find('\n'))).value("text", "");
  CHECK_THAT(text, Contains("a failed on main in acme/ml") && Contains("failed jobs: test") &&
                       Contains("https://github.com/acme/ml/actions/runs/7"));
  CHECK_THAT(text, Contains("commit 0123abc: Fix $(touch " + pwned.string() + ")") && !Contains("second line"));
  CHECK_FALSE(fs::exists(pwned)); // the commit message was data, never code

  // No secret (a fork): skipped, not failed, and nothing sent.
  env["SLACK_WEBHOOK"] = "";
  auto skipped = run_program({"bash", "-e", "-c", script}, tmp.path(), env);
  CHECK(skipped.code == 0);
  CHECK_THAT(skipped.out, Contains("not notifying"));
  CHECK(mlrepo::util::read_file(received).value_or("") == body);

  // Matrix mode: the gate names the failed jobs.
  r.write("mlrepo.yaml", "ci:\n  mode: matrix\n  mlrepo_action: acme/mlrepo@0123456789abcdef0123456789abcdef01234567\n"
                         "  notify:\n    slack_webhook_secret: SLACK_WEBHOOK_URL\nregistry: registry.example.com/ml\n");
  REQUIRE(generate(r).code == 0);
  expect_workflows_lint_clean(r);
  auto gate = step_named(load(r, ".github/workflows/mlrepo.yml")["jobs"]["gate"]["steps"],
                         "Tell Slack that the default branch failed");
  REQUIRE(gate);
  env["SLACK_WEBHOOK"] = "http://127.0.0.1:" + std::to_string(port) + "/hook";
  env["PROJECT"] = "mlrepo";
  env["RESULT_CHANGES"] = "success";
  env["RESULT_TEST"] = "failure";
  env["RESULT_PUSH"] = "skipped";
  REQUIRE(run_program({"bash", "-e", "-c", gate["run"].as<std::string>()}, tmp.path(), env).code == 0);
  auto all = mlrepo::util::read_file(received).value_or("");
  CHECK_THAT(all.substr(body.size()), Contains("failed jobs: test ") && !Contains("changes"));
}
