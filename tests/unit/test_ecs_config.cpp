// The workspace's ecs: section: every value in the shape AWS gives it, the
// key's line in every error, what a task cannot start without required,
// per-environment overrides. No AWS account is asked.
#include "mlrepo/config/config.hpp"
#include "mlrepo/util/error.hpp"

#include <catch2/catch.hpp>

using namespace mlrepo;
using namespace mlrepo::config;
using Catch::Contains;

namespace {

const char* const kEcs = R"Y(ecs:
  cluster: ml-jobs
  region: eu-central-1
  subnets: [subnet-0abc1234def567890, subnet-0abc1234def567891]
  security_groups: sg-0abc1234def567890
  execution_role_arn: arn:aws:iam::123456789012:role/ecsTaskExecutionRole
  task_role_arn: arn:aws:iam::123456789012:role/ml-job
  scheduler_role_arn: arn:aws:iam::123456789012:role/ml-scheduler
  log_group: /ecs/ml-jobs
  secrets:
    CHURN_DB_PASSWORD: arn:aws:secretsmanager:eu-central-1:123456789012:secret:churn-db-AbCdEf
    API_TOKEN: arn:aws:ssm:eu-central-1:123456789012:parameter/ml/api-token
  alert: arn:aws:sns:eu-central-1:123456789012:ml-job-failures
  environments:
    prod:
      cluster: ml-prod
      env: {STAGE: prod}
      assign_public_ip: true
)Y";

ConfigError error_of(const std::string& text) {
  try {
    parse_workspace_config(text, "mlrepo.yaml");
  } catch (const ConfigError& e) {
    return e;
  }
  FAIL("no ConfigError for:\n" << text);
  return ConfigError("", 0, "");
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

} // namespace

TEST_CASE("ecs: every field read, FARGATE by default, environments over the workspace", "[config][ecs]") {
  auto ws = parse_workspace_config(kEcs, "mlrepo.yaml");
  const auto& e = ws.ecs;
  CHECK(e.configured);
  CHECK(e.line == 1);
  CHECK(e.cluster == "ml-jobs");
  CHECK(e.region == "eu-central-1");
  CHECK(e.launch_type == "FARGATE");
  CHECK(e.subnets == std::vector<std::string>{"subnet-0abc1234def567890", "subnet-0abc1234def567891"});
  CHECK(e.security_groups == std::vector<std::string>{"sg-0abc1234def567890"});
  CHECK_FALSE(e.assign_public_ip);
  CHECK(e.task_role_arn == "arn:aws:iam::123456789012:role/ml-job");
  CHECK(e.secrets.size() == 2);
  CHECK(e.secrets.at("API_TOKEN") == "arn:aws:ssm:eu-central-1:123456789012:parameter/ml/api-token");
  CHECK(e.alert == "arn:aws:sns:eu-central-1:123456789012:ml-job-failures");
  CHECK(e.dir == "deploy/ecs");
  REQUIRE(e.environments.size() == 1);
  CHECK(e.environments[0].name == "prod");
  CHECK(e.environments[0].cluster == std::optional<std::string>("ml-prod"));
  CHECK(e.environments[0].assign_public_ip == std::optional<bool>(true));
  CHECK(e.environments[0].env.at("STAGE") == "prod");
  CHECK_FALSE(e.environments[0].region);
  // Absent: not configured, nothing required.
  CHECK_FALSE(parse_workspace_config("registry: ghcr.io/acme\n", "mlrepo.yaml").ecs.configured);
}

TEST_CASE("ecs: a value of the wrong shape names its key, its line and an example", "[config][ecs]") {
  struct Row {
    std::string from, to;
    int line;
    const char* says;
  };
  const Row rows[] = {
      {"region: eu-central-1", "region: frankfurt", 3, "'frankfurt' is not an AWS region"},
      {"subnet-0abc1234def567891]", "subnet-xyz]", 4, "'ecs.subnets': 'subnet-xyz' is not a subnet ID"},
      {"security_groups: sg-0abc1234def567890", "security_groups: default", 5, "not a security group ID"},
      {"role/ecsTaskExecutionRole", "user/me", 6, "is not an IAM role ARN"},
      {"log_group: /ecs/ml-jobs", "log_group: 'ml jobs'", 9, "not a CloudWatch log group name"},
      {"parameter/ml/api-token", "ml/api-token", 12,
       "'ecs.secrets.API_TOKEN': 'arn:aws:ssm:eu-central-1:123456789012:ml/api-token' is not a Secrets Manager"},
      {"alert: arn:aws:sns:", "alert: arn:aws:sqs:", 13, "is not an SNS topic ARN"},
      {"  cluster: ml-jobs\n", "  cluster: ml-jobs\n  launch_type: fargate\n", 3, "must be FARGATE or EC2"},
      {"      cluster: ml-prod", "      clustr: ml-prod", 16, "clustr"},
      // Longer than any ARN: refused before a regex walks it.
      {"role/ml-job", "role/" + std::string(100000, 'a'), 7, "is not an IAM role ARN"},
  };
  for (const auto& row : rows) {
    INFO(row.to);
    auto e = error_of(replaced(kEcs, row.from, row.to));
    CHECK(e.file() == "mlrepo.yaml");
    CHECK(e.line() == row.line);
    CHECK_THAT(e.what(), Contains(row.says));
  }
}

