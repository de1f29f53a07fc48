#include "mlrepo/config/config.hpp"
#include "mlrepo/util/error.hpp"

#include <catch2/catch.hpp>

using namespace mlrepo;
using namespace mlrepo::config;

namespace {
// Returns the ConfigError a parse throws.
template <typename F> ConfigError error_of(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e;
  }
  FAIL("no ConfigError thrown");
  throw;
}
} // namespace

TEST_CASE("workspace config parses every key", "[config]") {
  auto ws = parse_workspace_config("registry: ghcr.io/acme/\nimage_prefix: ml-\n"
                                   "default_branch: trunk\nname_from: path\n"
                                   "exclude: [legacy/**]\nglobal_triggers:\n  - constraints.txt\n",
                                   "mlrepo.yaml");
  CHECK(ws.registry == "ghcr.io/acme");
  CHECK(ws.image_prefix == "ml-");
  CHECK(ws.default_branch == "trunk");
  CHECK(ws.name_from == NameFrom::Path);
  REQUIRE(ws.exclude.size() == 1);
  CHECK(ws.global_triggers.at(0).value == "constraints.txt");
  CHECK(ws.global_triggers.at(0).line == 7);
}

TEST_CASE("empty config is all defaults", "[config]") {
  auto ws = parse_workspace_config("", "mlrepo.yaml");
  CHECK(ws.registry.empty());
  auto p = parse_project_config("# nothing\n", "a/mlrepo.yaml");
  CHECK_FALSE(p.name);
}

TEST_CASE("unknown keys name the file, line and key, with a suggestion", "[config]") {
  auto e = error_of([] { parse_project_config("name: a\ndepend_on: [b]\n", "p/mlrepo.yaml"); });
  CHECK(e.file() == "p/mlrepo.yaml");
  CHECK(e.line() == 2);
  CHECK_THAT(e.what(), Catch::Contains("depend_on"));
  CHECK_THAT(e.hint(), Catch::Contains("depends_on"));
  CHECK(e.code() == ExitCode::BadInput);
}

TEST_CASE("unknown keys in nested sections are qualified", "[config]") {
  auto e = error_of([] { parse_project_config("run:\n  envs: {A: 1}\n", "p/mlrepo.yaml"); });
  CHECK(e.line() == 2);
  CHECK_THAT(e.what(), Catch::Contains("run.envs"));
}

TEST_CASE("wrong types are errors with lines", "[config]") {
  auto e = error_of([] { parse_project_config("name: a\ndepends_on: libs\n", "p/mlrepo.yaml"); });
  CHECK(e.line() == 2);
  CHECK_THAT(e.what(), Catch::Contains("list"));
  auto e2 = error_of([] { parse_project_config("build_args:\n  A: [1]\n", "p/mlrepo.yaml"); });
  CHECK(e2.line() == 2);
  auto e3 = error_of([] { parse_workspace_config("name_from: tree\n", "mlrepo.yaml"); });
  CHECK_THAT(e3.what(), Catch::Contains("leaf"));
}

TEST_CASE("malformed YAML reports its line", "[config]") {
  auto e = error_of([] { parse_project_config("name: a\nbuild_args: {A: 1\n", "p/mlrepo.yaml"); });
  CHECK(e.line() >= 2);
  CHECK_THAT(e.what(), Catch::Contains("malformed YAML"));
  auto e2 = error_of([] { parse_project_config("- a\n- b\n", "p/mlrepo.yaml"); });
  CHECK_THAT(e2.what(), Catch::Contains("mapping"));
}

TEST_CASE("duplicate keys are errors", "[config]") {
  auto e = error_of([] { parse_project_config("name: a\nname: b\n", "p/mlrepo.yaml"); });
  CHECK(e.line() == 2);
}

TEST_CASE("bad globs and registry URLs are refused", "[config]") {
  auto e = error_of([] { parse_workspace_config("exclude: ['/abs']\n", "mlrepo.yaml"); });
  CHECK(e.line() == 1);
  auto e2 = error_of([] { parse_workspace_config("registry: https://ghcr.io\n", "mlrepo.yaml"); });
  CHECK_THAT(e2.what(), Catch::Contains("URL"));
}

