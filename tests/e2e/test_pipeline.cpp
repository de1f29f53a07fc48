// `mlrepo pipeline list|graph|run` against the real Docker engine: artifacts
// and params flowing between steps, the step cache (a second run all cached,
// a change rerunning only what is downstream, --from, --only, --no-cache),
// fail-fast with retries and blocked dependents, Ctrl-C with two steps running.
#include "support/docker.hpp"

#include "mlrepo/util/fs.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <thread>

using namespace mlrepo::test;
using Catch::Contains;

namespace {

// extract -> train -> evaluate (reading both), each a project of busybox.
struct Churn {
  GitRepo repo;
  ImageScope images;
  Churn() {
    repo.write("mlrepo.yaml", "image_prefix: " + images.prefix() + R"Y(
pipelines:
  churn:
    params: {day: "2026-01-01"}
    steps:
      evaluate:
        project: model
        command: [sh, -c, 'echo "evaluated $(cat /mlrepo/inputs/model/m.txt) on $(cat /mlrepo/inputs/features/f.txt)"']
        inputs: {model: train.model, features: extract.features}
      extract:
        project: features
        command: [sh, -c, 'echo "features of {{params.day}}" > /mlrepo/outputs/features/f.txt']
        outputs: [features]
      train:
        project: model
        inputs: {features: extract.features}
        outputs: [model]
)Y");
    repo.write("features/Dockerfile", "FROM " + busybox_image() + "\n");
    repo.write("model/Dockerfile", "FROM " + busybox_image() + "\nCOPY version /version\n");
    repo.write("model/version", "v1\n");
    // The step's command comes from the project's job:.
    repo.write("model/mlrepo.yaml", "job:\n  command: [sh, -c, 'echo \"model $(cat /version | tr -d \"\\n\") from "
                                    "$(cat /mlrepo/inputs/features/f.txt)\" > /mlrepo/outputs/model/m.txt']\n");
    repo.commit();
  }
  Run run(std::vector<std::string> args) const {
    args.insert(args.begin(), {"pipeline", "run", "churn", "--json"});
    return repo.mlrepo(args);
  }
};

// status by step name from `pipeline run --json`.
std::map<std::string, std::string> statuses(const nlohmann::json& j) {
  std::map<std::string, std::string> out;
  for (const auto& s : j.at("steps"))
    out[s.at("name")] = s.at("status");
  return out;
}

const nlohmann::json& step(const nlohmann::json& j, const std::string& name) {
  for (const auto& s : j.at("steps"))
    if (s.at("name") == name)
      return s;
  FAIL("no step " << name);
  return j;
}

std::string output_file(const nlohmann::json& j, const std::string& step, const std::string& rel) {
  return mlrepo::util::read_file(fs::path(j.at("run_dir").get<std::string>()) / step / "outputs" / rel).value_or("");
}

bool wait_for(const fs::path& file, const std::string& text, int count = 1) {
  for (int i = 0; i < 600; ++i) {
    auto content = mlrepo::util::read_file(file).value_or("");
    int seen = 0;
    for (size_t at = content.find(text); at != std::string::npos; at = content.find(text, at + 1))
      ++seen;
    if (seen >= count)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

} // namespace

TEST_CASE("pipeline run: artifacts and params flow through three steps, and a second run is all cached",
          "[pipeline][docker]") {
  Churn c;
  auto first = c.run({});
  INFO(first.err);
  REQUIRE(first.code == 0);
  auto j = first.json();
  CHECK(j.at("status") == "succeeded");
  CHECK(statuses(j) == std::map<std::string, std::string>{
                           {"extract", "succeeded"}, {"train", "succeeded"}, {"evaluate", "succeeded"}});
  // Steps in order, each with its image digest and one attempt.
  CHECK(j.at("steps")[0].at("name") == "extract");
  CHECK(j.at("steps")[2].at("name") == "evaluate");
  CHECK(step(j, "train").at("attempts") == 1);
  CHECK(step(j, "train").at("exit_code") == 0);
  CHECK(step(j, "train").at("digest").get<std::string>().rfind("sha256:", 0) == 0);
  // The outputs are on the host, in the run's directory.
  CHECK(output_file(j, "extract", "features/f.txt") == "features of 2026-01-01\n");
  CHECK(output_file(j, "train", "model/m.txt") == "model v1 from features of 2026-01-01\n");
  CHECK_THAT(first.err, Contains("evaluate | evaluated model v1 from features of 2026-01-01 on features of 2026-01-01"));
  CHECK_THAT(first.err, Contains("run directory " + j.at("run_dir").get<std::string>()));
  // The run's directory is outside the work tree's files.
  CHECK(c.repo.git({"status", "--porcelain"}).empty());

  SECTION("a second run starts no container") {
    auto again = c.run({});
    INFO(again.err);
    REQUIRE(again.code == 0);
    auto k = again.json();
    CHECK(statuses(k) == std::map<std::string, std::string>{
                             {"extract", "cached"}, {"train", "cached"}, {"evaluate", "cached"}});
    CHECK(step(k, "train").at("attempts") == 0);
    CHECK_THAT(again.err, !Contains("docker run"));
    CHECK(output_file(k, "train", "model/m.txt") == "model v1 from features of 2026-01-01\n");
    CHECK(k.at("run_dir") != j.at("run_dir"));
  }
  SECTION("prune --pipeline-cache empties the cache; with --older-than it keeps what was used since") {
    auto recent = c.repo.mlrepo({"prune", "--pipeline-cache", "--older-than", "1d", "--json"});
    INFO(recent.err);
    REQUIRE(recent.code == 0);
    CHECK(recent.json().at("entries").empty());
    auto dry = c.repo.mlrepo({"prune", "--pipeline-cache", "--dry-run"});
    CHECK_THAT(dry.out, Contains("would free") && Contains("3 cache entries, 1 runs"));
    CHECK(fs::exists(fs::path(j.at("run_dir").get<std::string>())));
    auto all = c.repo.mlrepo({"prune", "--pipeline-cache"});
    CHECK_THAT(all.out, Contains("freed") && Contains("3 cache entries, 1 runs") &&
                            Contains("pipeline churn, step train"));
    CHECK_FALSE(fs::exists(fs::path(j.at("run_dir").get<std::string>())));
    auto k = c.run({}).json();
    CHECK(statuses(k) == std::map<std::string, std::string>{
                             {"extract", "succeeded"}, {"train", "succeeded"}, {"evaluate", "succeeded"}});
  }
  SECTION("a change to one project reruns its steps and what is downstream only") {
    c.repo.write("model/version", "v2\n");
    c.repo.commit();
    auto k = c.run({}).json();
    CHECK(statuses(k) == std::map<std::string, std::string>{
                             {"extract", "cached"}, {"train", "succeeded"}, {"evaluate", "succeeded"}});
    CHECK(output_file(k, "train", "model/m.txt") == "model v2 from features of 2026-01-01\n");
  }
  SECTION("--param changes the step that uses it and what reads its output") {
    auto other = c.run({"--param", "day=2027-05-06"});
    INFO(other.err);
    auto k = other.json();
    CHECK(statuses(k) == std::map<std::string, std::string>{
                             {"extract", "succeeded"}, {"train", "succeeded"}, {"evaluate", "succeeded"}});
    CHECK(output_file(k, "train", "model/m.txt") == "model v1 from features of 2027-05-06\n");
    auto unknown = c.run({"--param", "dya=1"});
    CHECK(unknown.code == 2);
    CHECK_THAT(unknown.err, Contains("--param dya: pipeline churn has no parameter 'dya'"));
  }
  SECTION("--from reruns a step and everything downstream, --only one step, --no-cache all") {
    auto from = c.run({"--from", "train"}).json();
    CHECK(statuses(from) == std::map<std::string, std::string>{
                                {"extract", "cached"}, {"train", "succeeded"}, {"evaluate", "succeeded"}});
    auto only = c.run({"--only", "evaluate"}).json();
    CHECK(statuses(only) == std::map<std::string, std::string>{
                                {"extract", "cached"}, {"train", "cached"}, {"evaluate", "succeeded"}});
    auto all = c.run({"--no-cache"}).json();
    CHECK(statuses(all) == std::map<std::string, std::string>{
                               {"extract", "succeeded"}, {"train", "succeeded"}, {"evaluate", "succeeded"}});
    auto typo = c.run({"--only", "evalute"});
    CHECK(typo.code == 2);
    CHECK_THAT(typo.err, Contains("--only evalute: pipeline churn has no step 'evalute'"));
    CHECK_THAT(typo.err, Contains("did you mean 'evaluate'?"));
  }
}

TEST_CASE("pipeline run: --only and --from need their inputs in the cache", "[pipeline][docker]") {
  Churn c;
  auto only = c.run({"--only", "train"});
  CHECK(only.code == 2);
  CHECK_THAT(only.err, Contains("step train reads 'features' of step extract, which has no cached output"));
  CHECK_THAT(only.err, !Contains("docker run"));
  auto from = c.run({"--from", "evaluate"});
  CHECK(from.code == 2);
}

TEST_CASE("pipeline run: a failing step retries, blocks its dependents, and no new step starts",
          "[pipeline][docker]") {
  GitRepo repo;
  ImageScope images;
  repo.write("mlrepo.yaml", "image_prefix: " + images.prefix() + R"Y(
pipelines:
  p:
    steps:
      flaky:
        project: tool
        command: [sh, -c, 'echo trying; exit 3']
        retries: 1
        outputs: [x]
      slow:
        project: tool
        command: [sh, -c, 'sleep 5']
        timeout: 1s
        retries: 1
      after-flaky:
        project: tool
        inputs: {x: flaky.x}
        command: [sh, -c, 'echo never']
      later:
        project: tool
        after: [slow]
        command: [sh, -c, 'echo never']
)Y");
  repo.write("tool/Dockerfile", "FROM " + busybox_image() + "\n");
  repo.commit();
  auto r = repo.mlrepo({"pipeline", "run", "p", "-j", "2", "--json"});
  INFO(r.err);
  CHECK(r.code == 1);
  auto j = r.json();
  CHECK(j.at("status") == "failed");
  CHECK(step(j, "flaky").at("status") == "failed");
  CHECK(step(j, "flaky").at("attempts") == 2);
  CHECK(step(j, "flaky").at("exit_code") == 3);
  CHECK(step(j, "after-flaky").at("status") == "blocked");
  CHECK(step(j, "after-flaky").at("attempts") == 0);
  // Its timeout is each attempt's: a second attempt after the first timed
  // out (a deadline for the whole step would have ended it), and both
  // stopped long before their 5 s sleep (10 s without a timeout; the margin
  // is for starting and stopping containers on a busy machine).
  CHECK(step(j, "slow").at("status") == "failed");
  CHECK(step(j, "slow").at("attempts") == 2);
  CHECK(step(j, "slow").at("duration_s").get<double>() < 9);
  CHECK(step(j, "later").at("status") == "blocked");
  CHECK_THAT(r.err, Contains("flaky: attempt 1/2 failed with exit code 3; retrying"));
  CHECK_THAT(r.err, Contains("timed out after 1s (pipelines.p.steps.slow.timeout in mlrepo.yaml)"));
  CHECK_THAT(r.err, !Contains("echo never"));
  // A failed step's outputs are kept for a look, and never cached.
  auto again = repo.mlrepo({"pipeline", "run", "p", "--only", "flaky", "--json"});
  CHECK(step(again.json(), "flaky").at("attempts") == 2);
  // The text summary: one row per step.
  auto text = repo.mlrepo({"pipeline", "run", "p", "--only", "flaky"});
  CHECK(text.code == 1);
  CHECK_THAT(text.out, Contains("STEP") && Contains("flaky") && Contains("failed") && Contains("pipeline p: failed"));
}

TEST_CASE("pipeline run: fail-fast starts no new step once one failed", "[pipeline][docker]") {
  GitRepo repo;
  ImageScope images;
  repo.write("mlrepo.yaml", "image_prefix: " + images.prefix() + R"Y(
pipelines:
  p:
    steps:
      first: {project: tool, command: [sh, -c, 'exit 1']}
      second: {project: tool, command: [sh, -c, 'echo ran']}
)Y");
  repo.write("tool/Dockerfile", "FROM " + busybox_image() + "\n");
  repo.commit();
  auto r = repo.mlrepo({"pipeline", "run", "p", "-j", "1", "--json"});
  INFO(r.err);
  CHECK(r.code == 1);
  auto j = r.json();
  CHECK(step(j, "first").at("status") == "failed");
  CHECK(step(j, "second").at("status") == "skipped");
}

TEST_CASE("pipeline run: Ctrl-C with two steps running stops both and exits 130", "[pipeline][docker]") {
  GitRepo repo;
  ImageScope images;
  // The marker is spelt so that only the containers' output has it.
  repo.write("mlrepo.yaml", "image_prefix: " + images.prefix() + R"Y(
pipelines:
  p:
    steps:
      one: {project: tool, command: [sh, -c, 'echo st""arted; exec sleep 300'], retries: 2}
      two: {project: tool, command: [sh, -c, 'echo st""arted; exec sleep 300']}
      three: {project: tool, after: [one, two]}
)Y");
  repo.write("tool/Dockerfile", "FROM " + busybox_image() + "\n");
  repo.commit();
  TempDir tmp;
  auto out = tmp.path() / "out.txt";
  Background mlrepo({MLREPO_BIN, "pipeline", "run", "p", "-j", "2"}, repo.path(), {{"CI", std::nullopt}}, out);
  REQUIRE(wait_for(out, "started", 2));
  auto sent = std::chrono::steady_clock::now();
  mlrepo.signal(SIGINT);
  int code = mlrepo.wait(60);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
  auto log = mlrepo::util::read_file(out).value_or("");
  INFO(log);
  CHECK(code == 130);
  CHECK(took < 15);
  CHECK_THAT(log, !Contains("attempt 2/3"));
  CHECK(no_container_left(images.prefix()));
}

TEST_CASE("pipeline: invalid specs and missing secrets are exit 2 before anything builds", "[pipeline][docker]") {
  GitRepo repo;
  ImageScope images;
  repo.write("mlrepo.yaml", "image_prefix: " + images.prefix() + R"Y(
pipelines:
  p:
    steps:
      a: {project: tool, outputs: [m], secrets: {TOKEN: PIPELINE_TEST_TOKEN}}
      b: {project: tol, inputs: {m: a.n}}
)Y");
  repo.write("tool/Dockerfile", "FROM " + busybox_image() + "\n");
  repo.commit();
  for (const auto& cmd : std::vector<std::vector<std::string>>{{"pipeline", "run", "p"}, {"pipeline", "graph", "p"},
                                                                {"pipeline", "list"}}) {
    auto r = repo.mlrepo(cmd);
    INFO(r.err);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains("2 problems in pipeline p"));
    CHECK_THAT(r.err, Contains("mlrepo.yaml:6: 'pipelines.p.steps.b.project' names 'tol', which is no project"));
    CHECK_THAT(r.err, Contains("'pipelines.p.steps.b.inputs.m' reads 'n' of step a"));
    CHECK_THAT(r.err, !Contains("building"));
  }
  repo.write("mlrepo.yaml", "image_prefix: " + images.prefix() + R"Y(
pipelines:
  p:
    steps:
      a: {project: tool, outputs: [m], secrets: {TOKEN: PIPELINE_TEST_TOKEN}}
)Y");
  repo.commit();
  auto r = repo.mlrepo({"pipeline", "run", "p"}, {{"PIPELINE_TEST_TOKEN", std::nullopt}});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Contains("pipeline p: the secret PIPELINE_TEST_TOKEN is not set in this environment"));
  CHECK_THAT(r.err, Contains("export PIPELINE_TEST_TOKEN=...   # step a"));
  CHECK_THAT(r.err, !Contains("building"));
  auto unknown = repo.mlrepo({"pipeline", "run", "nope"});
  CHECK(unknown.code == 2);
  CHECK_THAT(unknown.err, Contains("there is no pipeline 'nope'"));
}

