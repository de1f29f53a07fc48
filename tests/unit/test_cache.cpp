#include "mlrepo/config/config.hpp"
#include "mlrepo/project/cache.hpp"

#include <catch2/catch.hpp>

using namespace mlrepo;
using namespace mlrepo::project;

TEST_CASE("discovery cache entries round-trip and reject damage", "[cache]") {
  std::vector<Project> projects(2);
  projects[0].name = "base";
  projects[0].path = "images/base";
  projects[0].dockerfile = "images/base/Dockerfile";
  projects[0].context = "images/base";
  projects[0].image = "ghcr.io/a/base";
  projects[1].name = "app";
  projects[1].path = "app";
  auto config = std::make_shared<mlrepo::config::ProjectConfig>();
  config->file = "app/mlrepo.yaml";
  config->build_args = {{"A", "1"}};
  config->test = {"pytest -q"};
  config->ci_matrix = {{"PY", {"3.10", "3.11"}}};
  config->depends_on = {{"libs/x", 3}};
  config->run.gpus = "all";
  projects[1].config = config;
  Graph graph(projects, {{1, 0, "FROM"}}, {{}, {{"libs/x", "depends_on libs/x", false}, {"libs/*/req.txt", "COPY libs/*/req.txt at app/Dockerfile:3", true}}});
  auto data = serialize_discovery(std::string("registry: ghcr.io/a\n"), graph);
  auto back = deserialize_discovery(data);
  REQUIRE(back);
  CHECK(*back->workspace_yaml == "registry: ghcr.io/a\n");
  REQUIRE(back->projects.size() == 2);
  CHECK(back->projects[1].config->build_args.at("A") == "1");
  CHECK(back->projects[1].config->ci_matrix.at("PY").size() == 2);
  CHECK(back->projects[1].config->depends_on.at(0).line == 3);
  CHECK(back->projects[1].config->run.gpus == "all");
  CHECK(back->path_deps[1] == graph.path_dependencies(1));
  CHECK(back->path_deps[1].at(1).glob);
  REQUIRE(back->edges.size() == 1);
  CHECK(back->edges[0].via == "FROM");

  for (size_t cut : {size_t{0}, size_t{5}, data.size() / 2, data.size() - 1})
    CHECK_FALSE(deserialize_discovery(std::string_view(data).substr(0, cut)));
  auto flipped = data;
  flipped[data.size() / 2] ^= 0x40;
  CHECK_FALSE(deserialize_discovery(flipped));
}

// Every key a project config can have, each set to something other than its
// default: the cached config must equal the parsed one as a whole object.
// A new key goes here too; without it a cache hit would drop it silently.
TEST_CASE("discovery cache: a project config with every key comes back equal as a whole", "[cache]") {
  auto parsed = mlrepo::config::parse_project_config(R"(name: app
dockerfile: docker/Dockerfile
context: ..
build_args: {A: "1", B: two}
target: runtime
platforms: [linux/amd64, linux/arm64]
depends_on: [libs/x, base]
secrets: {hf_token: HF_TOKEN}
test: pytest -q
lint: [ruff, check, .]
run:
  env: {MODE: dev}
  volumes: [./data:/data:ro]
  gpus: all
  ports: ["8888:8888"]
  command: [python, -m, app]
ci:
  matrix: {PY: ["3.10", "3.11"]}
  enabled: false
  timeout_minutes: 30
  secrets: {HF_TOKEN: HUGGINGFACE_TOKEN}
job:
  command: [python, -m, app.train]
  args: ["--epochs", "20"]
  env: {MODEL_DIR: /models}
  secrets: {DB_PASSWORD: APP_DB_PASSWORD}
  resources: {cpu: 500m, memory: 8Gi, gpu: 1}
  timeout: 2h
  retries: 2
  schedule: ["0 3 * * 1-5", "@weekly"]
  timezone: Europe/Berlin
  concurrency: replace
  runs_on: {github-actions: [self-hosted, gpu]}
  schedule_from_environment: true
)", "app/mlrepo.yaml");
  CHECK(parsed != mlrepo::config::ProjectConfig{});
  // Every job field differs from its default too.
  REQUIRE(parsed.job);
  auto job_defaults = mlrepo::config::JobSpec{};
  CHECK(parsed.job->command != job_defaults.command);
  CHECK(parsed.job->args != job_defaults.args);
  CHECK(parsed.job->env != job_defaults.env);
  CHECK(parsed.job->secrets != job_defaults.secrets);
  CHECK(parsed.job->cpu != job_defaults.cpu);
  CHECK(parsed.job->memory != job_defaults.memory);
  CHECK(parsed.job->gpu != job_defaults.gpu);
  CHECK(parsed.job->timeout_seconds != job_defaults.timeout_seconds);
  CHECK(parsed.job->retries != job_defaults.retries);
  CHECK(parsed.job->schedule != job_defaults.schedule);
  CHECK(parsed.job->timezone != job_defaults.timezone);
  CHECK(parsed.job->concurrency != job_defaults.concurrency);
  CHECK(parsed.job->line != job_defaults.line);
  CHECK(parsed.job->runs_on != job_defaults.runs_on);
  CHECK(parsed.job->runs_on_line != job_defaults.runs_on_line);
  CHECK(parsed.job->runner_labels != job_defaults.runner_labels);
  CHECK(parsed.job->schedule_from_environment != job_defaults.schedule_from_environment);
  std::vector<Project> projects(1);
  projects[0].name = "app";
  projects[0].path = "app";
  projects[0].config = std::make_shared<mlrepo::config::ProjectConfig>(parsed);
  Graph graph(projects, {}, {{}});
  auto back = deserialize_discovery(serialize_discovery(std::nullopt, graph));
  REQUIRE(back);
  REQUIRE(back->projects.size() == 1);
  CHECK(*back->projects[0].config == parsed);
}
