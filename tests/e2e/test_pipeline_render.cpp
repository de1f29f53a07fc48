// `mlrepo pipeline render|deploy`: Argo Workflows objects from the workspace's
// pipelines, each step's image pinned by the digest the real registry
// (Debian's docker-registry) holds. No Argo controller and no cluster run
// here: every object is loaded into Argo's own types (hera's models, generated
// from Argo's schema) and must dump back unchanged, then tests/tools/
// argo_check.py checks what the schema cannot (entrypoint, depends, artifact
// references, parameters, the CronWorkflow's reference and deadline); every
// kustomization is built by `kubectl kustomize`. What no real server checked:
// that the controller accepts and schedules the objects, the artifact
// repository, RBAC, and that the images can be pulled from the cluster.
#include "support/docker.hpp"

#include "mlrepo/util/fs.hpp"

#include <catch2/catch.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <yaml-cpp/yaml.h>

using namespace mlrepo::test;
using Catch::Contains;

namespace {

const std::string kPython = std::string(MLREPO_TOOLS_DIR) + "/python";
const std::string kArgoCheck = std::string(MLREPO_SOURCE_DIR) + "/tests/tools/argo_check.py";

void expect_argo_valid(const std::vector<fs::path>& files) {
  std::vector<std::string> argv{kPython, kArgoCheck};
  for (const auto& f : files)
    argv.push_back(f.string());
  auto r = run_program(argv, fs::temp_directory_path());
  INFO("argo_check over " << files.size() << " files:\n" << r.out << r.err);
  CHECK(r.code == 0);
}

std::string kustomize(const fs::path& dir) {
  auto r = run_program({"kubectl", "kustomize", dir.string()}, dir);
  INFO("kubectl kustomize " << dir << ":\n" << r.err);
  REQUIRE(r.code == 0);
  return r.out;
}

// extract -> train -> evaluate (reads both) -> publish (after evaluate), on
// a schedule with a param, a secret, a GPU, retries and deadlines; and a
// pipeline of one step scheduled in GitHub Actions. Three projects of busybox, pushed.
struct Pipelines {
  Registry registry;
  ImageScope images;
  GitRepo repo;
  Pipelines() {
    repo.write("mlrepo.yaml", "registry: " + registry.host() + "/acme\nimage_prefix: " + images.prefix() + R"Y(
kubernetes:
  namespace: ml
  service_account: ml-runner
  secret: ml-secrets
  gpu_node_selector: {accelerator: nvidia-a100}
  environments:
    prod:
      namespace: ml-prod
      env: {STAGE: prod}
      schedule: ['0 4 * * *']
      suspend: true
pipelines:
  nightly:
    schedule: ['0 2 * * *', '30 14 * * sat']
    timezone: Europe/Berlin
    concurrency: forbid
    runs_on: kubernetes
    timeout: 6h
    params: {day: "2026-01-01"}
    steps:
      extract:
        project: features
        command: [sh, -c, 'echo "features of {{params.day}}" > /mlrepo/outputs/features/f.txt']
        outputs: [features]
      train:
        project: model
        inputs: {features: extract.features}
        outputs: [model]
        retries: 2
        timeout: 2h
        resources: {cpu: "2", memory: 8Gi, gpu: 1}
      evaluate:
        project: model
        command: [sh, -c, 'cat /mlrepo/inputs/model/m.txt']
        inputs: {model: train.model, features: extract.features}
      publish:
        project: publisher
        after: [evaluate]
        inputs: {model: train.model}
  adhoc:
    schedule: '0 6 * * 1'
    runs_on: github-actions
    steps:
      main:
        project: publisher
)Y");
    repo.write("features/Dockerfile", "FROM " + busybox_image() + "\n");
    repo.write("model/Dockerfile", "FROM " + busybox_image() + "\nCOPY version /version\n");
    repo.write("model/version", "v1\n");
    repo.write("model/mlrepo.yaml", "job:\n  command: [sh, -c, 'cp /version /mlrepo/outputs/model/m.txt']\n"
                                    "  env: {MODEL_DIR: /mlrepo/outputs/model}\n"
                                    "  secrets: {DB_PASSWORD: TRAIN_DB_PASSWORD}\n");
    repo.write("publisher/Dockerfile", "FROM " + busybox_image() + "\n");
    repo.write("publisher/mlrepo.yaml", "job:\n  command: sh -c 'ls /mlrepo/inputs'\n");
    repo.commit();
  }
  void push() const {
    auto r = repo.mlrepo({"build", "--all", "--push"});
    INFO(r.err);
    REQUIRE(r.code == 0);
  }
  std::string image(const std::string& project) const {
    std::string repository = "acme/" + images.prefix() + project;
    for (const auto& t : registry.tags(repository))
      if (t == repo.head())
        return registry.host() + "/" + repository + "@" + registry.tag_digest(repository, t);
    return "";
  }
};

// The rendered WorkflowTemplate's DAG: task -> its depends, and template ->
// its artifact paths.
struct Dag {
  std::map<std::string, std::string> depends;
  std::vector<std::string> tasks; // as written
  std::map<std::string, std::set<std::string>> paths; // step -> inputs' and outputs' paths
  std::map<std::string, std::string> images;
};

Dag read_dag(const std::string& text) {
  Dag out;
  auto doc = YAML::Load(text);
  for (const auto& t : doc["spec"]["templates"]) {
    if (t["dag"]) {
      for (const auto& task : t["dag"]["tasks"]) {
        out.tasks.push_back(task["name"].as<std::string>());
        out.depends[task["name"].as<std::string>()] = task["depends"] ? task["depends"].as<std::string>() : "";
      }
      continue;
    }
    std::string step = t["name"].as<std::string>().substr(5); // step-<name>
    out.images[step] = t["container"]["image"].as<std::string>();
    for (const char* side : {"inputs", "outputs"})
      if (t[side])
        for (const auto& a : t[side]["artifacts"])
          out.paths[step].insert(a["path"].as<std::string>());
  }
  return out;
}

} // namespace