TEST_CASE("project config values", "[config]") {
  auto p = parse_project_config("name: m\ndockerfile: docker/Dockerfile.gpu\ncontext: ..\n"
                                "build_args: {PY: 3.11, FLAG: true}\ntarget: runtime\n"
                                "platforms: [linux/amd64]\ndepends_on: [libs/common, base]\n"
                                "test: pytest -q\nlint: [ruff, check, .]\n"
                                "run:\n  env: {A: b}\n  volumes: [data:/data]\n  gpus: all\n"
                                "  ports: ['8888:8888']\n  command: [python, train.py]\n",
                                "p/mlrepo.yaml");
  CHECK(p.build_args.at("PY") == "3.11");
  CHECK(p.build_args.at("FLAG") == "true");
  CHECK(p.test == std::vector<std::string>{"pytest -q"});
  CHECK(p.lint.size() == 3);
  CHECK(p.run.gpus == "all");
  CHECK(p.depends_on.at(1).line == 7);
}

TEST_CASE("YAML syntax errors get a hint about that line, not every rule", "[config]") {
  auto hint_for = [](const std::string& text) {
    try {
      mlrepo::config::parse_workspace_config(text, "mlrepo.yaml");
    } catch (const mlrepo::ConfigError& e) {
      return e.hint();
    }
    return std::string("no error");
  };
  CHECK(hint_for("tags: [a, b\n") == "close the '[' list on line 1 with ']'");
  CHECK(hint_for("ci:\n\tmode: matrix\n") == "indent with spaces on line 2: YAML does not allow tabs for indentation");
  CHECK_THAT(hint_for("a:\n  b: 1\n c: 2\n"), !Catch::Contains("tabs"));
}

TEST_CASE("workspace config: prune settings, strict", "[config]") {
  auto ws = parse_workspace_config("prune: {keep_last: 25, older_than: 30d}\n", "mlrepo.yaml");
  CHECK(ws.prune.keep_last == 25);
  CHECK(ws.prune.older_than_seconds == 30 * 86400);
  auto defaults = parse_workspace_config("", "mlrepo.yaml");
  CHECK(defaults.prune.keep_last == 10);
  CHECK(defaults.prune.older_than_seconds == 0);
  auto age = error_of([] { parse_workspace_config("registry: r.io/a\nprune:\n  older_than: soon\n", "mlrepo.yaml"); });
  CHECK(age.line() == 3);
  CHECK_THAT(age.what(), Catch::Contains("prune.older_than") && Catch::Contains("90s"));
  auto count = error_of([] { parse_workspace_config("prune: {keep_last: -1}\n", "mlrepo.yaml"); });
  CHECK_THAT(count.what(), Catch::Contains("keep_last"));
  auto key = error_of([] { parse_workspace_config("prune: {keep: 3}\n", "mlrepo.yaml"); });
  CHECK_THAT(key.what(), Catch::Contains("keep"));
}