TEST_CASE("ecs: what a task cannot start without is required", "[config][ecs]") {
  auto e = error_of(replaced(kEcs, "  scheduler_role_arn: arn:aws:iam::123456789012:role/ml-scheduler\n", ""));
  CHECK_THAT(e.what(), Contains("'ecs.scheduler_role_arn' is required"));
  CHECK(e.line() == 1);
  auto subnets = error_of(replaced(kEcs, "  subnets: [subnet-0abc1234def567890, subnet-0abc1234def567891]\n", ""));
  CHECK_THAT(subnets.what(), Contains("'ecs.subnets' is required for FARGATE"));
  // EC2 tasks may use the instances' networking.
  auto ec2 = parse_workspace_config(
      replaced(replaced(kEcs, "  subnets: [subnet-0abc1234def567890, subnet-0abc1234def567891]\n", ""),
               "  cluster: ml-jobs\n", "  cluster: ml-jobs\n  launch_type: EC2\n"),
      "mlrepo.yaml");
  CHECK(ec2.ecs.launch_type == "EC2");
}

TEST_CASE("ecs: deploy makes ECS the default place of a job's schedule, never of a pipeline's", "[config][ecs]") {
  auto ws = parse_workspace_config(std::string(kEcs) + "  deploy: prod\n  ci_role_arn: arn:aws:iam::123456789012:role/gh\n",
                                   "mlrepo.yaml");
  CHECK(ws.ecs.deploy);
  CHECK(ws.ecs.deploy_environment == "prod");
  CHECK(deploy_target(ws) == JobTarget::Ecs);
  CHECK(deploy_environment(ws) == "prod");
  auto job = *parse_project_config("job:\n  schedule: '@daily'\n", "train/mlrepo.yaml").job;
  CHECK(job_target(job, ws) == JobTarget::Ecs);
  CHECK(std::string(job_target_name(job_target(job, ws))) == "ecs");
  // ECS runs no pipelines: their default stays GitHub Actions.
  CHECK(pipeline_target(job, ws) == JobTarget::GithubActions);
  auto chosen = *parse_project_config("job:\n  schedule: '@daily'\n  runs_on: ecs\n", "train/mlrepo.yaml").job;
  CHECK(chosen.runs_on == JobTarget::Ecs);
  CHECK(job_target(chosen, parse_workspace_config("registry: r.example/a\n", "mlrepo.yaml")) == JobTarget::Ecs);

  auto unknown = error_of(std::string(kEcs) + "  deploy: qa\n");
  CHECK_THAT(unknown.what(), Contains("'ecs.deploy' names the environment 'qa'"));
  auto bad_secret = error_of(std::string(kEcs) + "  access_key_id_secret: 'my key'\n");
  CHECK_THAT(bad_secret.what(), Contains("GitHub secret name"));
  auto bad_queue = error_of(std::string(kEcs) + "  dead_letter_queue: my-queue\n");
  CHECK_THAT(bad_queue.what(), Contains("is not an SQS queue ARN"));
  try {
    parse_project_config("job:\n  runs_on: ecss\n", "train/mlrepo.yaml");
    FAIL("runs_on: ecss was read");
  } catch (const ConfigError& e) {
    CHECK_THAT(e.what(), Contains("did you mean 'ecs'"));
  }
  auto pipeline = error_of("pipelines:\n  nightly:\n    runs_on: ecs\n    steps:\n      a: {project: a}\n");
  CHECK_THAT(pipeline.what(), Contains("not on ECS"));
}
