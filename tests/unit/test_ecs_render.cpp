// The ECS row of the deploy target table: Fargate's size table, the files a
// job becomes (task definition, a schedule per AWS cron, the alert), each
// environment's family, what ECS refuses, and which target `job render`
// takes without --target. The e2e test (tests/e2e/test_ecs.cpp) renders
// through `mlrepo job render` against a real registry, validates every file
// with botocore's service models and deploys to moto_server.
#include "mlrepo/deploy/ecs.hpp"
#include "mlrepo/git/handles.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/workspace.hpp"
#include "support/repo.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace mlrepo;
using Catch::Contains;
using Json = nlohmann::json;

namespace {

const char* const kWorkspace = R"Y(registry: registry.example/acme
ecs:
  cluster: ml-jobs
  region: eu-central-1
  subnets: [subnet-0abc1234def567890]
  security_groups: [sg-0abc1234def567890]
  execution_role_arn: arn:aws:iam::123456789012:role/ecsTaskExecutionRole
  task_role_arn: arn:aws:iam::123456789012:role/ml-job
  scheduler_role_arn: arn:aws:iam::123456789012:role/ml-scheduler
  secrets:
    TRAIN_DB_PASSWORD: arn:aws:secretsmanager:eu-central-1:123456789012:secret:train-db-AbCdEf
  alert: arn:aws:sns:eu-central-1:123456789012:ml-job-failures
  dead_letter_queue: arn:aws:sqs:eu-central-1:123456789012:ml-dead-letters
  environments:
    prod:
      cluster: ml-prod
      env: {STAGE: prod}
)Y";

const char* const kTrain = R"Y(job:
  command: [python, train.py]
  args: ['--epochs', '20']
  env: {MODEL_DIR: /models}
  secrets: {DB_PASSWORD: TRAIN_DB_PASSWORD}
  resources: {cpu: 500m, memory: 3Gi}
  schedule: ['0 3 1 * mon', '@daily']
  timezone: Europe/Berlin
  concurrency: allow
  runs_on: ecs
)Y";

struct Rendered {
  git::Library libgit2;
  test::GitRepo r;
  std::optional<View> view;
  explicit Rendered(const std::string& workspace = kWorkspace, const std::string& train = kTrain) {
    r.write("mlrepo.yaml", workspace);
    r.write("train/Dockerfile", "FROM scratch\n");
    r.write("train/mlrepo.yaml", train);
    r.commit();
    auto repo = git::Repository::discover(r.path().string());
    view.emplace(open_view(repo, std::nullopt));
  }
  const project::Project& train() const { return view->graph.projects()[*view->graph.find("train")]; }
  std::map<std::string, Json> render(const std::optional<std::string>& env = std::nullopt) const {
    deploy::PinnedImage image{"registry.example/acme/train@sha256:" + std::string(64, 'a'), "COMMIT", "content-HASH",
                              ""};
    std::map<std::string, Json> out;
    for (const auto& f : deploy::kEcs.render({train(), view->config, image, env, "deploy/ecs"})) {
      CHECK_THAT(f.content, Contains(deploy::kEcsMarker)); // how the sync knows the file is ours
      out[f.path] = Json::parse(f.content);
    }
    return out;
  }
  deploy::Problems refused(const std::optional<std::string>& env = std::nullopt) const {
    deploy::Problems problems;
    deploy::kEcs.refuse(train(), view->config, env, problems);
    return problems;
  }
};

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

} // namespace

