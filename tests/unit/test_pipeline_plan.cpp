// Pipelines as written (the workspace's pipelines:) and the one plan both
// runners read: the order, the merged run fields, the params, and every
// invalid spec refused at once with its file, line and key (exit 2).
#include "mlrepo/git/handles.hpp"
#include "mlrepo/pipeline/plan.hpp"
#include "mlrepo/report/pipeline.hpp"
#include "mlrepo/util/error.hpp"
#include "support/repo.hpp"

#include <catch2/catch.hpp>

using namespace mlrepo;
using Catch::Contains;

namespace {

// The issue's example: extract -> train -> evaluate, publish after evaluate.
const char* const kChurn = R"(pipelines:
  churn-nightly:
    schedule: "0 2 * * *"
    timezone: Europe/Berlin
    concurrency: forbid
    timeout: 6h
    params: {day: "2026-01-01"}
    steps:
      publish:
        project: model-publisher
        inputs: {model: train.model}
        after: [evaluate]
      extract:
        project: feature-store
        command: ["python", "-m", "features.extract", "--day", "{{params.day}}"]
        env: {DAY: "{{ params.day }}", KEEP: "{{workflow.name}}"}
        outputs: [features]
      train:
        project: churn/model
        inputs: {features: extract.features}
        outputs: [model]
        env: {EPOCHS: "3"}
        secrets: {TOKEN: CHURN_TOKEN}
        resources: {memory: 2Gi}
        retries: 2
        timeout: 2h
      evaluate:
        project: churn-model
        command: ["python", "-m", "churn.evaluate"]
        inputs: {model: train.model, features: extract.features}
)";

struct Workspace {
  git::Library libgit2;
  test::GitRepo repo;
  explicit Workspace(const std::string& config) {
    repo.write("mlrepo.yaml", config);
    repo.write("feature-store/Dockerfile", "FROM scratch\n");
    repo.write("churn/model/Dockerfile", "FROM scratch\n");
    repo.write("churn/model/mlrepo.yaml", "name: churn-model\njob:\n  command: [python, -m, churn.train]\n"
                                          "  args: ['--fast']\n  env: {EPOCHS: '1', TOKEN: plain, LEVEL: info}\n"
                                          "  secrets: {DB: CHURN_DB}\n  resources: {cpu: '2', memory: 8Gi}\n"
                                          "  timeout: 1h\n  retries: 5\n");
    repo.write("model-publisher/Dockerfile", "FROM scratch\n");
    repo.commit();
  }
  View view() {
    auto r = git::Repository::discover(repo.path().string());
    return open_view(r, std::nullopt);
  }
};

// The message of the exit-2 error a plan of the first pipeline raises.
std::string plan_error(const std::string& config, const std::map<std::string, std::string>& params = {}) {
  Workspace w(config);
  View view = w.view();
  try {
    pipeline::make_plan(view.config.pipelines.at(0), view, params);
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::BadInput);
    return std::string(e.what()) + "\nhint: " + e.hint();
  }
  FAIL("the plan was accepted");
  return {};
}

// Loading the workspace config itself fails (a name or a type).
std::string config_error(const std::string& config) {
  Workspace w("registry: x.example/acme\n");
  w.repo.write("mlrepo.yaml", config);
  try {
    auto r = git::Repository::discover(w.repo.path().string());
    open_view(r, std::nullopt);
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::BadInput);
    return std::string(e.what()) + "\nhint: " + e.hint();
  }
  FAIL("the config was accepted");
  return {};
}

std::vector<std::string> step_names(const pipeline::Plan& plan) {
  std::vector<std::string> out;
  for (const auto& s : plan.steps)
    out.push_back(s.name);
  return out;
}

} // namespace

TEST_CASE("pipeline plan: dependency order, edges and the steps' projects", "[pipeline]") {
  Workspace w(kChurn);
  View view = w.view();
  REQUIRE(view.config.pipelines.size() == 1);
  auto plan = pipeline::make_plan(view.config.pipelines[0], view);
  CHECK(plan.name == "churn-nightly");
  // publish is written first, and runs last: each step after what it needs.
  CHECK(step_names(plan) == std::vector<std::string>{"extract", "train", "evaluate", "publish"});
  CHECK(plan.steps[1].project_name == "churn-model"); // named by its path
  CHECK(plan.steps[2].project_name == "churn-model"); // and by its name
  CHECK(plan.steps[3].upstream == std::vector<size_t>{1, 2});
  CHECK(plan.steps[3].after == std::vector<size_t>{2});
  REQUIRE(plan.steps[2].inputs.size() == 2);
  CHECK(plan.downstream(1) == std::vector<size_t>{2, 3});
  CHECK(plan.downstream(0) == std::vector<size_t>{1, 2, 3});
  CHECK(plan.downstream(3).empty());
  CHECK(plan.timeout_seconds == 6 * 3600);
  CHECK(plan.schedule.timezone == "Europe/Berlin");
  CHECK(report::pipeline_graph_json(plan) ==
        R"({"steps":[{"name":"extract","project":"feature-store"},{"name":"train","project":"churn-model"},)"
        R"({"name":"evaluate","project":"churn-model"},{"name":"publish","project":"model-publisher"}],)"
        R"("edges":[{"from":"train","to":"extract","artifact":"features"},)"
        R"({"from":"evaluate","to":"extract","artifact":"features"},{"from":"evaluate","to":"train","artifact":"model"},)"
        R"({"from":"publish","to":"train","artifact":"model"},{"from":"publish","to":"evaluate","artifact":null}]})"
        "\n");
  auto mermaid = report::pipeline_graph_mermaid(plan);
  CHECK_THAT(mermaid, Contains("s0 -->|\"features\"| s1"));
  CHECK_THAT(mermaid, Contains("s2 -.-> s3"));
}

