// `mlrepo job render|deploy --target ecs`. No AWS account is reachable here,
// so correctness is proven offline two ways: every rendered file passes
// botocore's own parameter validation for its operation, plus the model's
// enums and Fargate's size table (tests/tools/aws_check.py); and `job deploy`
// runs the real aws CLI (PyPI awscli) against moto_server, an AWS API
// emulator on 127.0.0.1, reading back what it holds. What the emulator does
// not check: IAM permissions and roles, networking (subnets, security
// groups), that the image can be pulled, that Scheduler fires on time, and
// EventBridge's matching of the alert's pattern against real task events.
#include "support/docker.hpp"

#include "mlrepo/util/fs.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace mlrepo::test;
using Catch::Contains;
using Json = nlohmann::json;

namespace {

const std::string kTools = MLREPO_TOOLS_DIR;

std::string ecs_workspace(const std::string& registry, const std::string& prefix, const std::string& extra = "") {
  return "registry: " + registry + "\nimage_prefix: " + prefix +
         "\necs:\n  cluster: ml-jobs\n  region: eu-central-1\n"
         "  subnets: [subnet-0abc1234def567890]\n  security_groups: [sg-0abc1234def567890]\n"
         "  execution_role_arn: arn:aws:iam::123456789012:role/ecsTaskExecutionRole\n"
         "  scheduler_role_arn: arn:aws:iam::123456789012:role/ml-scheduler\n"
         "  secrets: {CHURN_DB_PASSWORD: "
         "'arn:aws:secretsmanager:eu-central-1:123456789012:secret:churn-db-AbCdEf'}\n"
         "  alert: arn:aws:sns:eu-central-1:123456789012:ml-job-failures\n" +
         extra;
}

const char* const kChurnJob = "job:\n  command: sh /churn.sh\n  env: {MODEL: gbm}\n"
                              "  secrets: {DB_PASSWORD: CHURN_DB_PASSWORD}\n"
                              "  resources: {cpu: 1, memory: 3Gi}\n  timeout: 2h\n  retries: 1\n"
                              "  schedule: '0 7 * * mon'\n  timezone: Europe/Berlin\n  runs_on: ecs\n";

struct EcsRepo {
  Registry registry;
  ImageScope images;
  GitRepo repo;
  EcsRepo() {
    repo.write("mlrepo.yaml", ecs_workspace(registry.host() + "/acme", images.prefix()));
    repo.write("churn/Dockerfile", "FROM " + busybox_image() + "\nCOPY churn.sh /churn.sh\n");
    repo.write("churn/churn.sh", "echo churn\n");
    repo.write("churn/mlrepo.yaml", kChurnJob);
    repo.write("adhoc/Dockerfile", "FROM " + busybox_image() + "\n");
    repo.write("adhoc/mlrepo.yaml", "job:\n  args: [echo, once]\n  concurrency: allow\n");
    repo.commit();
    auto push = repo.mlrepo({"build", "--all", "--push"});
    INFO(push.err);
    REQUIRE(push.code == 0);
  }
  std::string image(const std::string& name) const {
    std::string repository = "acme/" + images.prefix() + name;
    return registry.host() + "/" + repository + "@" + registry.tag_digest(repository, repo.head());
  }
};

// botocore's models, our own checks; exit 0 and no problem printed.
Run aws_check(const std::vector<fs::path>& files) {
  std::vector<std::string> argv{kTools + "/python", std::string(MLREPO_SOURCE_DIR) + "/tests/tools/aws_check.py"};
  for (const auto& f : files)
    argv.push_back(f.string());
  return run_program(argv, fs::temp_directory_path());
}

std::vector<fs::path> json_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().extension() == ".json")
      out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// moto's emulator on a port the kernel chose (tests/tools/moto_up.py), and
