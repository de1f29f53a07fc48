// The ECS inputs a job becomes, each exactly the input of one AWS API call as
// the AWS CLI's --cli-input-json takes it (RegisterTaskDefinition,
// Scheduler's CreateSchedule, EventBridge PutRule and PutTargets), written as
// ordered JSON so the same job always gives the same bytes; and what a task
// runs with: Fargate's sizes, one environment's settings, the names.
#include "ecs_inputs.hpp"

#include "mlrepo/run/container.hpp"
#include "mlrepo/util/cron.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/units.hpp"

#include <nlohmann/json.hpp>

namespace mlrepo::deploy {

using Json = nlohmann::ordered_json;

std::optional<FargateSize> fargate_size(std::int64_t cpu_units, std::int64_t memory_mib) {
  // AWS's table: each CPU size and the memory it can have (MiB), from the
  // smallest; a row is {cpu, first, last, step} or, for 256, a list.
  struct Row {
    int cpu, first, last, step;
  };
  static const Row kRows[] = {{256, 512, 2048, 0},       {512, 1024, 4096, 1024},     {1024, 2048, 8192, 1024},
                              {2048, 4096, 16384, 1024}, {4096, 8192, 30720, 1024},   {8192, 16384, 61440, 4096},
                              {16384, 32768, 122880, 8192}};
  for (const auto& row : kRows) {
    if (row.cpu < cpu_units)
      continue;
    std::vector<int> sizes;
    if (row.step == 0)
      sizes = {512, 1024, 2048};
    else
      for (int m = row.first; m <= row.last; m += row.step)
        sizes.push_back(m);
    for (int m : sizes)
      if (m >= memory_mib)
        return FargateSize{row.cpu, m};
  }
  return std::nullopt;
}

const config::EcsEnvironment* ecs_environment(const config::WorkspaceConfig& ws, const std::optional<std::string>& name) {
  return environment_named(ws.ecs.environments, name, "ecs", "{cluster: ml-" + name.value_or("") + "}");
}

namespace {

// One ARN field: arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE.
std::string arn_field(const std::string& arn, int index) {
  size_t at = 0;
  for (int i = 0; i < index; ++i) {
    at = arn.find(':', at);
    if (at == std::string::npos)
      return "";
    ++at;
  }
  return arn.substr(at, arn.find(':', at) - at);
}

} // namespace

EcsSettings ecs_settings(const config::WorkspaceConfig& ws, const std::string& project,
                         const std::optional<std::string>& env) {
  const auto& e = ws.ecs;
  const auto* over = ecs_environment(ws, env);
  EcsSettings s;
  s.place = ecs_place(ws, project, env);
  s.fargate = e.launch_type == "FARGATE";
  s.subnets = over && over->subnets ? *over->subnets : e.subnets;
  s.security_groups = over && over->security_groups ? *over->security_groups : e.security_groups;
  s.assign_public_ip = over && over->assign_public_ip ? *over->assign_public_ip : e.assign_public_ip;
  s.secrets = e.secrets;
  if (over) {
    s.env = over->env;
    for (const auto& [name, arn] : over->secrets)
      s.secrets[name] = arn;
  }
  return s;
}

namespace {

bool awsvpc(const EcsSettings& s) { return s.fargate || !s.subnets.empty(); }

// Tag values take letters, digits, spaces and + - = . _ : / @, up to 256.
std::string tag_value(std::string text) {
  for (char& c : text)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || std::string_view(" +-=._:/@").find(c) != std::string::npos))
      c = '_';
  return text.substr(0, 256);
}

std::int64_t cpu_units(const std::string& quantity) {
  return (util::parse_quantity(quantity).milli * 1024 + 999) / 1000;
}
std::int64_t memory_mib(const std::string& quantity) {
  std::int64_t bytes = (util::parse_quantity(quantity).milli + 999) / 1000;
  return (bytes + 1048575) / 1048576;
}

std::string mib_text(int mib) {
  return mib % 1024 == 0 ? std::to_string(mib / 1024) + " GB" : std::to_string(mib) + " MiB";
}
std::string vcpu_text(int units) {
  if (units % 1024 == 0)
    return std::to_string(units / 1024) + " vCPU";
  return units == 256 ? "0.25 vCPU" : units == 512 ? "0.5 vCPU" : std::to_string(units) + " CPU units";
}

} // namespace