TEST_CASE("pipeline plan: a step's fields over its project's job, env and secrets merged", "[pipeline]") {
  Workspace w(kChurn);
  View view = w.view();
  auto plan = pipeline::make_plan(view.config.pipelines[0], view);
  const auto& train = plan.steps[1].run;
  CHECK(train.command == std::vector<std::string>{"python", "-m", "churn.train"}); // the job's
  CHECK(train.args == std::vector<std::string>{"--fast"});
  CHECK(train.env == std::map<std::string, std::string>{{"EPOCHS", "3"}, {"LEVEL", "info"}});
  // The step made TOKEN a secret: it is no longer the job's plain value.
  CHECK(train.secrets == std::map<std::string, std::string>{{"DB", "CHURN_DB"}, {"TOKEN", "CHURN_TOKEN"}});
  CHECK(train.cpu == std::optional<std::string>("2"));
  CHECK(train.memory == std::optional<std::string>("2Gi"));
  CHECK(train.timeout_seconds == 2 * 3600); // each attempt
  CHECK(train.retries == 2);
  const auto& evaluate = plan.steps[2].run;
  CHECK(evaluate.command == std::vector<std::string>{"python", "-m", "churn.evaluate"});
  // A job's timeout bounds all its attempts: a step that sets none has none.
  CHECK(evaluate.timeout_seconds == 0);
  CHECK(evaluate.retries == 0);
  const auto& publish = plan.steps[3].run;
  CHECK(publish.command.empty()); // no job: the image's own
}

TEST_CASE("pipeline plan: params are substituted, and --param overrides a default", "[pipeline]") {
  Workspace w(kChurn);
  View view = w.view();
  auto plan = pipeline::make_plan(view.config.pipelines[0], view, {{"day", "2027-02-03"}});
  REQUIRE(plan.params.size() == 1);
  CHECK(plan.params[0].second == "2027-02-03");
  auto extract = pipeline::with_params(plan.steps[0].run, plan.params);
  CHECK(extract.command.back() == "2027-02-03");
  CHECK(extract.env.at("DAY") == "2027-02-03");
  CHECK(extract.env.at("KEEP") == "{{workflow.name}}"); // not a parameter: left alone
  auto defaults = pipeline::make_plan(view.config.pipelines[0], view);
  CHECK(pipeline::with_params(defaults.steps[0].run, defaults.params).command.back() == "2026-01-01");
  CHECK_THAT(plan_error(kChurn, {{"dya", "x"}}), Contains("--param dya: pipeline churn-nightly has no parameter 'dya'"));
  CHECK_THAT(plan_error(kChurn, {{"dya", "x"}}), Contains("did you mean 'day'?"));
}

TEST_CASE("pipeline plan: every reference problem at once, in file order, with line and key", "[pipeline]") {
  auto message = plan_error(R"(pipelines:
  p:
    params: {day: "1"}
    steps:
      a:
        project: feature-stor
        command: ["x", "{{params.dya}}"]
        outputs: [o, o]
      b:
        project: churn-model
        inputs: {i: a.oo, j: zz.o, k: b.x}
        after: [aa, b]
)");
  CHECK_THAT(message, Contains("8 problems in pipeline p (mlrepo.yaml)"));
  CHECK_THAT(message, Contains("mlrepo.yaml:6: 'pipelines.p.steps.a.project' names 'feature-stor', which is no project"));
  CHECK_THAT(message, Contains("did you mean 'feature-store'?"));
  CHECK_THAT(message, Contains("mlrepo.yaml:5: 'pipelines.p.steps.a.command' uses {{params.dya}}"));
  CHECK_THAT(message, Contains("mlrepo.yaml:8: 'pipelines.p.steps.a.outputs' lists 'o' twice"));
  CHECK_THAT(message, Contains("mlrepo.yaml:11: 'pipelines.p.steps.b.inputs.i' reads 'oo' of step a, which has no such "
                               "output (its outputs: o)"));
  CHECK_THAT(message, Contains("'pipelines.p.steps.b.inputs.j' reads from the step 'zz"));
  CHECK_THAT(message, Contains("'pipelines.p.steps.b.inputs.k' reads step b's own output"));
  CHECK_THAT(message, Contains("mlrepo.yaml:12: 'pipelines.p.steps.b.after' names the step 'aa'"));
  CHECK_THAT(message, Contains("mlrepo.yaml:12: 'pipelines.p.steps.b.after' names step b itself"));
  // File order: line 5 before line 12.
  CHECK(message.find(":5:") < message.find(":12:"));
}