TEST_CASE("ecs: Fargate's sizes, the smallest that holds what the job asks", "[deploy][ecs]") {
  using deploy::FargateSize;
  CHECK(deploy::fargate_size(256, 512) == FargateSize{256, 512});
  CHECK(deploy::fargate_size(512, 3072) == FargateSize{512, 3072});
  CHECK(deploy::fargate_size(512, 3000) == FargateSize{512, 3072});   // memory up to the next GB
  CHECK(deploy::fargate_size(600, 1024) == FargateSize{1024, 2048});  // CPU up to a size, memory to its least
  CHECK(deploy::fargate_size(256, 4096) == FargateSize{512, 4096});   // memory .25 vCPU cannot have
  CHECK(deploy::fargate_size(0, 16384) == FargateSize{2048, 16384});
  CHECK(deploy::fargate_size(4096, 30721) == FargateSize{8192, 32768}); // 8 vCPU steps by 4 GB
  CHECK(deploy::fargate_size(8192, 61441) == FargateSize{16384, 65536}); // 16 vCPU by 8 GB
  CHECK(deploy::fargate_size(16384, 122880) == FargateSize{16384, 122880});
  CHECK_FALSE(deploy::fargate_size(16385, 0));
  CHECK_FALSE(deploy::fargate_size(0, 122881));
}

TEST_CASE("ecs: a task definition, a schedule per AWS cron in the job's time zone, the alert", "[deploy][ecs]") {
  Rendered d;
  CHECK(d.refused().empty());
  auto files = d.render();
  auto td = files.at("deploy/ecs/train/task-definition.json");
  CHECK(td["family"] == "train");
  CHECK(td["requiresCompatibilities"] == Json::array({"FARGATE"}));
  CHECK(td["networkMode"] == "awsvpc");
  CHECK(td["cpu"] == "512"); // 500m -> 512 units
  CHECK(td["memory"] == "3072");
  CHECK(td["executionRoleArn"] == "arn:aws:iam::123456789012:role/ecsTaskExecutionRole");
  CHECK(td["taskRoleArn"] == "arn:aws:iam::123456789012:role/ml-job");
  auto c = td["containerDefinitions"][0];
  CHECK(c["image"] == "registry.example/acme/train@sha256:" + std::string(64, 'a'));
  CHECK(c["entryPoint"] == Json::array({"python", "train.py"}));
  CHECK(c["command"] == Json::array({"--epochs", "20"}));
  CHECK(c["environment"] == Json::parse(R"([{"name":"MODEL_DIR","value":"/models"}])"));
  // Where the value is, never the value.
  CHECK(c["secrets"] == Json::parse(R"([{"name":"DB_PASSWORD","valueFrom":
                                  "arn:aws:secretsmanager:eu-central-1:123456789012:secret:train-db-AbCdEf"}])"));
  CHECK(c["logConfiguration"]["logDriver"] == "awslogs");
  CHECK(c["logConfiguration"]["options"]["awslogs-region"] == "eu-central-1");

  // '0 3 1 * mon' runs on the 1st and on Mondays: AWS needs two expressions;
  // '@daily' is a third schedule.
  auto s1 = files.at("deploy/ecs/train/schedule.json");
  auto s2 = files.at("deploy/ecs/train/schedule-2.json");
  auto s3 = files.at("deploy/ecs/train/schedule-3.json");
  CHECK_FALSE(files.count("deploy/ecs/train/schedule-4.json"));
  CHECK(s1["Name"] == "train");
  CHECK(s2["Name"] == "train.2");
  CHECK(s3["Name"] == "train.3");
  CHECK(s1["ScheduleExpression"] == "cron(0 3 1 * ? *)");
  CHECK(s2["ScheduleExpression"] == "cron(0 3 ? * 2 *)"); // Monday is 2: AWS counts from Sunday = 1
  CHECK(s3["ScheduleExpression"] == "cron(0 0 * * ? *)");
  CHECK(s1["ScheduleExpressionTimezone"] == "Europe/Berlin");
  auto target = s1["Target"];
  CHECK(target["Arn"] == "arn:aws:ecs:eu-central-1:123456789012:cluster/ml-jobs");
  CHECK(target["RoleArn"] == "arn:aws:iam::123456789012:role/ml-scheduler");
  CHECK(target["EcsParameters"]["TaskDefinitionArn"] == "arn:aws:ecs:eu-central-1:123456789012:task-definition/train");
  CHECK(target["EcsParameters"]["NetworkConfiguration"]["awsvpcConfiguration"]["Subnets"] ==
        Json::array({"subnet-0abc1234def567890"}));
  CHECK(target["EcsParameters"]["NetworkConfiguration"]["awsvpcConfiguration"]["AssignPublicIp"] == "DISABLED");
  CHECK(target["DeadLetterConfig"]["Arn"] == "arn:aws:sqs:eu-central-1:123456789012:ml-dead-letters");
  CHECK(target["RetryPolicy"]["MaximumRetryAttempts"] == 3);

  auto rule = files.at("deploy/ecs/train/alert-rule.json");
  CHECK(rule["Name"] == "train.failed");
  auto pattern = Json::parse(rule["EventPattern"].get<std::string>());
  CHECK(pattern["detail"]["lastStatus"] == Json::array({"STOPPED"}));
  CHECK(pattern["detail"]["taskDefinitionArn"][0]["prefix"] ==
        "arn:aws:ecs:eu-central-1:123456789012:task-definition/train:");
  CHECK(pattern["detail"]["$or"].size() == 2);
  auto targets = files.at("deploy/ecs/train/alert-targets.json");
  CHECK(targets["Targets"][0]["Arn"] == "arn:aws:sns:eu-central-1:123456789012:ml-job-failures");
  std::string text = Json::parse(targets["Targets"][0]["InputTransformer"]["InputTemplate"].get<std::string>());
  CHECK_THAT(text, Contains("the job of train") && Contains("<exitCode>") && Contains("<reason>") &&
                       Contains("logsV2:log-groups/log-group/$252Fmlrepo$252Fjobs"));

  // Each environment beside the base, with a family of its own.
  auto prod = files.at("deploy/ecs/train/environments/prod/task-definition.json");
  CHECK(prod["family"] == "train-prod");
  CHECK(prod["containerDefinitions"][0]["environment"] ==
        Json::parse(R"([{"name":"MODEL_DIR","value":"/models"},{"name":"STAGE","value":"prod"}])"));
  CHECK(files.at("deploy/ecs/train/environments/prod/schedule-2.json")["Name"] == "train-prod.2");
  CHECK(files.at("deploy/ecs/train/environments/prod/schedule.json")["Target"]["Arn"] ==
        "arn:aws:ecs:eu-central-1:123456789012:cluster/ml-prod");
  // --env renders that environment alone.
  auto only = d.render(std::string("prod"));
  CHECK(only.count("deploy/ecs/train/task-definition.json"));
  CHECK(only.at("deploy/ecs/train/task-definition.json")["family"] == "train-prod");
  CHECK(only.size() == 6);
  CHECK_THROWS_AS(deploy::kEcs.require_env(d.view->config, std::string("nope")), UsageError);

  // As a stream: one JSON object of every file.
  deploy::PinnedImage image{"r@sha256:" + std::string(64, 'b'), "C", "content-H", ""};
  auto stream = Json::parse(deploy::kEcs.stream(deploy::kEcs.render({d.train(), d.view->config, image, std::nullopt, "-"})));
  CHECK(stream.contains("train/task-definition.json"));
  CHECK(stream.contains("train/schedule-3.json"));
}