TEST_CASE("pipeline list: steps in order with their projects, and --changed names what a change touches",
          "[pipeline]") {
  Churn c;
  auto list = c.repo.mlrepo({"pipeline", "list", "--json"});
  INFO(list.err);
  REQUIRE(list.code == 0);
  auto j = list.json();
  REQUIRE(j.at("pipelines").size() == 1);
  const auto& p = j.at("pipelines")[0];
  CHECK(p.at("name") == "churn");
  CHECK(p.at("steps")[0].at("name") == "extract");
  CHECK(p.at("steps")[1].at("project") == "model");
  CHECK(p.at("steps")[2].at("needs") == nlohmann::json::array({"extract", "train"}));
  CHECK(p.at("params").at("day") == "2026-01-01");
  auto text = c.repo.mlrepo({"pipeline", "list"});
  CHECK_THAT(text.out, Contains("churn\n  steps      extract"));

  auto base = c.repo.head();
  auto none = c.repo.mlrepo({"pipeline", "list", "--changed", "--base", base, "--json"});
  CHECK(none.json().at("pipelines").empty());
  c.repo.write("features/notes.txt", "x\n");
  c.repo.commit();
  auto changed = c.repo.mlrepo({"pipeline", "list", "--changed", "--base", base, "--json"});
  INFO(changed.err);
  auto steps = changed.json().at("pipelines")[0].at("steps");
  CHECK(steps[0].at("changed") == true);  // extract: features changed
  CHECK(steps[1].at("changed") == false); // train: model did not
  auto changed_text = c.repo.mlrepo({"pipeline", "list", "--changed", "--base", base});
  CHECK_THAT(changed_text.out, Contains("(changed)"));
}