std::optional<TaskSize> task_size(const config::JobSpec& job, bool fargate) {
  TaskSize out;
  if (!fargate) {
    if (job.cpu)
      out.cpu = static_cast<int>(cpu_units(*job.cpu));
    out.memory = job.memory ? static_cast<int>(memory_mib(*job.memory)) : 2048;
    if (!job.memory)
      out.said = "no job.memory: the task gets 2 GB (ECS needs a memory size on EC2)";
    return out;
  }
  if (!job.cpu && !job.memory) {
    out.cpu = 1024;
    out.memory = 2048;
    out.said = "no job.cpu or job.memory: Fargate size 1 vCPU, 2 GB (set them in the job: to choose)";
    return out;
  }
  std::int64_t cpu = job.cpu ? cpu_units(*job.cpu) : 0;
  std::int64_t mem = job.memory ? memory_mib(*job.memory) : 0;
  auto size = fargate_size(cpu, mem);
  if (!size)
    return std::nullopt;
  out.cpu = size->cpu;
  out.memory = size->memory;
  if (size->cpu != cpu || size->memory != mem)
    out.said = "cpu " + job.cpu.value_or("(none)") + ", memory " + job.memory.value_or("(none)") +
               " is not a size Fargate offers: rounded up to " + vcpu_text(size->cpu) + ", " + mib_text(size->memory) +
               " (cpu " + std::to_string(size->cpu) + ", memory " + std::to_string(size->memory) + ")";
  return out;
}