// the environment the aws CLI reaches it with. The keys are moto's dummies.
struct Moto {
  TempDir dir;
  std::unique_ptr<Background> server;
  int port = 0;
  Moto() {
    server = std::make_unique<Background>(
        std::vector<std::string>{kTools + "/python", std::string(MLREPO_SOURCE_DIR) + "/tests/tools/moto_up.py",
                                 (dir.path() / "port").string()},
        dir.path(), Env{}, dir.path() / "moto.log");
    port = wait_for_port_file(dir.path() / "port", dir.path() / "moto.log");
  }
  Env env() const {
    return {{"AWS_ENDPOINT_URL", "http://127.0.0.1:" + std::to_string(port)},
            {"AWS_ACCESS_KEY_ID", "testing"},
            {"AWS_SECRET_ACCESS_KEY", "testing"},
            {"AWS_CONFIG_FILE", (dir.path() / "none").string()},
            {"AWS_SHARED_CREDENTIALS_FILE", (dir.path() / "none").string()}};
  }
  // The aws CLI itself, as a user would ask.
  Json aws(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{kTools + "/aws"};
    argv.insert(argv.end(), args.begin(), args.end());
    for (const char* a : {"--region", "eu-central-1", "--output", "json"})
      argv.emplace_back(a);
    auto r = run_program(argv, dir.path(), env());
    INFO("aws " << args[0] << " " << args[1] << ": " << r.err);
    REQUIRE(r.code == 0);
    return Json::parse(r.out);
  }
  std::vector<std::string> schedules() const {
    std::vector<std::string> names;
    auto listed = aws({"scheduler", "list-schedules"}); // kept: a loop over a temporary's member dangles
    for (const auto& s : listed["Schedules"])
      names.push_back(s["Name"]);
    std::sort(names.begin(), names.end());
    return names;
  }
};

} // namespace

TEST_CASE("job render --target ecs: task definition, schedule and alert, each valid input for its AWS operation",
          "[ecs][docker]") {
  EcsRepo d;
  // Only ecs: is configured, so it is the target without --target.
  auto run = d.repo.mlrepo({"job", "render", "--all"});
  INFO(run.err);
  REQUIRE(run.code == 0);
  auto dir = d.repo.path() / "deploy/ecs";
  auto files = json_files(dir);
  std::vector<std::string> names;
  for (const auto& f : files)
    names.push_back(f.lexically_relative(dir).generic_string());
  CHECK(names == std::vector<std::string>{"adhoc/alert-rule.json", "adhoc/alert-targets.json",
                                          "adhoc/task-definition.json", "churn/alert-rule.json",
                                          "churn/alert-targets.json", "churn/schedule.json",
                                          "churn/task-definition.json"});
  // adhoc has no schedule (a task definition run on demand), and its alert
  // still hears of a run someone started by hand.
  auto check = aws_check(files);
  INFO(check.out << check.err);
  CHECK(check.code == 0);

  auto td = Json::parse(mlrepo::util::read_file(dir / "churn/task-definition.json").value_or("{}"));
  REQUIRE_FALSE(d.image("churn").ends_with("@"));
  CHECK(td["containerDefinitions"][0]["image"] == d.image("churn"));
  CHECK(td["containerDefinitions"][0]["entryPoint"] == Json::array({"/bin/sh", "-c", "sh /churn.sh"}));
  CHECK(td["cpu"] == "1024");
  CHECK(td["memory"] == "3072");
  auto schedule = Json::parse(mlrepo::util::read_file(dir / "churn/schedule.json").value_or("{}"));
  CHECK(schedule["ScheduleExpression"] == "cron(0 7 ? * 2 *)");
  CHECK(schedule["ScheduleExpressionTimezone"] == "Europe/Berlin");
  // What ECS does not enforce is said, naming the field.
  CHECK_THAT(run.err, Contains("churn: job.timeout is not enforced on ECS") &&
                          Contains("churn: job.retries (1) is not enforced on ECS") &&
                          Contains("churn: job.concurrency: forbid has no ECS equivalent") &&
                          Contains("adhoc: no job.cpu or job.memory: Fargate size 1 vCPU, 2 GB"));
  CHECK_THAT(run.err, !Contains("adhoc: job.concurrency"));
  // No secret value anywhere: the ARN only.
  CHECK_THAT(mlrepo::util::read_file(dir / "churn/task-definition.json").value_or(""),
             Contains("\"valueFrom\": \"arn:aws:secretsmanager:"));

  auto again = d.repo.mlrepo({"job", "render", "--all", "--check"});
  INFO(again.err);
  CHECK(again.code == 0);

  // The checker is not lenient: a misspelt field and a size Fargate lacks fail it.
  TempDir tmp;
  auto bad = tmp.path() / "task-definition.json";
  auto broken = td;
  broken["cpu"] = "768";
  broken["containerDefinitions"][0]["essental"] = true;
  mlrepo::util::write_file_atomic(bad, broken.dump(2));
  auto refused = aws_check({bad});
  CHECK(refused.code == 1);
  CHECK_THAT(refused.out, Contains("essental") && Contains("not a Fargate size"));
  auto bad_schedule = tmp.path() / "schedule.json";
  auto wrong = schedule;
  wrong["Target"]["EcsParameters"]["LaunchType"] = "SPOT";
  mlrepo::util::write_file_atomic(bad_schedule, wrong.dump(2));
  auto enum_refused = aws_check({bad_schedule});
  CHECK(enum_refused.code == 1);
  CHECK_THAT(enum_refused.out, Contains("'SPOT' is not one of"));

  // -o - is one JSON object; a hand-written file of the same name is never overwritten.
  auto stream = d.repo.mlrepo({"job", "render", "churn", "-o", "-"});
  REQUIRE(stream.code == 0);
  auto streamed = Json::parse(stream.out);
  CHECK(streamed["churn/task-definition.json"] == td);
  d.repo.write("elsewhere/churn/task-definition.json", "{\"family\": \"mine\"}\n");
  auto foreign = d.repo.mlrepo({"job", "render", "churn", "-o", "elsewhere"});
  CHECK(foreign.code == 2);
  CHECK_THAT(foreign.err, Contains("was not generated by mlrepo"));
}