TEST_CASE("pipeline graph: mermaid by default, json and dot with every edge", "[pipeline]") {
  Churn c;
  auto json = c.repo.mlrepo({"pipeline", "graph", "churn", "--format", "json"});
  REQUIRE(json.code == 0);
  auto j = json.json();
  CHECK(j.at("steps").size() == 3);
  CHECK(j.at("edges").size() == 3);
  auto mermaid = c.repo.mlrepo({"pipeline", "graph", "churn"});
  CHECK_THAT(mermaid.out, Contains("flowchart LR") && Contains("-->|\"features\"|"));
  auto dot = c.repo.mlrepo({"pipeline", "graph", "churn", "--format", "dot"});
  CHECK_THAT(dot.out, Contains("\"extract\" -> \"train\" [label=\"features\"];"));
}

TEST_CASE("pipeline run --pull: the registry's images by digest, nothing built", "[pipeline][docker][registry]") {
  Registry registry;
  GitRepo repo;
  ImageScope images;
  repo.write("mlrepo.yaml", "registry: " + registry.host() + "/acme\nimage_prefix: " + images.prefix() + R"Y(
pipelines:
  p:
    steps:
      make: {project: tool, command: [sh, -c, 'echo made > /mlrepo/outputs/m/v'], outputs: [m]}
      use: {project: tool, command: [sh, -c, 'cat /mlrepo/inputs/m/v'], inputs: {m: make.m}}
)Y");
  repo.write("tool/Dockerfile", "FROM " + busybox_image() + "\n");
  repo.commit();
  auto missing = repo.mlrepo({"pipeline", "run", "p", "--pull"});
  CHECK(missing.code == 1);
  CHECK_THAT(missing.err, Contains("cannot run without these images") && Contains("mlrepo build --push"));
  CHECK_THAT(missing.err, !Contains("docker run"));

  auto push = repo.mlrepo({"build", "--push", "tool"});
  REQUIRE(push.code == 0);
  auto repository = "acme/" + images.prefix() + "tool";
  auto tags = registry.tags(repository);
  REQUIRE_FALSE(tags.empty());
  auto digest = registry.tag_digest(repository, tags.front());
  REQUIRE_FALSE(digest.empty());
  auto run = repo.mlrepo({"pipeline", "run", "p", "--pull", "--json"});
  INFO(run.err);
  CHECK(run.code == 0);
  auto j = run.json();
  CHECK(step(j, "make").at("digest") == digest);
  CHECK(step(j, "use").at("digest") == digest);
  CHECK_THAT(run.err, Contains(registry.host() + "/" + repository + "@" + digest) && !Contains("building"));
  CHECK_THAT(run.err, Contains("use | made"));
}