TEST_CASE("ecs: a job scheduled elsewhere is a task definition only, without an alert when none is set",
          "[deploy][ecs]") {
  std::string ws = replaced(kWorkspace, "  alert: arn:aws:sns:eu-central-1:123456789012:ml-job-failures\n", "");
  Rendered d(ws, replaced(kTrain, "runs_on: ecs", "runs_on: github-actions"));
  auto files = d.render(std::string("prod"));
  CHECK(files.size() == 1);
  CHECK(files.count("deploy/ecs/train/task-definition.json"));
}

TEST_CASE("ecs: what ECS refuses, every problem at once, each naming the project and what to do", "[deploy][ecs]") {
  std::string train = replaced(kTrain, "resources: {cpu: 500m, memory: 3Gi}", "resources: {cpu: 32, gpu: 1}");
  train = replaced(train, "secrets: {DB_PASSWORD: TRAIN_DB_PASSWORD}",
                   "secrets: {DB_PASSWORD: TRAIN_DB_PASSWORD, TOKEN: HF_TOKEN}");
  Rendered d(kWorkspace, train);
  auto problems = d.refused();
  std::string all;
  for (const auto& p : problems)
    all += std::string(p->what()) + " / " + p->hint() + "\n";
  INFO(all);
  CHECK(problems.size() == 3);
  CHECK_THAT(all, Contains("train: asks for 1 GPU, and Fargate has none") && Contains("launch_type: EC2"));
  CHECK_THAT(all, Contains("the secret HF_TOKEN (for TOKEN) has no ARN in ecs.secrets"));
  CHECK_THAT(all, Contains("more than Fargate's largest size"));
  CHECK_THAT(all, Contains("train/mlrepo.yaml"));

  // On EC2 a GPU is a resource requirement, and the size is the job's own.
  Rendered ec2(replaced(kWorkspace, "  region: eu-central-1\n", "  region: eu-central-1\n  launch_type: EC2\n"),
               replaced(kTrain, "resources: {cpu: 500m, memory: 3Gi}", "resources: {cpu: 3, memory: 20Gi, gpu: 2}"));
  REQUIRE(ec2.refused().empty());
  auto td = ec2.render().at("deploy/ecs/train/task-definition.json");
  CHECK(td["requiresCompatibilities"] == Json::array({"EC2"}));
  CHECK(td["cpu"] == "3072");
  CHECK(td["memory"] == "20480");
  CHECK(td["containerDefinitions"][0]["resourceRequirements"] == Json::parse(R"([{"type":"GPU","value":"2"}])"));

  // A GPU job scheduled elsewhere (a GPU runner in Actions) is not ECS's to
  // refuse: no files, and CI's deploy does not fail on it.
  Rendered elsewhere(kWorkspace, replaced(train, "runs_on: ecs", "runs_on: github-actions"));
  CHECK(elsewhere.refused().empty());
  CHECK(elsewhere.render().empty());

  // A name no family, schedule or rule can have.
  Rendered dotted(kWorkspace, "name: train.v2\n" + std::string(kTrain));
  auto named = dotted.view->graph.find("train.v2");
  REQUIRE(named);
  deploy::Problems p;
  deploy::kEcs.refuse(dotted.view->graph.projects()[*named], dotted.view->config, std::nullopt, p);
  REQUIRE(p.size() == 1);
  CHECK_THAT(p[0]->what(), Contains("not an ECS task definition family"));
}

