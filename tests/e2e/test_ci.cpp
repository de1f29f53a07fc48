// `mlrepo ci generate`: the workflows parse, trigger on the right paths, are
// safe, stay byte-identical, and pass actionlint (with shellcheck) and zizmor.
#include "support/docker.hpp"
#include "support/lint.hpp"

#include "mlrepo/util/fs.hpp"

#include <catch2/catch.hpp>
#include <regex>
#include <sstream>
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

// The step called `name` in `steps` (a null node when there is none).
YAML::Node step_named(const YAML::Node& steps, const std::string& name) {
  for (const auto& s : steps)
    if (s["name"] && s["name"].as<std::string>() == name)
      return s;
  // An undefined node, so CHECK_FALSE(step_named(...)) means "no such step"
  // (a default-constructed Node is a defined null and would always be true).
  static const YAML::Node none;
  return none["no such step"];
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
  auto config = mlrepo::util::read_file(r.file("mlrepo.yaml")).value_or("");
  REQUIRE(config.find("mode: matrix") != std::string::npos);
  r.write("mlrepo.yaml", std::regex_replace(config, std::regex("mode: matrix"), "mode: per-project"));
  r.commit();
  auto run = generate(r);
  INFO(run.err);
  REQUIRE(run.code == 0);
  for (auto name : {"churn-model", "demand-forecast", "notebook", "python-base"})
    CHECK(fs::exists(r.file(std::string(".github/workflows/mlrepo-") + name + ".yml")));

  auto wf = load(r, ".github/workflows/mlrepo-churn-model.yml");
  // Project directories (shallower first), then inputs: python-base COPYs
  // constraints.txt from its root context, whose .dockerignore decides what
  // it sees; churn-model depends on libs/mlcommon.
  auto paths = std::vector<std::string>{"images/python-base/**", "projects/churn-model/**",
                                        "constraints.txt", ".dockerignore", "libs/mlcommon/**", "mlrepo.yaml",
                                        ".github/workflows/mlrepo-churn-model.yml"};
  CHECK(strings(wf["on"]["push"]["paths"]) == paths);
  CHECK(strings(wf["on"]["pull_request"]["paths"]) == paths);
  CHECK(strings(wf["on"]["push"]["branches"]) == std::vector<std::string>{"main"});
  CHECK(wf["on"]["workflow_dispatch"]);
  CHECK(wf["permissions"]["contents"].as<std::string>() == "read");
  CHECK_FALSE(wf["permissions"]["packages"]);
  CHECK(wf["defaults"]["run"]["working-directory"].as<std::string>() == "projects/churn-model");
  CHECK_THAT(wf["concurrency"]["group"].as<std::string>(), Contains("churn-model"));
  // One job builds once, tests that image and promotes it: no second build.
  REQUIRE(wf["jobs"].size() == 1);
  auto job = wf["jobs"]["build"];
  CHECK_FALSE(job["if"]);
  CHECK_FALSE(job["permissions"]["packages"]); // GITHUB_TOKEN writes packages to ghcr.io only
  CHECK_THAT(job["env"]["PUSH"].as<std::string>(), Contains("github.event.pull_request.head.repo.full_name"));
  auto steps = job["steps"];
  CHECK(steps[0]["with"]["persist-credentials"].as<std::string>() == "false");
  CHECK_THAT(steps[0]["uses"].as<std::string>(), Contains("actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"));
  CHECK(step_named(steps, "Log in to the registry")["if"].as<std::string>() == "env.PUSH == 'true'");
  CHECK(step_named(steps, "Build once and push the content tag")["run"].as<std::string>() ==
        "mlrepo build --push --content-tag-only");
  CHECK(step_named(steps, "Lint and test the pushed image (pulled by digest)")["run"].as<std::string>() ==
        "mlrepo test --pull");
  CHECK_THAT(step_named(steps, "Build without pushing (a fork's pull request has no registry credentials)")["run"]
                 .as<std::string>(),
             Contains("not pushed") && Contains("mlrepo build\n"));
  auto promote = step_named(steps, "Promote the tested image (commit, branch and default-branch tags)");
  CHECK(promote["run"].as<std::string>() == "mlrepo promote");
  CHECK_THAT(promote["if"].as<std::string>(), Contains("refs/heads/main") && Contains("'push'") &&
                                                  Contains("env.PUSH == 'true'"));
  // No expression is expanded inside a run: script.
  for (const auto& each : wf["jobs"])
    for (const auto& step : each.second["steps"])
      if (step["run"])
        CHECK_THAT(step["run"].as<std::string>(), !Contains("${{"));
  expect_workflows_lint_clean(r);

  SECTION("deterministic, and --check agrees") {
    auto before = mlrepo::util::read_file(r.file(".github/workflows/mlrepo-notebook.yml"));
    auto again = generate(r);
    // Four projects', churn-model's job's and the churn-weekly pipeline's workflows.
    CHECK_THAT(again.err, Contains("0 created, 0 updated, 0 deleted, 6 unchanged"));
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
  auto login = step_named(wf["jobs"]["build"]["steps"], "Log in to the registry");
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
  // The variants are compatibility checks beside the one build that ships.
  auto variants = wf["jobs"]["variants"];
  CHECK(strings(variants["strategy"]["matrix"]["PYTHON_VERSION"]) == std::vector<std::string>{"3.10", "3.11"});
  CHECK(variants["env"]["MATRIX_PYTHON_VERSION"].as<std::string>() == "${{ matrix.PYTHON_VERSION }}");
  CHECK(step_named(variants["steps"], "Lint and test")["run"].as<std::string>() ==
        "mlrepo test --build-arg \"PYTHON_VERSION=$MATRIX_PYTHON_VERSION\"");
  auto build = wf["jobs"]["build"];
  CHECK_FALSE(build["strategy"]);
  // No registry: built and tested on the runner, nothing pushed.
  CHECK(step_named(build["steps"], "Build")["run"].as<std::string>() == "mlrepo build");
  CHECK(step_named(build["steps"], "Lint and test the image")["run"].as<std::string>() == "mlrepo test");
  CHECK_FALSE(build["permissions"]);
  CHECK_FALSE(step_named(build["steps"], "Log in to the registry"));
  // The workflow checks itself, as its header says.
  auto steps = build["steps"];
  CHECK(steps[steps.size() - 1]["run"].as<std::string>() == "mlrepo ci generate --check");
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
  CHECK_FALSE(jobs["build-1"]); // one depth
  CHECK(jobs["build-0"]["if"].as<std::string>() == "needs.changes.outputs.build_0_0 != ''");
  CHECK(jobs["build-0"]["strategy"]["matrix"].as<std::string>() == "${{ fromJSON(needs.changes.outputs.build_0_0) }}");
  CHECK(step_named(jobs["build-0"]["steps"], "Log in to the registry")["env"]["REGISTRY_PASSWORD"].as<std::string>() ==
        "${{ secrets.REGISTRY_PASSWORD }}");
  CHECK(step_named(jobs["build-0"]["steps"], "Build once and push the content tag")["run"].as<std::string>() ==
        "mlrepo build \"$PROJECT\" --push --content-tag-only");
  CHECK(jobs["gate"]["if"].as<std::string>() == "always()");
  CHECK(strings(jobs["gate"]["needs"]) == std::vector<std::string>{"changes", "build-0", "promote", "release"});
  CHECK_THAT(jobs["promote"]["if"].as<std::string>(), Contains("!failure()") && Contains("refs/heads/main"));
  expect_workflows_lint_clean(r);

  // A dependency adds a depth: b builds after a, in the next job.
  r.write("b/Dockerfile", "FROM registry.example.com/ml/a\n");
  r.commit();
  REQUIRE(generate(r).code == 0);
  jobs = load(r, ".github/workflows/mlrepo.yml")["jobs"];
  CHECK(strings(jobs["build-1"]["needs"]) == std::vector<std::string>{"changes", "build-0"});
  CHECK(jobs["build-1"]["if"].as<std::string>() ==
        "${{ !cancelled() && !failure() && needs.changes.outputs.build_1_0 != '' }}");
  CHECK(strings(jobs["promote"]["needs"]) == std::vector<std::string>{"changes", "build-0", "build-1"});
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

TEST_CASE("ci generate: the Slack notification posts what failed, and pushed text stays data", "[ci]") {
  GitRepo r;
  r.write("mlrepo.yaml", std::string(kPinned) + "  notify:\n    slack_webhook_secret: SLACK_WEBHOOK_URL\n"
                                                "registry: registry.example.com/ml\n");
  r.write("a/Dockerfile", "FROM scratch\n");
  r.write("a/mlrepo.yaml", "test: 'true'\n");
  r.commit();
  REQUIRE(generate(r).code == 0);
  expect_workflows_lint_clean(r);
  auto wf = load(r, ".github/workflows/mlrepo-a.yml");
  auto step = step_named(wf["jobs"]["build"]["steps"], "Tell Slack that the default branch failed");
  REQUIRE(step);
  CHECK(step["if"].as<std::string>() == "failure() && github.event_name == 'push'");
  CHECK(step["env"]["SLACK_WEBHOOK"].as<std::string>() == "${{ secrets.SLACK_WEBHOOK_URL }}");
  std::string script = step["run"].as<std::string>();
  CHECK_THAT(script, !Contains("${{")); // nothing interpolated into the script itself

  TempDir tmp;
  auto received = tmp.path() / "received.txt";
  Background slack({"python3", std::string(MLREPO_SOURCE_DIR) + "/tests/fixtures/capture_http.py", "0",
                    received.string()},
                   tmp.path());
  int port = wait_for_port_file(received.string() + ".port");
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
  CHECK_THAT(text, Contains("a failed on main in acme/ml") && Contains("failed jobs: build\n") &&
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
  env["RESULT_BUILD_0"] = "failure";
  env["RESULT_PROMOTE"] = "skipped";
  env["RESULT_RELEASE"] = "skipped"; // no release tag: the release job does not run
  REQUIRE(run_program({"bash", "-e", "-c", gate["run"].as<std::string>()}, tmp.path(), env).code == 0);
  auto all = mlrepo::util::read_file(received).value_or("");
  CHECK_THAT(all.substr(body.size()), Contains("failed jobs: build-0\\n") && !Contains("changes"));
}

TEST_CASE("ci generate: 300 projects shard the build matrix under GitHub's 256-job limit, lint clean in both modes",
          "[ci]") {
  GitRepo r;
  r.write("mlrepo.yaml", "ci:\n  mode: matrix\n  mlrepo_action: acme/mlrepo@0123456789abcdef0123456789abcdef01234567\n"
                         "  notify:\n    slack_webhook_secret: SLACK\nregistry: ghcr.io/acme\n");
  r.write("base/Dockerfile", "FROM scratch\n");
  for (int i = 0; i < 300; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "p%03d", i);
    r.write(std::string("projects/") + name + "/Dockerfile", "FROM ghcr.io/acme/base\n");
    r.write(std::string("projects/") + name + "/mlrepo.yaml", "test: 'true'\n");
  }
  r.commit();
  auto run = generate(r);
  INFO(run.err);
  REQUIRE(run.code == 0);
  auto jobs = load(r, ".github/workflows/mlrepo.yml")["jobs"];
  CHECK(jobs["build-0"]); // base alone at depth 0
  CHECK(jobs["build-1-0"]);
  CHECK(jobs["build-1-1"]);
  CHECK_FALSE(jobs["build-1-2"]);
  CHECK(strings(jobs["build-1-1"]["needs"]) == std::vector<std::string>{"changes", "build-0"});
  CHECK(strings(jobs["gate"]["needs"]) ==
        std::vector<std::string>{"changes", "build-0", "build-1-0", "build-1-1", "promote", "release"});
  expect_workflows_lint_clean(r);

  // `changed` cuts the changed projects into those shards: 256, then 44.
  TempDir tmp;
  auto output = tmp.path() / "github_output";
  r.write("base/Dockerfile", "FROM scratch\nENV X=1\n");
  r.commit();
  mlrepo::util::write_file_atomic(output, "");
  auto changed = r.mlrepo({"changed", "--base", "HEAD~1", "--format", "github-matrix", "--github-output"},
                          {{"GITHUB_OUTPUT", output.string()}});
  INFO(changed.err);
  REQUIRE(changed.code == 0);
  std::map<std::string, nlohmann::json> outputs;
  std::istringstream text(mlrepo::util::read_file(output).value_or(""));
  for (std::string line; std::getline(text, line);) {
    auto eq = line.find('=');
    if (line.rfind("build_", 0) == 0)
      outputs[line.substr(0, eq)] = nlohmann::json::parse(line.substr(eq + 1));
  }
  REQUIRE(outputs.size() == 3);
  CHECK(outputs["build_0_0"]["include"] == nlohmann::json::parse(R"([{"project":"base","path":"base","timeout_minutes":60}])"));
  CHECK(outputs["build_1_0"]["include"].size() == 256);
  CHECK(outputs["build_1_1"]["include"].size() == 44);
  CHECK(outputs["build_1_1"]["include"][43]["project"] == "p299");

  // Per-project mode: 301 workflows, each one build job.
  r.write("mlrepo.yaml", "ci:\n  mlrepo_action: acme/mlrepo@0123456789abcdef0123456789abcdef01234567\n"
                         "registry: ghcr.io/acme\n");
  r.commit();
  REQUIRE(generate(r).code == 0);
  CHECK(load(r, ".github/workflows/mlrepo-p299.yml")["jobs"]["build"]);
  expect_workflows_lint_clean(r);
}

TEST_CASE("the install action caches a built mlrepo per runner image and source, and a warm runner only activates it",
          "[ci]") {
  std::string script = std::string(MLREPO_SOURCE_DIR) + "/scripts/ci-install";
  expect_action_lint_clean(fs::path(MLREPO_SOURCE_DIR) / "action.yml"); // its cache action pinned
  TempDir tmp;
  // The key: stable, naming the runner image, and changed by any source change.
  fs::create_directories(tmp.path() / "src/scripts");
  fs::create_directories(tmp.path() / "src/src");
  fs::copy_file(script, tmp.path() / "src/scripts/ci-install");
  mlrepo::util::write_file_atomic(tmp.path() / "src/CMakeLists.txt", "project(x)\n");
  mlrepo::util::write_file_atomic(tmp.path() / "src/src/a.cpp", "int main() {}\n");
  std::string copy = (tmp.path() / "src/scripts/ci-install").string();
  Env runner{{"ImageOS", "ubuntu24"}, {"ImageVersion", "20261115.1"},
             {"MLREPO_SOURCE_COMMIT", "0123456789abcdef0123456789abcdef01234567"}};
  auto key = run_program({copy, "key"}, tmp.path(), runner);
  REQUIRE(key.code == 0);
  CHECK_THAT(key.out, Contains("key=mlrepo-ubuntu24-20261115.1-") &&
                          Contains("0123456789abcdef0123456789abcdef01234567"));
  CHECK(run_program({copy, "key"}, tmp.path(), runner).out == key.out);
  mlrepo::util::write_file_atomic(tmp.path() / "src/src/a.cpp", "int main() { return 1; }\n");
  CHECK(run_program({copy, "key"}, tmp.path(), runner).out != key.out);
  runner["ImageVersion"] = "20261201.2";
  CHECK(run_program({copy, "key"}, tmp.path(), runner).out != key.out);

  // The cold path's bundle: the binary and the libraries a bare runner lacks,
  // never the C and C++ runtimes.
  auto prefix = tmp.path() / "tool_cache/mlrepo/key";
  fs::create_directories(prefix / "bin");
  fs::copy_file(MLREPO_BIN, prefix / "bin/mlrepo");
  REQUIRE(run_program({script, "bundle", prefix.string()}, tmp.path()).code == 0);
  std::vector<std::string> libs;
  for (const auto& e : fs::directory_iterator(prefix / "lib"))
    libs.push_back(e.path().filename().string());
  auto has = [&](const std::string& stem) {
    return std::any_of(libs.begin(), libs.end(), [&](const auto& l) { return l.rfind(stem, 0) == 0; });
  };
  CHECK(has("libgit2.so"));
  CHECK(has("libyaml-cpp.so"));
  CHECK(has("libcurl.so.4")); // loaded on first registry use, not listed by ldd
  CHECK(has("libnghttp2.so"));
  CHECK_FALSE(has("libc.so"));
  CHECK_FALSE(has("libstdc++.so"));
  auto alone = run_program({(prefix / "bin/mlrepo").string(), "--version"}, tmp.path(),
                           {{"LD_LIBRARY_PATH", (prefix / "lib").string()}});
  CHECK(alone.code == 0);

  // The warm path: put it on PATH and check it runs; nothing is compiled.
  auto github_path = tmp.path() / "github_path";
  mlrepo::util::write_file_atomic(github_path, "");
  auto activate = run_program({script, "activate", prefix.string()}, tmp.path(),
                              {{"GITHUB_PATH", github_path.string()}});
  INFO(activate.err);
  CHECK(activate.code == 0);
  CHECK_THAT(activate.out, Contains("mlrepo"));
  CHECK(mlrepo::util::read_file(github_path).value_or("") == (prefix / "bin").string() + "\n");
  // A cache entry that does not run is an error naming it, not a silent PATH entry.
  fs::remove(prefix / "bin/mlrepo");
  auto broken = run_program({script, "activate", prefix.string()}, tmp.path(), {{"GITHUB_PATH", github_path.string()}});
  CHECK(broken.code == 1);
  CHECK_THAT(broken.err, Contains("::error title=mlrepo install::") && Contains(prefix.string()));
  CHECK(mlrepo::util::read_file(github_path).value_or("") == (prefix / "bin").string() + "\n");
}

TEST_CASE("ci generate: build secrets reach the build steps from their CI secrets, in both modes", "[ci][secrets]") {
  for (auto mode : {"per-project", "matrix"}) {
    GitRepo r;
    r.write("mlrepo.yaml", std::string("registry: ghcr.io/acme\nci:\n  mode: ") + mode +
                               "\n  mlrepo_action: acme/mlrepo@0123456789abcdef0123456789abcdef01234567\n");
    r.write("base/Dockerfile", "FROM scratch\n");
    r.write("base/mlrepo.yaml", "secrets: {pip_token: PIP_TOKEN}\n");
    r.write("train/Dockerfile", "FROM ghcr.io/acme/base\n");
    r.write("train/mlrepo.yaml", "secrets: {hf_token: HF_TOKEN}\nci:\n  secrets: {HF_TOKEN: HUGGINGFACE_TOKEN}\n");
    r.write("other/Dockerfile", "FROM scratch\n");
    r.commit();
    auto run = generate(r);
    INFO(mode << "\n" << run.err);
    REQUIRE(run.code == 0);
    auto file = std::string(mode) == "matrix" ? ".github/workflows/mlrepo.yml" : ".github/workflows/mlrepo-train.yml";
    auto wf = load(r, file);
    // Every build step carries the secrets of what it may build, the tests none.
    size_t build_steps = 0;
    for (const auto& job : wf["jobs"]) {
      for (const auto& step : job.second["steps"]) {
        std::string text = step["run"] ? step["run"].as<std::string>() : "";
        bool builds = text.find("mlrepo build") != std::string::npos;
        bool has_env = step["env"] && step["env"]["HF_TOKEN"];
        // The release job may build any project: it carries every build secret.
        if (builds && (std::string(mode) == "per-project" || job.first.as<std::string>() == "build-1" ||
                       job.first.as<std::string>() == "release")) {
          ++build_steps;
          REQUIRE(has_env);
          CHECK(step["env"]["HF_TOKEN"].as<std::string>() == "${{ secrets.HUGGINGFACE_TOKEN }}");
        } else {
          CHECK_FALSE(has_env);
        }
      }
    }
    CHECK(build_steps == (std::string(mode) == "matrix" ? 3 : 2)); // the pushing build, the fork's, a release's
    // The per-project workflow may build its missing base too: its secret as well.
    if (std::string(mode) == "per-project") {
      CHECK_THAT(*mlrepo::util::read_file(r.file(file)), Contains("PIP_TOKEN: ${{ secrets.PIP_TOKEN }}"));
      CHECK_THAT(*mlrepo::util::read_file(r.file(".github/workflows/mlrepo-other.yml")), !Contains("secrets.PIP"));
    }
    expect_workflows_lint_clean(r);
  }
  // One variable from two CI secrets cannot share a matrix job.
  GitRepo r;
  r.write("mlrepo.yaml", "registry: ghcr.io/acme\nci:\n  mode: matrix\n");
  r.write("a/Dockerfile", "FROM scratch\n");
  r.write("a/mlrepo.yaml", "secrets: {t: TOKEN}\nci:\n  secrets: {TOKEN: A_TOKEN}\n");
  r.write("b/Dockerfile", "FROM scratch\n");
  r.write("b/mlrepo.yaml", "secrets: {t: TOKEN}\n");
  r.commit();
  auto conflict = generate(r);
  CHECK(conflict.code == 2);
  CHECK_THAT(conflict.err, Contains("TOKEN") && Contains("A_TOKEN") && Contains("a/mlrepo.yaml"));
  // ci.secrets names a build secret's variable.
  r.write("b/mlrepo.yaml", "ci:\n  secrets: {TOKEN: B_TOKEN}\n");
  auto stray = r.mlrepo({"list"});
  CHECK(stray.code == 2);
  CHECK_THAT(stray.err, Contains("b/mlrepo.yaml") && Contains("is not the variable of any build secret"));
}

TEST_CASE("ci generate --mode matrix honours ci.enabled and ci.timeout_minutes, and refuses ci.matrix", "[ci]") {
  GitRepo r;
  // A registry on a closed loopback port: the dry-run promotion asks it and is refused at once.
  r.write("mlrepo.yaml", "registry: 127.0.0.1:9/acme\nci:\n  mode: matrix\n"
                         "  mlrepo_action: acme/mlrepo@0123456789abcdef0123456789abcdef01234567\n");
  r.write("fast/Dockerfile", "FROM scratch\n");
  r.write("fast/mlrepo.yaml", "ci:\n  timeout_minutes: 15\n");
  r.write("slow/Dockerfile", "FROM scratch\n");
  r.write("slow/mlrepo.yaml", "ci:\n  timeout_minutes: 240\n");
  r.write("scratchpad/Dockerfile", "FROM scratch\n");
  r.write("scratchpad/mlrepo.yaml", "ci:\n  enabled: false\n");
  r.commit();
  auto run = generate(r);
  INFO(run.err);
  REQUIRE(run.code == 0);
  auto wf = load(r, ".github/workflows/mlrepo.yml");
  CHECK(wf["jobs"]["build-0"]["timeout-minutes"].as<std::string>() == "${{ matrix.timeout_minutes }}");
  CHECK_THAT(wf["jobs"]["promote"]["steps"][3]["run"].as<std::string>(), Contains("--ci-only"));
  expect_workflows_lint_clean(r);

  // What the changes job writes: each project's own timeout, no disabled one.
  TempDir tmp;
  auto out = tmp.path() / "github_output";
  r.write("fast/x", "1\n");
  r.write("slow/x", "1\n");
  r.write("scratchpad/x", "1\n");
  r.commit();
  auto changed = r.mlrepo({"changed", "--base", "HEAD~1", "--github-output"}, {{"GITHUB_OUTPUT", out.string()}});
  REQUIRE(changed.code == 0);
  auto text = *mlrepo::util::read_file(out);
  CHECK_THAT(text, Contains(R"({"project":"fast","path":"fast","timeout_minutes":15})") &&
                       Contains(R"({"project":"slow","path":"slow","timeout_minutes":240})"));
  auto build_line = text.substr(text.find("build_0_0="));
  CHECK_THAT(build_line, !Contains("scratchpad"));

  // Promotion leaves the disabled project alone instead of failing on its missing image.
  auto promote = r.mlrepo({"promote", "--changed", "--base", "HEAD~1", "--ci-only", "--dry-run"});
  CHECK_THAT(promote.err, Contains("scratchpad: not promoted: ci.enabled is false") && !Contains("scratchpad: its"));
  CHECK(promote.code == 1); // the enabled project's image was never pushed here: that, not scratchpad, fails

  // Variants exist only per project: refused with the key's line.
  r.write("slow/mlrepo.yaml", "ci:\n  timeout_minutes: 240\n  matrix:\n    PY: ['3.10']\n");
  r.write("slow/Dockerfile", "FROM scratch\nARG PY\n");
  r.commit();
  auto refused = generate(r);
  CHECK(refused.code == 2);
  CHECK_THAT(refused.err, Contains("slow/mlrepo.yaml:3") && Contains("ci.matrix") && Contains("per-project"));
}

TEST_CASE("ci generate: build jobs get packages: write only for ghcr.io, in both modes", "[ci]") {
  for (auto mode : {"per-project", "matrix"})
    for (auto registry : {"ghcr.io/acme", "registry.example.com/acme"}) {
      GitRepo r;
      r.write("mlrepo.yaml", std::string("registry: ") + registry + "\nci:\n  mode: " + mode +
                                 "\n  mlrepo_action: acme/mlrepo@0123456789abcdef0123456789abcdef01234567\n");
      r.write("a/Dockerfile", "FROM scratch\n");
      r.commit();
      REQUIRE(generate(r).code == 0);
      auto file = std::string(mode) == "matrix" ? ".github/workflows/mlrepo.yml" : ".github/workflows/mlrepo-a.yml";
      auto text = *mlrepo::util::read_file(r.file(file));
      INFO(mode << " " << registry);
      CHECK((text.find("packages: write") != std::string::npos) == (std::string(registry) == "ghcr.io/acme"));
      expect_workflows_lint_clean(r);
    }
}

TEST_CASE("ci generate: a workflow per job, on its schedule in its time zone and by hand", "[ci][job]") {
  GitRepo r;
  r.write("mlrepo.yaml", std::string(kPinned) + "  notify:\n    slack_webhook_secret: SLACK_WEBHOOK_URL\n"
                                                "registry: ghcr.io/acme\n");
  r.write("train/Dockerfile", "FROM scratch\n");
  r.write("train/mlrepo.yaml", "job:\n  command: [python, train.py]\n  secrets: {DB_PASSWORD: TRAIN_DB}\n"
                               "  timeout: 2h\n  schedule: ['30 2 * * mon-fri', '@monthly']\n"
                               "  timezone: Europe/Berlin\n  concurrency: replace\n");
  r.write("score/Dockerfile", "FROM scratch\n");
  r.write("score/mlrepo.yaml", "job:\n  schedule: '@daily'\n  concurrency: allow\n");
  r.write("adhoc/Dockerfile", "FROM scratch\n");
  r.write("adhoc/mlrepo.yaml", "job:\n  command: [sh, -c, 'echo hi']\n");
  r.write("off/Dockerfile", "FROM scratch\n");
  r.write("off/mlrepo.yaml", "ci: {enabled: false}\njob:\n  schedule: '@daily'\n");
  r.commit();
  auto run = generate(r);
  INFO(run.err);
  REQUIRE(run.code == 0);
  CHECK_FALSE(fs::exists(r.file(".github/workflows/mlrepo-job-off.yml"))); // ci.enabled: false

  auto wf = load(r, ".github/workflows/mlrepo-job-train.yml");
  // GitHub's own time-zone support: the cron as written (macros
  // expanded; names, which GitHub reads, kept), with the zone beside it.
  auto schedule = wf["on"]["schedule"];
  REQUIRE(schedule.size() == 2);
  CHECK(schedule[0]["cron"].as<std::string>() == "30 2 * * mon-fri");
  CHECK(schedule[0]["timezone"].as<std::string>() == "Europe/Berlin");
  CHECK(schedule[1]["cron"].as<std::string>() == "0 0 1 * *");
  CHECK(schedule[1]["timezone"].as<std::string>() == "Europe/Berlin");
  CHECK_THAT(mlrepo::util::read_file(r.file(".github/workflows/mlrepo-job-train.yml")).value_or(""),
             Contains("GitHub's per-cron `timezone`"));
  auto input = wf["on"]["workflow_dispatch"]["inputs"]["args"];
  CHECK(input["type"].as<std::string>() == "string");
  CHECK_FALSE(input["required"].as<bool>());
  CHECK(wf["permissions"]["contents"].as<std::string>() == "read");
  CHECK(wf["concurrency"]["group"].as<std::string>() == "mlrepo-job-train");
  CHECK(wf["concurrency"]["cancel-in-progress"].as<bool>()); // replace
  auto job = wf["jobs"]["run"];
  CHECK(job["timeout-minutes"].as<int>() == 120 + 15);
  CHECK(job["permissions"]["packages"].as<std::string>() == "read"); // ghcr.io: pull only
  auto steps = job["steps"];
  auto main_only = step_named(steps, "Run on the default branch only");
  CHECK(main_only["if"].as<std::string>() == "github.ref != 'refs/heads/main'");
  auto go = step_named(steps, "Run the job with the default branch's image, by digest (nothing is built)");
  REQUIRE(go);
  CHECK(go["run"].as<std::string>() == "mlrepo job run 'train' --pull --args \"$JOB_ARGS\"");
  CHECK(go["env"]["JOB_ARGS"].as<std::string>() == "${{ inputs.args }}");
  CHECK(go["env"]["TRAIN_DB"].as<std::string>() == "${{ secrets.TRAIN_DB }}");
  CHECK(go["env"].size() == 2); // only the secrets it names
  auto slack = step_named(steps, "Tell Slack that the job failed");
  REQUIRE(slack);
  CHECK(slack["if"].as<std::string>() == "failure()");
  CHECK(slack["env"]["SCHEDULE"].as<std::string>() == "30 2 * * mon-fri, @monthly (Europe/Berlin)");
  for (const auto& step : steps)
    if (step["run"])
      CHECK_THAT(step["run"].as<std::string>(), !Contains("${{"));

  auto score = load(r, ".github/workflows/mlrepo-job-score.yml");
  CHECK(score["on"]["schedule"][0]["cron"].as<std::string>() == "0 0 * * *");
  CHECK_FALSE(score["on"]["schedule"][0]["timezone"]); // UTC: GitHub's default
  CHECK_FALSE(score["concurrency"]);                   // allow
  CHECK_FALSE(score["jobs"]["run"]["timeout-minutes"]);
  auto adhoc = load(r, ".github/workflows/mlrepo-job-adhoc.yml");
  CHECK_FALSE(adhoc["on"]["schedule"]);
  CHECK(adhoc["on"]["workflow_dispatch"]);
  CHECK_FALSE(adhoc["concurrency"]["cancel-in-progress"].as<bool>()); // forbid: wait, never cancel
  expect_workflows_lint_clean(r);
  CHECK(generate(r, {"--check"}).code == 0);

  SECTION("a removed job's workflow goes; a changed one is drift") {
    r.write("adhoc/mlrepo.yaml", "test: 'true'\n");
    r.write("score/mlrepo.yaml", "job:\n  schedule: '@hourly'\n");
    auto check = generate(r, {"--check"});
    CHECK(check.code == 1);
    CHECK_THAT(check.err, Contains("mlrepo-job-adhoc.yml") && Contains("mlrepo-job-score.yml"));
    REQUIRE(generate(r).code == 0);
    CHECK_FALSE(fs::exists(r.file(".github/workflows/mlrepo-job-adhoc.yml")));
  }
  SECTION("matrix mode has the same job workflows") {
    r.write("mlrepo.yaml", std::string(kPinned) + "  mode: matrix\nregistry: ghcr.io/acme\n");
    REQUIRE(generate(r).code == 0);
    CHECK(fs::exists(r.file(".github/workflows/mlrepo.yml")));
    CHECK(fs::exists(r.file(".github/workflows/mlrepo-job-train.yml")));
    CHECK_FALSE(fs::exists(r.file(".github/workflows/mlrepo-train.yml")));
    expect_workflows_lint_clean(r);
  }
  SECTION("without a registry the job builds its image on the runner") {
    r.write("mlrepo.yaml", std::string(kPinned));
    REQUIRE(generate(r).code == 0);
    auto local = load(r, ".github/workflows/mlrepo-job-adhoc.yml");
    auto step = step_named(local["jobs"]["run"]["steps"], "Run the job, building its image on the runner (no registry)");
    REQUIRE(step);
    CHECK(step["run"].as<std::string>() == "mlrepo job run 'adhoc' --args \"$JOB_ARGS\"");
    CHECK_FALSE(step_named(local["jobs"]["run"]["steps"], "Log in to the registry"));
  }
  SECTION("a project job-<name> beside a job of <name> is refused, naming the file") {
    r.write("job-adhoc/Dockerfile", "FROM scratch\n");
    auto clash = generate(r);
    CHECK(clash.code == 2);
    CHECK_THAT(clash.err, Contains("mlrepo-job-adhoc.yml") && Contains("rename"));
  }
}

TEST_CASE("ci generate: release tags run promote --release, each project's workflow on its own tags",
          "[ci]") {
  GitRepo r;
  r.write("mlrepo.yaml", std::string(kPinned) + "registry: ghcr.io/acme\n");
  r.write("train/Dockerfile", "FROM scratch\nARG PY=3.11\n");
  r.write("train/mlrepo.yaml", "ci:\n  matrix: {PY: ['3.10', '3.11']}\n  timeout_minutes: 90\n");
  r.write("score/Dockerfile", "FROM scratch\n");
  r.commit();
  REQUIRE(generate(r).code == 0);
  auto train = load(r, ".github/workflows/mlrepo-train.yml");
  CHECK(strings(train["on"]["push"]["tags"]) == std::vector<std::string>{"train/v*"});
  CHECK(strings(load(r, ".github/workflows/mlrepo-score.yml")["on"]["push"]["tags"]) ==
        std::vector<std::string>{"score/v*"});
  auto steps = train["jobs"]["build"]["steps"];
  auto release = step_named(steps, "Release the tagged commit's image (VERSION, and the moving tags it outranks)");
  REQUIRE(release);
  CHECK(release["run"].as<std::string>() == "mlrepo promote --release");
  CHECK(release["if"].as<std::string>() == "env.PUSH == 'true' && startsWith(github.ref, 'refs/tags/')");
  // The default-branch promotion stays off a tag run.
  CHECK_THAT(step_named(steps, "Promote the tested image (commit, branch and default-branch tags)")["if"]
                 .as<std::string>(),
             Contains("github.ref == 'refs/heads/main'"));
  CHECK_THAT(train["jobs"]["variants"]["if"].as<std::string>(), Contains("!startsWith(github.ref, 'refs/tags/')"));
  expect_workflows_lint_clean(r);

  SECTION("matrix mode: one release job, the project read from the tag as data") {
    r.write("mlrepo.yaml", std::string(kPinned) + "  mode: matrix\nregistry: ghcr.io/acme\n");
    r.write("train/mlrepo.yaml", "ci:\n  timeout_minutes: 90\n");
    REQUIRE(generate(r).code == 0);
    auto wf = load(r, ".github/workflows/mlrepo.yml");
    CHECK(strings(wf["on"]["push"]["tags"]) == std::vector<std::string>{"**/v*"});
    auto jobs = wf["jobs"];
    CHECK(jobs["changes"]["if"].as<std::string>() == "${{ !startsWith(github.ref, 'refs/tags/') }}");
    auto job = jobs["release"];
    CHECK(job["if"].as<std::string>() == "startsWith(github.ref, 'refs/tags/')");
    CHECK(job["timeout-minutes"].as<int>() == 90); // the longest project's
    CHECK(job["permissions"]["packages"].as<std::string>() == "write");
    auto build = step_named(job["steps"], "Build and test the tagged commit's image, if CI never did");
    REQUIRE(build);
    CHECK(build["run"].as<std::string>() == "project=\"${GITHUB_REF_NAME%/v*}\"\n"
                                              "mlrepo build \"$project\" --push --content-tag-only\n"
                                              "mlrepo test \"$project\" --pull\n");
    CHECK(step_named(job["steps"], "Log in to the registry"));
    CHECK(step_named(job["steps"], "Release the tagged commit's image (VERSION, and the moving tags it outranks)")
              ["run"].as<std::string>() == "mlrepo promote --release");
    expect_workflows_lint_clean(r);
  }
  SECTION("without a registry there is nothing to release") {
    r.write("mlrepo.yaml", std::string(kPinned));
    REQUIRE(generate(r).code == 0);
    CHECK_FALSE(load(r, ".github/workflows/mlrepo-train.yml")["on"]["push"]["tags"]);
    CHECK_THAT(mlrepo::util::read_file(r.file(".github/workflows/mlrepo-train.yml")).value_or(""),
               !Contains("--release"));
  }
}

TEST_CASE("ci generate: with kubernetes.deploy, a deploy job applies the promoted jobs, kubeconfig from a secret",
          "[ci]") {
  GitRepo r;
  r.write("mlrepo.yaml", std::string(kPinned) + "  mode: matrix\nregistry: ghcr.io/acme\n"
                         "kubernetes:\n  deploy: prod\n  kubeconfig_secret: PROD_KUBECONFIG\n"
                         "  environments:\n    prod: {namespace: ml-prod}\n");
  r.write("train/Dockerfile", "FROM scratch\n");
  r.write("train/mlrepo.yaml", "job:\n  schedule: '@daily'\n");
  r.commit();
  auto run = generate(r);
  INFO(run.err);
  REQUIRE(run.code == 0);
  auto wf = load(r, ".github/workflows/mlrepo.yml");
  auto job = wf["jobs"]["deploy"];
  REQUIRE(job);
  CHECK(strings(job["needs"]) == std::vector<std::string>{"changes", "promote", "release"});
  CHECK_THAT(job["if"].as<std::string>(), Contains("refs/heads/main") && Contains("startsWith(github.ref, 'refs/tags/')"));
  CHECK(job["permissions"]["contents"].as<std::string>() == "read");
  CHECK(job["permissions"]["packages"].as<std::string>() == "read");
  auto write = step_named(job["steps"], "Write the kubeconfig (mode 0600, never echoed)");
  REQUIRE(write);
  CHECK(write["env"]["KUBECONFIG_DATA"].as<std::string>() == "${{ secrets.PROD_KUBECONFIG }}");
  CHECK_THAT(write["run"].as<std::string>(), Contains("umask 077") && !Contains("echo \"$KUBECONFIG_DATA"));
  auto apply = step_named(job["steps"], "Apply the promoted images' CronJobs (server-side, pinned by digest)");
  REQUIRE(apply);
  CHECK_THAT(apply["run"].as<std::string>(), Contains("mlrepo job deploy --changed --target kubernetes --env 'prod'") &&
                                                 Contains("--release \"${GITHUB_REF_NAME##*/v}\" --target kubernetes --env 'prod'"));
  CHECK(step_named(job["steps"], "Remove the kubeconfig")["if"].as<std::string>() == "always()");
  CHECK(strings(wf["jobs"]["gate"]["needs"]).back() == "deploy");
  expect_workflows_lint_clean(r);

  SECTION("per-project mode: the project's own workflow deploys it") {
    r.write("mlrepo.yaml", std::string(kPinned) + "registry: ghcr.io/acme\nkubernetes:\n  deploy: true\n");
    REQUIRE(generate(r).code == 0);
    auto own = load(r, ".github/workflows/mlrepo-train.yml")["jobs"]["deploy"];
    REQUIRE(own);
    CHECK(own["needs"].as<std::string>() == "build");
    CHECK_THAT(step_named(own["steps"], "Apply the promoted images' CronJobs (server-side, pinned by digest)")["run"]
                   .as<std::string>(),
               Contains("mlrepo job deploy 'train' --target kubernetes\n"));
    expect_workflows_lint_clean(r);
  }
  SECTION("an unknown environment is refused with its line") {
    r.write("mlrepo.yaml", std::string(kPinned) + "registry: ghcr.io/acme\nkubernetes:\n  deploy: qa\n");
    auto bad = generate(r);
    CHECK(bad.code == 2);
    CHECK_THAT(bad.err, Contains("mlrepo.yaml:5") && Contains("'qa'"));
  }
}

TEST_CASE("ci generate: with ecs.deploy, a deploy job puts the promoted jobs on ECS with OIDC or key credentials",
          "[ci][ecs]") {
  GitRepo r;
  const std::string ecs = "ecs:\n  cluster: ml-jobs\n  region: eu-central-1\n  subnets: [subnet-0abc1234def567890]\n"
                          "  execution_role_arn: arn:aws:iam::123456789012:role/exec\n"
                          "  scheduler_role_arn: arn:aws:iam::123456789012:role/sched\n"
                          "  environments:\n    prod: {region: eu-west-1}\n  deploy: prod\n";
  r.write("mlrepo.yaml", std::string(kPinned) + "  mode: matrix\nregistry: ghcr.io/acme\n" + ecs +
                             "  ci_role_arn: arn:aws:iam::123456789012:role/github-deploy\n");
  r.write("train/Dockerfile", "FROM scratch\n");
  r.write("train/mlrepo.yaml", "job:\n  schedule: '@daily'\n");
  r.commit();
  auto run = generate(r);
  INFO(run.err);
  REQUIRE(run.code == 0);
  // train runs on ECS by default now: no scheduled workflow of its own.
  CHECK_FALSE(fs::exists(r.path() / ".github/workflows/mlrepo-job-train.yml"));
  auto wf = load(r, ".github/workflows/mlrepo.yml");
  auto job = wf["jobs"]["deploy"];
  REQUIRE(job);
  CHECK(job["permissions"]["id-token"].as<std::string>() == "write");
  // Only the deploy job can ask for the OIDC token.
  for (const auto& other : wf["jobs"])
    if (other.first.as<std::string>() != "deploy" && other.second["permissions"])
      CHECK_FALSE(other.second["permissions"]["id-token"]);
  auto creds = step_named(job["steps"], "AWS credentials from GitHub's OIDC token (no stored key)");
  REQUIRE(creds);
  CHECK(creds["uses"].as<std::string>() ==
        "aws-actions/configure-aws-credentials@e6de054238d6b7531b4efff3b6587d9aade6a06c");
  CHECK(creds["with"]["role-to-assume"].as<std::string>() == "arn:aws:iam::123456789012:role/github-deploy");
  CHECK(creds["with"]["aws-region"].as<std::string>() == "eu-west-1"); // the deployed environment's
  auto put = step_named(job["steps"], "Put the promoted images' ECS task definitions and schedules (pinned by digest)");
  REQUIRE(put);
  CHECK_THAT(put["run"].as<std::string>(), Contains("mlrepo job deploy --changed --target ecs --env 'prod'"));
  CHECK_FALSE(step_named(job["steps"], "Write the kubeconfig (mode 0600, never echoed)"));
  expect_workflows_lint_clean(r);

  SECTION("without a role: the access keys from named secrets, and no OIDC token") {
    r.write("mlrepo.yaml", std::string(kPinned) + "  mode: matrix\nregistry: ghcr.io/acme\n" + ecs +
                               "  access_key_id_secret: ML_AWS_KEY_ID\n");
    REQUIRE(generate(r).code == 0);
    auto keyed = load(r, ".github/workflows/mlrepo.yml")["jobs"]["deploy"];
    CHECK_FALSE(keyed["permissions"]["id-token"]);
    auto with = step_named(keyed["steps"], "AWS credentials from the repository's secrets")["with"];
    CHECK(with["aws-access-key-id"].as<std::string>() == "${{ secrets.ML_AWS_KEY_ID }}");
    CHECK(with["aws-secret-access-key"].as<std::string>() == "${{ secrets.AWS_SECRET_ACCESS_KEY }}");
    expect_workflows_lint_clean(r);
  }
  SECTION("kubernetes.deploy and ecs.deploy together have no default place: refused") {
    r.write("mlrepo.yaml", std::string(kPinned) + "registry: ghcr.io/acme\n" + ecs + "kubernetes:\n  deploy: true\n");
    auto bad = generate(r);
    CHECK(bad.code == 2);
    CHECK_THAT(bad.err, Contains("'kubernetes.deploy' and 'ecs.deploy' are both set"));
  }
}

TEST_CASE("ci generate: each job runs on its schedule in one place (job.runs_on), never twice, never on a runner "
          "that cannot run it",
          "[ci][job]") {
  GitRepo r;
  r.write("mlrepo.yaml", std::string(kPinned) + "  mode: matrix\nregistry: ghcr.io/acme\n"
                         "kubernetes:\n  deploy: prod\n  environments:\n    prod: {namespace: ml-prod}\n");
  // A CPU job with the cluster deployed: there by default, no workflow.
  r.write("score/Dockerfile", "FROM scratch\n");
  r.write("score/mlrepo.yaml", "job:\n  schedule: '@daily'\n");
  // A GPU job on a self-hosted GPU runner: a workflow on those labels.
  r.write("train/Dockerfile", "FROM scratch\n");
  r.write("train/mlrepo.yaml", "job:\n  resources: {gpu: 1}\n  timeout: 12h\n  schedule: '0 2 * * *'\n"
                               "  runs_on: {github-actions: [self-hosted, linux, gpu]}\n");
  // A CPU job the team keeps in Actions although a cluster is deployed.
  r.write("report/Dockerfile", "FROM scratch\n");
  r.write("report/mlrepo.yaml", "job:\n  schedule: '0 6 * * 1'\n  timeout: 7h\n  runs_on: github-actions\n");
  r.commit();
  auto bad = generate(r);
  // report's 7h timeout is above the hosted runner's 6h: refused, naming the limit.
  CHECK(bad.code == 2);
  CHECK_THAT(bad.err, Contains("report/mlrepo.yaml:4") && Contains("360 minutes") && Contains("ubuntu-latest") &&
                          !Contains("train/mlrepo.yaml"));
  r.write("report/mlrepo.yaml", "job:\n  schedule: '0 6 * * 1'\n  timeout: 5h50m\n  runs_on: github-actions\n");
  auto run = generate(r);
  INFO(run.err);
  REQUIRE(run.code == 0);
  CHECK_FALSE(fs::exists(r.file(".github/workflows/mlrepo-job-score.yml")));
  auto train = load(r, ".github/workflows/mlrepo-job-train.yml");
  CHECK(strings(train["jobs"]["run"]["runs-on"]) == std::vector<std::string>{"self-hosted", "linux", "gpu"});
  CHECK(train["jobs"]["run"]["timeout-minutes"].as<int>() == 12 * 60 + 15); // self-hosted: no 360 limit
  auto report = load(r, ".github/workflows/mlrepo-job-report.yml");
  CHECK(report["jobs"]["run"]["runs-on"].as<std::string>() == "ubuntu-latest");
  CHECK(report["jobs"]["run"]["timeout-minutes"].as<int>() == 360); // 5h50m and set-up, within the limit
  // The cluster's deploy job still exists (score runs there).
  CHECK(load(r, ".github/workflows/mlrepo.yml")["jobs"]["deploy"]);
  // actionlint knows GitHub's own labels; a self-hosted runner's are
  // declared for it, as a team with such a runner does.
  r.write(".github/actionlint.yaml", "self-hosted-runner:\n  labels: [gpu]\n");
  expect_workflows_lint_clean(r);

  // A GPU job on GitHub's hosted runner fails every night: refused with the
  // fix, together with every other such problem.
  r.write("train/mlrepo.yaml", "job:\n  resources: {gpu: 1}\n  schedule: '0 2 * * *'\n  runs_on: github-actions\n");
  r.write("report/mlrepo.yaml", "job:\n  schedule: '0 6 * * 1'\n  timeout: 8h\n  runs_on: github-actions\n");
  auto gpu = generate(r);
  CHECK(gpu.code == 2);
  CHECK_THAT(gpu.err, Contains("2 jobs cannot run where they are scheduled") && Contains("train/mlrepo.yaml:4") &&
                          Contains("1 GPU") && Contains("report/mlrepo.yaml:4") &&
                          Contains("runs_on: {github-actions: [self-hosted, gpu]}") &&
                          Contains("runs_on: kubernetes"));

  // Without kubernetes.deploy, every job runs in Actions by default, and a
  // misspelt target is refused at its line.
  r.write("mlrepo.yaml", std::string(kPinned) + "registry: ghcr.io/acme\n");
  r.write("train/mlrepo.yaml", "job:\n  schedule: '0 2 * * *'\n  runs_on: kubernetis\n");
  auto typo = generate(r);
  CHECK(typo.code == 2);
  CHECK_THAT(typo.err, Contains("train/mlrepo.yaml:3") && Contains("did you mean 'kubernetes'"));
  r.write("train/mlrepo.yaml", "job:\n  schedule: '0 2 * * *'\n");
  r.write("report/mlrepo.yaml", "job:\n  schedule: '0 6 * * 1'\n");
  REQUIRE(generate(r).code == 0);
  CHECK(fs::exists(r.file(".github/workflows/mlrepo-job-score.yml")));
  CHECK(fs::exists(r.file(".github/workflows/mlrepo-job-train.yml")));
}