TEST_CASE("pipeline plan: a cycle is refused naming its steps", "[pipeline]") {
  auto message = plan_error(R"(pipelines:
  p:
    steps:
      a: {project: feature-store, inputs: {x: c.x}, outputs: [x]}
      b: {project: feature-store, inputs: {x: a.x}, outputs: [x]}
      c: {project: feature-store, after: [b], outputs: [x]}
      d: {project: feature-store}
)");
  CHECK_THAT(message, Contains("the steps of pipeline p form a cycle (each needs the next): a -> c -> b -> a"));
}

TEST_CASE("pipeline config: names Kubernetes would reject, and malformed entries, with their lines", "[pipeline]") {
  CHECK_THAT(config_error("pipelines:\n  Churn_Nightly:\n    steps: {a: {project: x}}\n"),
             Contains("mlrepo.yaml:2: pipeline name 'Churn_Nightly' is not a name Kubernetes accepts"));
  CHECK_THAT(config_error("pipelines:\n  " + std::string(53, 'a') + ":\n    steps: {a: {project: x}}\n"),
             Contains("at most 52 characters"));
  CHECK_THAT(config_error("pipelines:\n  p:\n    steps:\n      Train: {project: x}\n"),
             Contains("mlrepo.yaml:4: step name 'Train' (pipeline p) is not a name Kubernetes accepts"));
  CHECK_THAT(config_error("pipelines:\n  p:\n    steps:\n      1-extract: {project: x}\n"),
             Contains("mlrepo.yaml:4: step name '1-extract' (pipeline p) starts with a digit") &&
                 Contains("step-1-extract"));
  CHECK_THAT(config_error("pipelines:\n  p:\n    schedule: '0 2 * * *'\n"), Contains("pipeline p has no steps"));
  CHECK_THAT(config_error("pipelines:\n  p:\n    steps:\n      a: {command: [x]}\n"),
             Contains("mlrepo.yaml:4: step 'a' of pipeline p names no project"));
  CHECK_THAT(config_error("pipelines:\n  p:\n    steps:\n      a: {project: x, inputs: {m: train}}\n"),
             Contains("'pipelines.p.steps.a.inputs.m' is 'train', not STEP.OUTPUT"));
  CHECK_THAT(config_error("pipelines:\n  p:\n    steps:\n      a: {project: x, outputs: ['../up']}\n"),
             Contains("'pipelines.p.steps.a.outputs' name '../up' is not an artifact name"));
  CHECK_THAT(config_error("pipelines:\n  p:\n    steps:\n      a: {project: x, retries: many}\n"),
             Contains("mlrepo.yaml:4"));
  CHECK_THAT(config_error("pipelines:\n  p:\n    steps:\n      a: {project: x, timeout: 5 minutes}\n"),
             Contains("'pipelines.p.steps.a.timeout'"));
  CHECK_THAT(config_error("pipelines:\n  p:\n    steps:\n      a: {project: x, resources: {memory: 512m}}\n"),
             Contains("'pipelines.p.steps.a.resources.memory' '512m' is a fraction of a byte"));
  CHECK_THAT(config_error("pipelines:\n  p:\n    timezone: Europe/Berln\n    schedule: '0 2 * * *'\n"
                          "    steps: {a: {project: x}}\n"),
             Contains("'pipelines.p.timezone' 'Europe/Berln'"));
  CHECK_THAT(config_error("pipelines:\n  p:\n    steps: {a: {project: x, output: [m]}}\n"),
             Contains("output"));
  CHECK_THAT(config_error("pipelines:\n  p:\n    stepz: {a: {project: x}}\n"), Contains("stepz"));
}

TEST_CASE("pipeline plan: an unknown pipeline names the nearest one", "[pipeline]") {
  Workspace w(kChurn);
  View view = w.view();
  try {
    pipeline::find_pipeline(view.config, "churn-nigthly");
    FAIL("found");
  } catch (const UsageError& e) {
    CHECK_THAT(e.what(), Contains("there is no pipeline 'churn-nigthly'"));
    CHECK_THAT(e.hint(), Contains("did you mean 'churn-nightly'?"));
  }
  CHECK(&pipeline::find_pipeline(view.config, "churn-nightly") == &view.config.pipelines[0]);
}