namespace {

Json task_definition(const project::Project& p, const config::WorkspaceConfig& ws, const PinnedImage& image,
                     const EcsSettings& s) {
  const auto& job = *p.config->job;
  Json container;
  container["name"] = p.name;
  container["image"] = image.reference;
  container["essential"] = true;
  // One string is a shell command, as `job run` and Kubernetes read it.
  if (!job.command.empty())
    container["entryPoint"] = run::command_argv(job.command);
  if (!job.args.empty())
    container["command"] = job.args;
  std::map<std::string, std::string> values = job.env;
  for (const auto& [name, value] : s.env)
    values[name] = value;
  if (!values.empty()) {
    Json env = Json::array();
    for (const auto& [name, value] : values)
      env.push_back({{"name", name}, {"value", value}});
    container["environment"] = env;
  }
  if (!job.secrets.empty()) {
    // The task's execution role reads each value at start; the file names
    // only where it is.
    Json secrets = Json::array();
    for (const auto& [variable, secret] : job.secrets)
      secrets.push_back({{"name", variable}, {"valueFrom", s.secrets.at(secret)}});
    container["secrets"] = secrets;
  }
  if (job.gpu > 0)
    container["resourceRequirements"] = Json::array({{{"type", "GPU"}, {"value", std::to_string(job.gpu)}}});
  container["logConfiguration"] = {{"logDriver", "awslogs"},
                                   {"options",
                                    {{"awslogs-group", s.place.log_group},
                                     {"awslogs-region", s.place.region},
                                     {"awslogs-stream-prefix", s.place.family},
                                     {"awslogs-create-group", "true"}}}};

  Json td;
  td["family"] = s.place.family;
  if (!ws.ecs.task_role_arn.empty())
    td["taskRoleArn"] = ws.ecs.task_role_arn;
  td["executionRoleArn"] = ws.ecs.execution_role_arn;
  td["networkMode"] = awsvpc(s) ? "awsvpc" : "bridge";
  td["containerDefinitions"] = Json::array({container});
  td["requiresCompatibilities"] = Json::array({s.fargate ? "FARGATE" : "EC2"});
  auto size = task_size(job, s.fargate); // refused before rendering when it has none
  if (size && size->cpu)
    td["cpu"] = std::to_string(*size->cpu);
  if (size && size->memory)
    td["memory"] = std::to_string(*size->memory);
  Json tags = Json::array();
  auto tag = [&](const std::string& key, const std::string& value) {
    tags.push_back({{"key", key}, {"value", tag_value(value)}});
  };
  tag("mlrepo.dev/project", p.name);
  tag("mlrepo.dev/project-path", p.path);
  // Not the content tag: a change to the job's config alone moves it, and
  // would register a revision running the very same image.
  if (!image.release.empty())
    tag("mlrepo.dev/release", image.release);
  tag("mlrepo.dev/generated",
      std::string(kEcsMarker) + " from " + p.config->file + " - regenerate with mlrepo job render --target ecs");
  td["tags"] = tags;
  return td;
}

std::string task_definition_arn(const EcsPlace& place) {
  // No revision: RunTask takes the family's latest ACTIVE revision, so a
  // deploy that registers one needs no schedule change.
  return "arn:" + place.partition + ":ecs:" + place.region + ":" + place.account + ":task-definition/" + place.family;
}

Json schedule(const project::Project& p, const config::WorkspaceConfig& ws, const EcsSettings& s, const std::string& name,
              const std::string& expression, const std::string& cron) {
  const auto& job = *p.config->job;
  Json ecs;
  ecs["TaskDefinitionArn"] = task_definition_arn(s.place);
  ecs["TaskCount"] = 1;
  ecs["LaunchType"] = s.fargate ? "FARGATE" : "EC2";
  if (s.fargate)
    ecs["PlatformVersion"] = "LATEST";
  if (awsvpc(s)) {
    Json vpc;
    vpc["Subnets"] = s.subnets;
    if (!s.security_groups.empty())
      vpc["SecurityGroups"] = s.security_groups;
    vpc["AssignPublicIp"] = s.assign_public_ip ? "ENABLED" : "DISABLED";
    ecs["NetworkConfiguration"] = {{"awsvpcConfiguration", vpc}};
  }
  ecs["EnableECSManagedTags"] = true;
  ecs["PropagateTags"] = "TASK_DEFINITION";
  Json target;
  target["Arn"] = s.place.cluster_arn;
  target["RoleArn"] = ws.ecs.scheduler_role_arn;
  target["EcsParameters"] = ecs;
  // Scheduler retries a run that failed to start (no capacity, throttling)
  // for an hour; a task that started and failed is the alert's.
  target["RetryPolicy"] = {{"MaximumEventAgeInSeconds", 3600}, {"MaximumRetryAttempts", 3}};
  if (!ws.ecs.dead_letter_queue.empty())
    target["DeadLetterConfig"] = {{"Arn", ws.ecs.dead_letter_queue}};
  Json out;
  out["Name"] = name;
  out["Description"] = std::string(kEcsMarker) + " from " + p.config->file + ": the job of " + p.name + " at " + cron +
                       " (" + job.timezone + ")";
  out["ScheduleExpression"] = expression;
  out["ScheduleExpressionTimezone"] = job.timezone;
  out["FlexibleTimeWindow"] = {{"Mode", "OFF"}};
  out["State"] = "ENABLED";
  out["Target"] = target;
  return out;
}

// The console's URL escaping of a log group inside its fragment.
std::string console_escaped(const std::string& text) {
  std::string out;
  for (char c : text)
    out += c == '/' ? std::string("$252F") : std::string(1, c);
  return out;
}

Json alert_rule(const project::Project& p, const EcsSettings& s) {
  // The family's tasks stopping with a non-zero exit code, or never
  // starting (no exit code at all: the image could not be pulled, a secret
  // could not be read).
  Json pattern;
  pattern["source"] = Json::array({"aws.ecs"});
  pattern["detail-type"] = Json::array({"ECS Task State Change"});
  Json detail;
  detail["clusterArn"] = Json::array({s.place.cluster_arn});
  detail["taskDefinitionArn"] = Json::array({{{"prefix", task_definition_arn(s.place) + ":"}}});
  detail["lastStatus"] = Json::array({"STOPPED"});
  detail["$or"] = Json::array({{{"containers", {{"exitCode", Json::array({{{"anything-but", 0}}})}}}},
                               {{"stopCode", Json::array({"TaskFailedToStart"})}}});
  pattern["detail"] = detail;
  Json out;
  out["Name"] = ecs_alert_rule_name(s.place.family);
  out["EventPattern"] = pattern.dump();
  out["State"] = "ENABLED";
  out["Description"] = std::string(kEcsMarker) + " from " + p.config->file + ": the job of " + p.name +
                       " failing on ECS (a non-zero exit code, or a task that never started)";
  out["Tags"] = Json::array({{{"Key", "mlrepo.dev/project"}, {"Value", tag_value(p.name)}}});
  return out;
}

Json alert_targets(const project::Project& p, const EcsSettings& s) {
  std::string logs = "https://" + s.place.region + ".console.aws.amazon.com/cloudwatch/home?region=" + s.place.region +
                     "#logsV2:log-groups/log-group/" + console_escaped(s.place.log_group);
  // One readable line for a person (and for Slack through AWS Chatbot or an
  // email subscription); every <name> is read from the event.
  std::string text = "mlrepo: the job of " + p.name + " (" + p.path +
                     ") failed on ECS at <time>: exit code <exitCode>, <stopCode>: <reason>. Task <task>. Logs: " +
                     logs + " (stream " + s.place.family + "/" + p.name + "/ and the task's ID). This alert was " + kEcsMarker +
                     " from " + p.config->file + ".";
  Json transformer;
  transformer["InputPathsMap"] = {{"exitCode", "$.detail.containers[0].exitCode"},
                                  {"reason", "$.detail.stoppedReason"},
                                  {"stopCode", "$.detail.stopCode"},
                                  {"task", "$.detail.taskArn"},
                                  {"time", "$.time"}};
  transformer["InputTemplate"] = Json(text).dump(); // a JSON string: SNS sends its text
  Json target;
  target["Id"] = "mlrepo-alert";
  target["Arn"] = s.place.alert;
  target["InputTransformer"] = transformer;
  Json out;
  out["Rule"] = ecs_alert_rule_name(s.place.family);
  out["Targets"] = Json::array({target});
  return out;
}

std::string json_file(const Json& j) { return j.dump(2) + "\n"; }

} // namespace