TEST_CASE("job render --target ecs: what ECS refuses is exit 2, every problem at once, nothing written",
          "[ecs][docker]") {
  EcsRepo d;
  d.repo.write("churn/mlrepo.yaml", "job:\n  resources: {gpu: 1}\n  secrets: {TOKEN: HF_TOKEN}\n"
                                    "  schedule: '0 7 * * *'\n  runs_on: ecs\n");
  d.repo.commit();
  auto run = d.repo.mlrepo({"job", "render", "--all"});
  CHECK(run.code == 2);
  CHECK_THAT(run.err, Contains("churn/mlrepo.yaml") && Contains("churn: asks for 1 GPU, and Fargate has none") &&
                          Contains("launch_type: EC2") && Contains("the secret HF_TOKEN (for TOKEN) has no ARN"));
  CHECK_FALSE(fs::exists(d.repo.path() / "deploy/ecs"));
  // Both targets configured: which one is said, never guessed.
  d.repo.write("mlrepo.yaml", ecs_workspace(d.registry.host() + "/acme", d.images.prefix(),
                                            "kubernetes:\n  namespace: ml\n"));
  d.repo.commit();
  auto both = d.repo.mlrepo({"job", "render", "adhoc"});
  CHECK(both.code == 2);
  CHECK_THAT(both.err, Contains("--target kubernetes or --target ecs"));
  auto k8s = d.repo.mlrepo({"job", "render", "adhoc", "--target", "kubernetes", "-o", "-"});
  INFO(k8s.err);
  CHECK(k8s.code == 0);
  CHECK_THAT(k8s.out, Contains("kind: Job"));
}