TEST_CASE("pipeline render: a WorkflowTemplate, a CronWorkflow when scheduled, kustomizations and overlays, every "
          "image the registry's digest, valid for Argo's own types",
          "[pipeline][render][docker][registry]") {
  Pipelines p;
  p.push();
  auto r = p.repo.mlrepo({"pipeline", "render", "--all"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  fs::path dir = p.repo.path() / "deploy/argo";
  for (const char* f : {"nightly/workflowtemplate.yaml", "nightly/cronworkflow.yaml", "nightly/kustomization.yaml",
                        "nightly/overlays/prod/workflowtemplate.yaml", "nightly/overlays/prod/cronworkflow.yaml",
                        "adhoc/workflowtemplate.yaml", "adhoc/kustomization.yaml"})
    CHECK(fs::exists(dir / f));
  // Its schedule runs in GitHub Actions: on the cluster only the template.
  CHECK_FALSE(fs::exists(dir / "adhoc/cronworkflow.yaml"));
  CHECK_THAT(mlrepo::util::read_file(dir / "adhoc/workflowtemplate.yaml").value_or(""),
             Contains("Its schedule runs in GitHub Actions (runs_on: github-actions), so no CronWorkflow."));
  CHECK_THAT(r.err, Contains("nightly: model: " + p.image("model")));

  auto text = mlrepo::util::read_file(dir / "nightly/workflowtemplate.yaml").value_or("");
  // Every image is the digest the registry holds for the project at HEAD.
  auto dag = read_dag(text);
  CHECK(dag.images["extract"] == p.image("features"));
  CHECK(dag.images["train"] == p.image("model"));
  CHECK(dag.images["publish"] == p.image("publisher"));
  CHECK(dag.depends["train"] == "extract");
  CHECK(dag.depends["evaluate"] == "extract && train");
  CHECK(dag.depends["publish"] == "train && evaluate");
  // The digests vary per run: the golden file holds them as placeholders.
  std::string shown = text;
  for (const char* project : {"features", "model", "publisher"})
    for (size_t at; (at = shown.find(p.image(project))) != std::string::npos;)
      shown.replace(at, p.image(project).size(), std::string("<") + project + "@digest>");
  // The labels' part-of is the image prefix, which differs per run too.
  std::string prefix = p.images.prefix().substr(0, p.images.prefix().size() - 1);
  for (size_t at; (at = shown.find(prefix)) != std::string::npos;)
    shown.replace(at, prefix.size(), "<prefix>");
  auto golden_file = fs::path(MLREPO_SOURCE_DIR) / "tests/golden/argo/nightly-workflowtemplate.yaml";
  if (std::getenv("MLREPO_UPDATE_GOLDEN")) {
    INFO("MLREPO_UPDATE_GOLDEN is set under CI: the golden file would be rewritten, not checked");
    REQUIRE_FALSE(std::getenv("CI"));
    mlrepo::util::write_file_atomic(golden_file, shown);
  }
  CHECK(shown == mlrepo::util::read_file(golden_file).value_or(""));

  auto cron = mlrepo::util::read_file(dir / "nightly/cronworkflow.yaml").value_or("");
  CHECK_THAT(cron, Contains("- '0 2 * * *'\n    - '30 14 * * sat'") && Contains("timezone: 'Europe/Berlin'") &&
                       Contains("concurrencyPolicy: Forbid") && Contains("startingDeadlineSeconds: 3600") &&
                       Contains("workflowTemplateRef:\n      name: 'nightly'"));
  auto prod = mlrepo::util::read_file(dir / "nightly/overlays/prod/cronworkflow.yaml").value_or("");
  CHECK_THAT(prod, Contains("- '0 4 * * *'") && Contains("suspend: true") && Contains("namespace: 'ml-prod'"));
  auto prod_template = mlrepo::util::read_file(dir / "nightly/overlays/prod/workflowtemplate.yaml").value_or("");
  CHECK_THAT(prod_template, Contains("- name: 'STAGE'") && Contains("value: 'prod'") && Contains("namespace: 'ml-prod'"));

  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file())
      files.push_back(e.path());
  CHECK(files.size() == 10);
  expect_argo_valid(files);
  // The check bites: a field Argo does not have (a typo) is refused.
  TempDir broken;
  auto typo = broken.path() / "typo.yaml";
  mlrepo::util::write_file_atomic(typo, std::regex_replace(text, std::regex("retryPolicy: Always"),
                                                           "retryPolicy: Always\n        retryPolcy: Always"));
  auto refused = run_program({kPython, kArgoCheck, typo.string()}, broken.path());
  CHECK(refused.code == 1);
  CHECK_THAT(refused.err, Contains("retryStrategy.retryPolcy: dropped"));
  // Every kustomization builds, and what it builds is valid too.
  TempDir built;
  std::vector<fs::path> outputs;
  for (const char* k : {"nightly", "nightly/overlays/prod", "adhoc"}) {
    auto out = built.path() / (std::to_string(outputs.size()) + ".yaml");
    mlrepo::util::write_file_atomic(out, kustomize(dir / k));
    outputs.push_back(out);
  }
  CHECK_THAT(mlrepo::util::read_file(outputs[1]).value_or(""), Contains("kind: CronWorkflow"));
  expect_argo_valid(outputs);

  // Deterministic: a second render changes nothing; --check agrees.
  auto again = p.repo.mlrepo({"pipeline", "render", "--all", "--check"});
  INFO(again.err);
  CHECK(again.code == 0);
  // -o - streams the objects, no kustomization.
  auto stream = p.repo.mlrepo({"pipeline", "render", "nightly", "--env", "prod", "-o", "-"});
  REQUIRE(stream.code == 0);
  CHECK_THAT(stream.out, Contains("kind: WorkflowTemplate") && Contains("kind: CronWorkflow") &&
                             !Contains("Kustomization") && Contains("namespace: 'ml-prod'"));
  auto streamed = built.path() / "stream.yaml";
  mlrepo::util::write_file_atomic(streamed, stream.out);
  expect_argo_valid({streamed});

  // A pipeline dropped from the config: --all deletes its files, and only
  // files pipeline render wrote.
  p.repo.write("deploy/argo/notes.yaml", "# mine\n");
  auto config = mlrepo::util::read_file(p.repo.path() / "mlrepo.yaml").value_or("");
  p.repo.write("mlrepo.yaml", config.substr(0, config.find("  adhoc:")));
  p.repo.commit();
  auto pruned = p.repo.mlrepo({"pipeline", "render", "--all"});
  INFO(pruned.err);
  CHECK(pruned.code == 0);
  CHECK_FALSE(fs::exists(dir / "adhoc/workflowtemplate.yaml"));
  CHECK(fs::exists(dir / "notes.yaml"));
  CHECK(fs::exists(dir / "nightly/workflowtemplate.yaml"));
}

TEST_CASE("pipeline render: missing images, unknown pipelines and a target without pipelines are said at once, and "
          "nothing is written",
          "[pipeline][render][docker][registry]") {
  Pipelines p;
  auto missing = p.repo.mlrepo({"pipeline", "render", "--all"});
  CHECK(missing.code == 1);
  CHECK_THAT(missing.err, Contains("3 images missing from the registry") &&
                              Contains("mlrepo build --push features") && Contains("mlrepo build --push model") &&
                              Contains("mlrepo build --push publisher"));
  CHECK_FALSE(fs::exists(p.repo.path() / "deploy/argo"));
  auto unknown = p.repo.mlrepo({"pipeline", "render", "nightlly", "adhok"});
  CHECK(unknown.code == 2);
  CHECK_THAT(unknown.err, Contains("2 unknown pipelines") && Contains("nightly") && Contains("adhoc"));
  auto none = p.repo.mlrepo({"pipeline", "render"});
  CHECK(none.code == 2);
  CHECK_THAT(none.err, Contains("which pipelines?") && Contains("mlrepo pipeline render --all"));
  auto env = p.repo.mlrepo({"pipeline", "render", "--all", "--env", "staging"});
  CHECK(env.code == 2);
  CHECK_THAT(env.err, Contains("no environment 'staging'") && Contains("known: prod"));
  auto check_stream = p.repo.mlrepo({"pipeline", "render", "--all", "--check", "-o", "-"});
  CHECK(check_stream.code == 2);
}

TEST_CASE("pipeline deploy: each pipeline's WorkflowTemplate and CronWorkflow reach kubectl apply --server-side as "
          "one stream",
          "[pipeline][render][docker][registry]") {
  Pipelines p;
  p.push();
  // kubectl replaced by a recorder: no cluster runs here.
  TempDir tmp;
  auto recorder = tmp.path() / "kubectl";
  mlrepo::util::write_file_atomic(recorder, "#!/bin/sh\nprintf '%s\\n' \"$*\" >> \"$0.args\"\n"
                                            "cat > \"$0.$(wc -l < \"$0.args\").yaml\"\n"
                                            "[ -z \"$FAIL\" ] || { echo \"$FAIL\" >&2; exit 1; }\n"
                                            "echo 'workflowtemplate.argoproj.io/nightly serverside-applied'\n");
  fs::permissions(recorder, fs::perms::owner_all);
  auto summary = tmp.path() / "summary.md";
  auto run = p.repo.mlrepo({"pipeline", "deploy", "--all", "--env", "prod", "--kubectl", recorder.string()},
                           {{"GITHUB_ACTIONS", "true"}, {"GITHUB_STEP_SUMMARY", summary.string()}});
  INFO(run.err);
  REQUIRE(run.code == 0);
  CHECK(run.out == "nightly\tapplied\tWorkflowTemplate/nightly,CronWorkflow/nightly\n"
                   "adhoc\tapplied\tWorkflowTemplate/adhoc\n");
  CHECK(mlrepo::util::read_file(tmp.path() / "kubectl.args").value_or("") ==
        "apply --server-side --field-manager=mlrepo --force-conflicts -f -\n"
        "apply --server-side --field-manager=mlrepo --force-conflicts -f -\n");
  auto sent = tmp.path() / "kubectl.1.yaml";
  CHECK_THAT(mlrepo::util::read_file(sent).value_or(""),
             Contains("namespace: 'ml-prod'") && Contains("kind: CronWorkflow") && !Contains("Kustomization"));
  expect_argo_valid({sent, tmp.path() / "kubectl.2.yaml"});
  CHECK_THAT(mlrepo::util::read_file(summary).value_or(""),
             Contains("| nightly | `WorkflowTemplate/nightly`, `CronWorkflow/nightly` |") &&
                 Contains(p.image("model")));

  auto failed = p.repo.mlrepo({"pipeline", "deploy", "nightly", "--kubectl", recorder.string()},
                              {{"FAIL", "error: the server doesn't have a resource type \"workflowtemplates\""}});
  CHECK(failed.code == 1);
  CHECK_THAT(failed.err, Contains("kubectl could not apply the pipeline nightly") && Contains("nothing was applied") &&
                             Contains("mlrepo pipeline render nightly -o -"));
  auto dry = p.repo.mlrepo({"pipeline", "deploy", "nightly", "--dry-run", "--kubectl", recorder.string()});
  CHECK(dry.code == 0);
  CHECK(dry.out == "nightly\tnot applied\tWorkflowTemplate/nightly,CronWorkflow/nightly\n");
  CHECK_FALSE(fs::exists(tmp.path() / "kubectl.4.yaml"));
}

TEST_CASE("pipeline: one plan, two runners: the local run's order and mounts are the rendered DAG's",
          "[pipeline][render][docker][registry]") {
  Pipelines p;
  // Every step says what it sees, in the same words; -j 1 runs one at a
  // time, so the order of what they say is the order they ran in.
  const std::string saw = "[sh, -c, 'echo saw $(ls -d /mlrepo/inputs/* /mlrepo/outputs/* 2>/dev/null)']";
  auto config = mlrepo::util::read_file(p.repo.path() / "mlrepo.yaml").value_or("");
  p.repo.write("mlrepo.yaml", config.substr(0, config.find("pipelines:")) + "pipelines:\n  seen:\n    steps:\n" +
                                  "      report:\n        project: publisher\n        command: " + saw +
                                  "\n        inputs: {scores: score.scores, clean: clean.rows}\n" +
                                  "      score:\n        project: model\n        command: " + saw +
                                  "\n        inputs: {rows: clean.rows}\n        outputs: [scores]\n" +
                                  "      clean:\n        project: features\n        command: " + saw +
                                  "\n        outputs: [rows]\n      notify:\n        project: publisher\n" +
                                  "        command: " + saw + "\n        after: [report]\n");
  p.repo.commit();
  p.push();
  auto rendered = p.repo.mlrepo({"pipeline", "render", "seen", "-o", "-"});
  INFO(rendered.err);
  REQUIRE(rendered.code == 0);
  auto dag = read_dag(rendered.out);
  auto run = p.repo.mlrepo({"pipeline", "run", "seen", "-j", "1", "--pull", "--json"},
                           {{"TRAIN_DB_PASSWORD", "not-shown"}}); // score's project's job: has a secret
  INFO(run.err);
  REQUIRE(run.code == 0);
  // What each container saw, in the order the steps ran.
  std::vector<std::string> ran;
  std::map<std::string, std::set<std::string>> seen;
  std::istringstream lines(run.err);
  for (std::string line; std::getline(lines, line);) {
    // "<step> | saw <dir> <dir>": a step's output, prefixed by its name.
    auto at = line.find(" | saw");
    if (at == std::string::npos)
      continue;
    std::string step = line.substr(0, at);
    ran.push_back(step);
    std::istringstream words(line.substr(at + 6));
    for (std::string w; words >> w;)
      seen[step].insert(w);
  }
  CHECK(ran == std::vector<std::string>{"clean", "score", "report", "notify"});
  CHECK(ran == dag.tasks);
  // Each ran after every task its rendered `depends` names.
  for (size_t i = 0; i < ran.size(); ++i)
    for (size_t k = i + 1; k < ran.size(); ++k)
      CHECK(dag.depends[ran[i]].find(ran[k]) == std::string::npos);
  CHECK(dag.depends["report"] == "clean && score");
  CHECK(dag.depends["notify"] == "report");
  // The directories each container saw are its template's artifact paths.
  for (const auto& step : ran) {
    INFO(step);
    CHECK(seen[step] == dag.paths[step]);
  }
  CHECK(seen["report"] == std::set<std::string>{"/mlrepo/inputs/clean", "/mlrepo/inputs/scores"});
  // And the images that ran are the ones rendered.
  for (const auto& s : nlohmann::json::parse(run.out).at("steps")) {
    auto image = dag.images[s.at("name").get<std::string>()];
    CHECK(image.substr(image.find('@') + 1) == s.at("digest").get<std::string>());
  }
}