TEST_CASE("ecs: without --target, the one target the workspace configures", "[deploy][ecs]") {
  auto ws = config::parse_workspace_config(kWorkspace, "mlrepo.yaml");
  CHECK(std::string(deploy::target_for(ws, "").name) == "ecs");
  CHECK(std::string(deploy::target_for(ws, "kubernetes").name) == "kubernetes");
  auto none = config::parse_workspace_config("registry: r.example/a\n", "mlrepo.yaml");
  CHECK(std::string(deploy::target_for(none, "").name) == "kubernetes");
  CHECK_THROWS_AS(deploy::kEcs.require_env(none, std::nullopt), UsageError); // no ecs: section
  auto both = config::parse_workspace_config(std::string(kWorkspace) + "kubernetes:\n  namespace: ml\n", "mlrepo.yaml");
  try {
    deploy::target_for(both, "");
    FAIL("no error with both targets configured");
  } catch (const UsageError& e) {
    CHECK_THAT(e.what(), Contains("kubernetes: and ecs:"));
    CHECK_THAT(e.hint(), Contains("--target kubernetes or --target ecs"));
  }
  // One default place for a job's schedule: two deploying targets is no default.
  CHECK_THROWS_AS(config::parse_workspace_config(std::string(kWorkspace) + "  deploy: true\nkubernetes:\n  deploy: true\n",
                                                 "mlrepo.yaml"),
                  ConfigError);
}