TEST_CASE("pipeline run: a step's secret reaches its container by name only, never argv, logs or the report",
          "[pipeline][docker]") {
  GitRepo repo;
  ImageScope images;
  repo.write("mlrepo.yaml", "image_prefix: " + images.prefix() + R"Y(
pipelines:
  p:
    steps:
      use:
        project: tool
        secrets: {TOKEN: PIPELINE_SECRET_TOKEN}
        command: [sh, -c, 'printf %s "$TOKEN" | sha256sum > /mlrepo/outputs/h/v; echo got ${#TOKEN} bytes']
        outputs: [h]
)Y");
  repo.write("tool/Dockerfile", "FROM " + busybox_image() + "\n");
  repo.commit();
  const std::string secret = "s3cr3t-value-for-the-pipeline";
  auto run = repo.mlrepo({"pipeline", "run", "p", "--json", "-v"}, {{"PIPELINE_SECRET_TOKEN", secret}});
  INFO(run.err);
  REQUIRE(run.code == 0);
  CHECK_THAT(run.err, Contains("use | got " + std::to_string(secret.size()) + " bytes"));
  CHECK_THAT(run.err, Contains("-e TOKEN "));
  CHECK_THAT(run.out + run.err, !Contains(secret));
  // The value reached the container: its hash is in the step's output.
  auto j = run.json();
  auto hash = output_file(j, "use", "h/v");
  TempDir tmp;
  mlrepo::util::write_file_atomic(tmp.path() / "s", secret);
  auto expected = run_program({"sha256sum", (tmp.path() / "s").string()}, tmp.path()).out.substr(0, 64);
  CHECK(hash.substr(0, 64) == expected);
  // Nothing under the run's or the cache's directories holds it either.
  auto grep = run_program({"grep", "-rl", secret, (repo.path() / ".git" / "mlrepo").string()}, repo.path());
  CHECK(grep.out.empty());
}