TEST_CASE("job.runs_on: one place a job runs on its schedule, its default from kubernetes.deploy", "[config]") {
  auto cluster = parse_project_config("job:\n  schedule: '@daily'\n  runs_on: kubernetes\n", "a/mlrepo.yaml");
  CHECK(cluster.job->runs_on == JobTarget::Kubernetes);
  CHECK(cluster.job->runs_on_line == 3);
  auto labelled = parse_project_config("job:\n  runs_on: {github-actions: [self-hosted, linux, gpu]}\n",
                                       "a/mlrepo.yaml");
  CHECK(labelled.job->runs_on == JobTarget::GithubActions);
  CHECK(labelled.job->runner_labels == std::vector<std::string>{"self-hosted", "linux", "gpu"});
  auto plain = parse_project_config("job:\n  schedule: '@daily'\n", "a/mlrepo.yaml");
  WorkspaceConfig ws;
  CHECK(job_target(*plain.job, ws) == JobTarget::GithubActions);
  ws.kubernetes.deploy = true;
  CHECK(job_target(*plain.job, ws) == JobTarget::Kubernetes);
  CHECK(job_target(*labelled.job, ws) == JobTarget::GithubActions); // chosen beats the default
  CHECK(github_hosted({}));
  CHECK(github_hosted({"ubuntu-latest"}));
  CHECK_FALSE(github_hosted({"self-hosted", "gpu"}));

  auto typo = error_of([] { parse_project_config("job:\n  runs_on: kubernets\n", "a/mlrepo.yaml"); });
  CHECK(typo.line() == 2);
  CHECK_THAT(typo.what(), Catch::Contains("did you mean 'kubernetes'"));
  auto empty = error_of([] { parse_project_config("job:\n  runs_on: {github-actions: []}\n", "a/mlrepo.yaml"); });
  CHECK_THAT(empty.what(), Catch::Contains("names no GitHub Actions runner labels"));
  auto other = error_of([] { parse_project_config("job:\n  runs_on: {gitlab: [x]}\n", "a/mlrepo.yaml"); });
  CHECK_THAT(other.what(), Catch::Contains("gitlab"));
}

TEST_CASE("kubernetes: GPU tolerations, pod annotations and the pull policy, strict with lines", "[config]") {
  auto ws = parse_workspace_config("kubernetes:\n  gpu_tolerations:\n    - {key: dedicated, operator: Equal, value: gpu, "
                                   "effect: NoSchedule}\n    - {operator: Exists}\n  pod_annotations: "
                                   "{sidecar.istio.io/inject: 'false'}\n  image_pull_policy: Always\n"
                                   "  environments:\n    prod:\n      gpu_tolerations: []\n",
                                   "mlrepo.yaml");
  REQUIRE(ws.kubernetes.gpu_tolerations);
  REQUIRE(ws.kubernetes.gpu_tolerations->size() == 2);
  CHECK((*ws.kubernetes.gpu_tolerations)[0] == Toleration{"dedicated", "Equal", "gpu", "NoSchedule"});
  CHECK((*ws.kubernetes.gpu_tolerations)[1] == Toleration{"", "Exists", "", ""});
  CHECK(ws.kubernetes.pod_annotations.at("sidecar.istio.io/inject") == "false");
  CHECK(ws.kubernetes.image_pull_policy == "Always");
  REQUIRE(ws.kubernetes.environments.size() == 1);
  REQUIRE(ws.kubernetes.environments[0].gpu_tolerations);
  CHECK(ws.kubernetes.environments[0].gpu_tolerations->empty()); // [] tolerates nothing
  CHECK_FALSE(parse_workspace_config("kubernetes: {}\n", "mlrepo.yaml").kubernetes.gpu_tolerations);

  auto op = error_of([] {
    parse_workspace_config("kubernetes:\n  gpu_tolerations:\n    - key: x\n      operator: Maybe\n", "mlrepo.yaml");
  });
  CHECK(op.line() == 4);
  CHECK_THAT(op.what(), Catch::Contains("Exists or Equal"));
  auto value = error_of([] {
    parse_workspace_config("kubernetes:\n  gpu_tolerations: [{key: x, value: y}]\n", "mlrepo.yaml");
  });
  CHECK_THAT(value.what(), Catch::Contains("operator: Equal"));
  auto unknown = error_of([] {
    parse_workspace_config("kubernetes:\n  gpu_tolerations: [{key: x, efect: NoSchedule}]\n", "mlrepo.yaml");
  });
  CHECK_THAT(unknown.what(), Catch::Contains("efect"));
  auto annotation = error_of([] {
    parse_workspace_config("kubernetes:\n  pod_annotations: {'bad key!': x}\n", "mlrepo.yaml");
  });
  CHECK_THAT(annotation.what(), Catch::Contains("'bad key!' is not an annotation name"));
  auto policy = error_of([] { parse_workspace_config("kubernetes:\n  image_pull_policy: Sometimes\n", "mlrepo.yaml"); });
  CHECK(policy.line() == 2);
  CHECK_THAT(policy.what(), Catch::Contains("Always, IfNotPresent or Never"));
}