TEST_CASE("job deploy --target ecs: the aws CLI against moto_server, idempotent, obsolete schedules removed",
          "[ecs][docker]") {
  EcsRepo d;
  Moto moto;
  auto env = moto.env();
  std::vector<std::string> deploy{"job", "deploy", "--all", "--aws", kTools + "/aws"};
  auto first = d.repo.mlrepo(deploy, env);
  INFO(first.err);
  REQUIRE(first.code == 0);
  CHECK_THAT(first.out, Contains("churn\tapplied\t" + d.image("churn")) &&
                            Contains("adhoc\tapplied\t" + d.image("adhoc")));
  CHECK_THAT(first.err, Contains("adhoc: no schedule: the task definition runs on demand"));

  auto td = moto.aws({"ecs", "describe-task-definition", "--task-definition", "churn"})["taskDefinition"];
  CHECK(td["revision"] == 1);
  CHECK(td["containerDefinitions"][0]["image"] == d.image("churn"));
  CHECK(td["containerDefinitions"][0]["secrets"][0]["valueFrom"] ==
        "arn:aws:secretsmanager:eu-central-1:123456789012:secret:churn-db-AbCdEf");
  auto schedule = moto.aws({"scheduler", "get-schedule", "--name", "churn"});
  CHECK(schedule["ScheduleExpression"] == "cron(0 7 ? * 2 *)");
  CHECK(schedule["ScheduleExpressionTimezone"] == "Europe/Berlin");
  CHECK(schedule["Target"]["EcsParameters"]["TaskDefinitionArn"] ==
        "arn:aws:ecs:eu-central-1:123456789012:task-definition/churn");
  auto rule = moto.aws({"events", "describe-rule", "--name", "churn.failed"});
  auto pattern = Json::parse(rule["EventPattern"].get<std::string>());
  CHECK(pattern["detail-type"] == Json::array({"ECS Task State Change"}));
  CHECK(pattern["detail"]["lastStatus"] == Json::array({"STOPPED"}));
  auto targets = moto.aws({"events", "list-targets-by-rule", "--rule", "churn.failed"})["Targets"];
  REQUIRE(targets.size() == 1);
  CHECK(targets[0]["Arn"] == "arn:aws:sns:eu-central-1:123456789012:ml-job-failures");

  // The same spec again: nothing changes, and it says so.
  auto second = d.repo.mlrepo(deploy, env);
  INFO(second.err);
  REQUIRE(second.code == 0);
  CHECK_THAT(second.out, Contains("churn\tunchanged\t") && Contains("adhoc\tunchanged\t"));
  CHECK_THAT(second.err, Contains("unchanged: AWS already holds exactly this"));
  CHECK(moto.aws({"ecs", "describe-task-definition", "--task-definition", "churn"})["taskDefinition"]["revision"] == 1);

  // A second cron adds a schedule (the image is rebuilt: its labels carry the
  // content tag, which the config moved).
  std::string two = kChurnJob;
  two.replace(two.find("schedule: '0 7 * * mon'"), 23, "schedule: ['0 7 * * mon', '30 18 1 * *']");
  d.repo.write("churn/mlrepo.yaml", two);
  d.repo.commit();
  REQUIRE(d.repo.mlrepo({"build", "--all", "--push"}).code == 0);
  // A schedule someone made by hand under a name mlrepo's could have: never touched.
  moto.aws({"scheduler", "create-schedule", "--name", "churn.9", "--schedule-expression", "rate(1 day)",
            "--flexible-time-window", "Mode=OFF", "--target",
            "Arn=arn:aws:sqs:eu-central-1:123456789012:q,RoleArn=arn:aws:iam::123456789012:role/r"});
  auto grown = d.repo.mlrepo(deploy, env);
  INFO(grown.err);
  REQUIRE(grown.code == 0);
  CHECK(moto.schedules() == std::vector<std::string>{"churn", "churn.2", "churn.9"});
  CHECK(moto.aws({"scheduler", "get-schedule", "--name", "churn.2"})["ScheduleExpression"] == "cron(30 18 1 * ? *)");

  // The cron removed: its schedule goes; a new image is one new revision.
  int before = moto.aws({"ecs", "describe-task-definition", "--task-definition", "churn"})["taskDefinition"]["revision"];
  d.repo.write("churn/mlrepo.yaml", kChurnJob);
  d.repo.write("churn/churn.sh", "echo churn v2\n");
  d.repo.commit();
  REQUIRE(d.repo.mlrepo({"build", "--all", "--push"}).code == 0);
  auto shrunk = d.repo.mlrepo(deploy, env);
  INFO(shrunk.err);
  REQUIRE(shrunk.code == 0);
  CHECK(moto.schedules() == std::vector<std::string>{"churn", "churn.9"});
  auto latest = moto.aws({"ecs", "describe-task-definition", "--task-definition", "churn"})["taskDefinition"];
  CHECK(latest["revision"] == before + 1);
  CHECK(latest["containerDefinitions"][0]["image"] == d.image("churn"));

  // --dry-run runs no aws at all.
  auto dry = d.repo.mlrepo({"job", "deploy", "--all", "--dry-run", "--aws", "/nonexistent/aws"}, env);
  INFO(dry.err);
  CHECK(dry.code == 0);
  CHECK_THAT(dry.out, Contains("churn\tnot applied"));
  // No aws CLI: exit 3, saying what to install.
  auto missing = d.repo.mlrepo({"job", "deploy", "churn", "--aws", "/nonexistent/aws"}, env);
  CHECK(missing.code == 3);
  CHECK_THAT(missing.err, Contains("/nonexistent/aws"));
}