std::vector<generated::File> ecs_inputs(const project::Project& p, const config::WorkspaceConfig& ws,
                                        const PinnedImage& image, const std::optional<std::string>& env,
                                        const std::string& base) {
  const auto& job = *p.config->job;
  EcsSettings s = ecs_settings(ws, p.name, env);
  std::vector<generated::File> out;
  out.push_back({base + "task-definition.json", json_file(task_definition(p, ws, image, s))});
  // Only a job scheduled on ECS gets schedules; any other is a task
  // definition to run on demand ('aws ecs run-task').
  if (config::job_target(job, ws) == config::JobTarget::Ecs) {
    size_t n = 0;
    for (const auto& cron : job.schedule)
      for (const auto& expression : util::aws_cron(util::parse_cron(cron.value))) {
        std::string file = n == 0 ? "schedule.json" : "schedule-" + std::to_string(n + 1) + ".json";
        out.push_back({base + file, json_file(schedule(p, ws, s, ecs_schedule_name(s.place.family, n), expression,
                                                       cron.value))});
        ++n;
      }
  }
  if (!s.place.alert.empty()) {
    out.push_back({base + "alert-rule.json", json_file(alert_rule(p, s))});
    out.push_back({base + "alert-targets.json", json_file(alert_targets(p, s))});
  }
  return out;
}

EcsPlace ecs_place(const config::WorkspaceConfig& ws, const std::string& project, const std::optional<std::string>& env) {
  const auto& e = ws.ecs;
  const auto* over = ecs_environment(ws, env);
  EcsPlace place;
  place.region = over && over->region ? *over->region : e.region;
  // The scheduler role lives in the account the schedules do.
  place.partition = arn_field(e.scheduler_role_arn, 1);
  place.account = arn_field(e.scheduler_role_arn, 4);
  std::string cluster = over && over->cluster ? *over->cluster : e.cluster;
  place.cluster_arn = cluster.rfind("arn:", 0) == 0 ? cluster
                                                    : "arn:" + place.partition + ":ecs:" + place.region + ":" +
                                                          place.account + ":cluster/" + cluster;
  std::string log_group = over && over->log_group ? *over->log_group : e.log_group;
  place.log_group = log_group.empty() ? "/mlrepo/jobs" : log_group;
  place.alert = over && over->alert ? *over->alert : e.alert;
  place.family = env ? project + "-" + *env : project;
  return place;
}

std::string ecs_schedule_name(const std::string& family, size_t index) {
  return index == 0 ? family : family + "." + std::to_string(index + 1);
}

std::string ecs_alert_rule_name(const std::string& family) { return family + ".failed"; }

} // namespace mlrepo::deploy
