#include "support/docker.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

using namespace mlrepo::test;
using Catch::Contains;

TEST_CASE("doctor: says what is fine and what to fix", "[doctor][docker]") {
  Registry registry;
  GitRepo r;
  r.write("mlrepo.yaml", "registry: " + registry.host() + "/acme\n");
  r.write("a/Dockerfile", "FROM scratch\n");
  r.commit();
  auto run = r.mlrepo({"doctor"});
  INFO(run.out << run.err);
  CHECK(run.code == 0);
  CHECK_THAT(run.out, Contains("ok    git: repository at") && Contains("ok    config: 1 project, 0 dependencies") &&
                          Contains("docker engine") && Contains("ok    registry: " + registry.host()) &&
                          Contains("warn  ci: 1 generated workflow missing") && Contains("fix: run 'mlrepo ci generate'"));

  SECTION("a dead registry and a dead engine are exit 3") {
    registry.stop();
    auto dead = r.mlrepo({"doctor"});
    CHECK(dead.code == 3);
    CHECK_THAT(dead.out, Contains("FAIL  registry"));
    auto no_engine = r.mlrepo({"doctor"}, {{"DOCKER_HOST", "unix:///nonexistent.sock"}});
    CHECK(no_engine.code == 3);
    CHECK_THAT(no_engine.out, Contains("FAIL  docker") && Contains("fix:"));
  }
  SECTION("invalid config is exit 2") {
    r.write("a/mlrepo.yaml", "nmae: x\n");
    auto bad = r.mlrepo({"doctor"});
    CHECK(bad.code == 2);
    CHECK_THAT(bad.out, Contains("FAIL  config: a/mlrepo.yaml:1") && Contains("did you mean 'name'"));
    // The workspace's own settings are still read and checked truthfully.
    CHECK_THAT(bad.out, Contains("ok    registry: " + registry.host()) && !Contains("no 'registry:'"));
    CHECK_THAT(bad.out, Contains("docker engine"));
  }
  SECTION("a broken workspace config skips the registry check, saying why") {
    r.write("mlrepo.yaml", "registry: [\n");
    auto bad = r.mlrepo({"doctor"});
    CHECK(bad.code == 2);
    CHECK_THAT(bad.out, Contains("FAIL  config: mlrepo.yaml") && Contains("skip  registry") &&
                            !Contains("no 'registry:'") && Contains("docker engine"));
  }
  SECTION("outside a repository") {
    TempDir outside;
    auto none = run_program({MLREPO_BIN, "doctor"}, outside.path());
    CHECK(none.code == 3);
    // The directory by its path, not '.', and the other checks still run.
    CHECK_THAT(none.out, Contains("FAIL  git: no git repository at " + outside.path().string() + " or above") &&
                             Contains("docker engine") && Contains("skip  config"));
  }
}

TEST_CASE("doctor: a wide context that would send large ignored data is named", "[doctor][docker]") {
  GitRepo r;
  r.write(".gitignore", "data/\n");
  r.write("projects/app/Dockerfile", "FROM scratch\nCOPY projects/app /app\n");
  r.write("projects/app/mlrepo.yaml", "context: ../..\n");
  r.write("narrow/Dockerfile", "FROM scratch\n");
  r.commit();
  // 60 MiB that git never sees (sparse on disk, but docker would send it all).
  fs::create_directories(r.file("data"));
  std::ofstream(r.file("data/raw.bin").string()).close();
  fs::resize_file(r.file("data/raw.bin"), 60u << 20);
  auto run = r.mlrepo({"doctor"});
  INFO(run.out << run.err);
  CHECK_THAT(run.out, Contains("project 'app' sends 60 MiB of build context from '.'") && Contains("data (60 MiB)") &&
                          Contains(".dockerignore"));
  CHECK_THAT(run.out, !Contains("project 'narrow' sends"));
  r.write(".dockerignore", ".git\ndata/\n");
  run = r.mlrepo({"doctor"});
  CHECK_THAT(run.out, !Contains("of build context"));
}

TEST_CASE("doctor: each pipeline's references are checked, every problem of one at once", "[doctor][pipeline]") {
  GitRepo r;
  r.write("a/Dockerfile", "FROM scratch\n");
  r.write("mlrepo.yaml", "pipelines:\n"
                         "  good:\n    steps:\n      one: {project: a, outputs: [x]}\n"
                         "      two: {project: a, inputs: {x: one.x}}\n"
                         "  bad:\n    steps:\n      one: {project: b}\n      two: {project: a, after: [three]}\n");
  r.commit();
  auto run = r.mlrepo({"doctor"});
  INFO(run.out << run.err);
  CHECK(run.code == 2);
  CHECK_THAT(run.out, Contains("ok    pipelines: pipeline 'good': 2 steps, 1 edge"));
  CHECK_THAT(run.out, Contains("FAIL  pipelines: 2 problems in pipeline bad") &&
                          Contains("'pipelines.bad.steps.one.project' names 'b', which is no project") &&
                          Contains("'pipelines.bad.steps.two.after' names the step 'three'"));
}

TEST_CASE("doctor: the ecs: section, the aws CLI a deploy runs, and what ECS would refuse in each job",
          "[doctor][ecs]") {
  GitRepo r;
  r.write("mlrepo.yaml", "ecs:\n  cluster: ml-jobs\n  region: eu-central-1\n  subnets: [subnet-0abc1234def567890]\n"
                         "  execution_role_arn: arn:aws:iam::123456789012:role/exec\n"
                         "  scheduler_role_arn: arn:aws:iam::123456789012:role/sched\n"
                         "  environments:\n    prod: {cluster: ml-prod}\n");
  r.write("train/Dockerfile", "FROM scratch\n");
  r.write("train/mlrepo.yaml", "job:\n  schedule: '@daily'\n  concurrency: allow\n  runs_on: ecs\n");
  r.write("gpu/Dockerfile", "FROM scratch\n");
  r.write("gpu/mlrepo.yaml", "job:\n  resources: {gpu: 1}\n  schedule: '@daily'\n  runs_on: ecs\n");
  r.commit();
  // The aws CLI bootstrap installs, first on PATH.
  std::string path = std::string(MLREPO_TOOLS_DIR) + ":" + std::getenv("PATH");
  auto run = r.mlrepo({"doctor"}, {{"PATH", path}});
  INFO(run.out << run.err);
  CHECK(run.code == 2); // the GPU job is bad input for ECS
  CHECK_THAT(run.out, Contains("ok    ecs: cluster ml-jobs in eu-central-1, FARGATE, 1 subnet, 1 environment") &&
                          Contains("ok    ecs: aws CLI: aws-cli/") &&
                          Contains("FAIL  ecs: gpu/mlrepo.yaml:2: gpu: asks for 1 GPU, and Fargate has none") &&
                          Contains("launch_type: EC2") &&
                          Contains("job of 'train' runs on its schedule in AWS ECS on an EventBridge Scheduler schedule"));
  CHECK_THAT(run.out, !Contains("FAIL  ecs: train"));

  // Without the aws CLI: rendering still works, deploying would not; said.
  auto bare = r.mlrepo({"doctor"}, {{"PATH", "/usr/bin:/bin"}});
  INFO(bare.out << bare.err);
  CHECK_THAT(bare.out, Contains("warn  ecs: the aws CLI is not on PATH") && Contains("pip install awscli"));
}
