// The ECS row of the deploy target table: what ECS refuses in a job, and its
// files. Each file is exactly the input of one AWS API call as the AWS CLI's
// --cli-input-json takes it (RegisterTaskDefinition, Scheduler's
// CreateSchedule, EventBridge PutRule and PutTargets), written as ordered
// JSON so the same job always gives the same bytes.
#include "mlrepo/deploy/ecs.hpp"

#include "mlrepo/run/container.hpp"
#include "mlrepo/util/cron.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/units.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

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

namespace {

const config::EcsEnvironment* ecs_environment(const config::WorkspaceConfig& ws, const std::optional<std::string>& name) {
  return environment_named(ws.ecs.environments, name, "ecs", "{cluster: ml-" + name.value_or("") + "}");
}

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

// The settings one environment runs with.
struct Settings {
  EcsPlace place;
  bool fargate = true;
  std::vector<std::string> subnets, security_groups;
  bool assign_public_ip = false;
  std::map<std::string, std::string> env, secrets;
};

Settings settings(const config::WorkspaceConfig& ws, const std::string& project, const std::optional<std::string>& env) {
  const auto& e = ws.ecs;
  const auto* over = ecs_environment(ws, env);
  Settings s;
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

bool awsvpc(const Settings& s) { return s.fargate || !s.subnets.empty(); }

// Tag values take letters, digits, spaces and + - = . _ : / @, up to 256.
std::string tag_value(std::string text) {
  for (char& c : text)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || std::string_view(" +-=._:/@").find(c) != std::string::npos))
      c = '_';
  return text.substr(0, 256);
}

// What the task runs with: Fargate's size for what the job asks, or on EC2
// what it asks. `said`: how the job's values became these, when they did.
struct Size {
  std::optional<int> cpu, memory;
  std::string said;
};

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

std::optional<Size> task_size(const config::JobSpec& job, bool fargate) {
  Size out;
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

Json task_definition(const project::Project& p, const config::WorkspaceConfig& ws, const PinnedImage& image,
                     const Settings& s) {
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

Json schedule(const project::Project& p, const config::WorkspaceConfig& ws, const Settings& s, const std::string& name,
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

Json alert_rule(const project::Project& p, const Settings& s) {
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

Json alert_targets(const project::Project& p, const Settings& s) {
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

std::vector<generated::File> render_one(const project::Project& p, const config::WorkspaceConfig& ws,
                                        const PinnedImage& image, const std::optional<std::string>& env,
                                        const std::string& base) {
  const auto& job = *p.config->job;
  Settings s = settings(ws, p.name, env);
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

// --- the ECS row of the target table -----------------------------------------

bool ecs_configured(const config::WorkspaceConfig& ws) { return ws.ecs.configured; }

std::string ecs_default_dir(const config::WorkspaceConfig& ws) { return ws.ecs.dir; }

void ecs_require_env(const config::WorkspaceConfig& ws, const std::optional<std::string>& env) {
  if (!ws.ecs.configured)
    throw UsageError(ws.file + " has no ecs: section, so there is no cluster to render for",
                     "add one (cluster, region, subnets, execution_role_arn, scheduler_role_arn: docs/ecs.md)");
  ecs_environment(ws, env);
}

// A duration as coreutils' timeout reads it (one unit: "2h", "90m", "45s").
std::string coreutils_duration(std::int64_t seconds) {
  if (seconds % 3600 == 0)
    return std::to_string(seconds / 3600) + "h";
  if (seconds % 60 == 0)
    return std::to_string(seconds / 60) + "m";
  return std::to_string(seconds) + "s";
}

// What ECS cannot run in this job, each naming the project and what to do.
Problems ecs_problems(const project::Project& p, const config::WorkspaceConfig& ws,
                      const std::optional<std::string>& env) {
  const auto& job = *p.config->job;
  const std::string& file = p.config->file;
  Problems problems;
  auto problem = [&](int line, const std::string& what, const std::string& fix) {
    problems.push_back(std::make_shared<ConfigError>(file, line, p.name + ": " + what, fix));
  };
  int name_line = p.config->name ? p.config->name->line : job.line;
  Settings s = settings(ws, p.name, env);
  bool name_ok = !p.name.empty() && p.name.size() <= 255;
  for (char c : p.name)
    name_ok = name_ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
  if (!name_ok)
    problem(name_line, "the name is not an ECS task definition family (letters, digits, '-' and '_')",
            "give it a 'name:' without '.' in " + file);
  size_t schedules = 0;
  for (const auto& cron : job.schedule)
    schedules += util::aws_cron(util::parse_cron(cron.value)).size();
  std::string longest = schedules > 1 ? ecs_schedule_name(s.place.family, schedules - 1) : s.place.family;
  if (!s.place.alert.empty() && ecs_alert_rule_name(s.place.family).size() > longest.size())
    longest = ecs_alert_rule_name(s.place.family);
  if (name_ok && longest.size() > 64)
    problem(name_line,
            "the name '" + longest + "' has " + std::to_string(longest.size()) +
                " characters; EventBridge allows 64 for a schedule or rule",
            "give it a shorter 'name:' in " + file);
  if (job.gpu > 0 && s.fargate)
    problem(job.line, "asks for " + std::to_string(job.gpu) + " GPU, and Fargate has none",
            "set 'launch_type: EC2' in mlrepo.yaml's ecs: (GPU container instances in the cluster), or drop job.gpu");
  for (const auto& [variable, secret] : job.secrets)
    if (!s.secrets.count(secret))
      problem(job.line, "the secret " + secret + " (for " + variable + ") has no ARN in ecs.secrets",
              "add it: 'ecs: {secrets: {" + secret +
                  ": arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME}}' (the task reads the value there at start)");
  if (!task_size(job, s.fargate))
    problem(job.line,
            "cpu " + job.cpu.value_or("(none)") + ", memory " + job.memory.value_or("(none)") +
                " is more than Fargate's largest size (16 vCPU, 120 GB)",
            "ask for less, or set 'launch_type: EC2' in mlrepo.yaml's ecs:");
  return problems;
}

bool scheduled_on_ecs(const config::JobSpec& job, const config::WorkspaceConfig& ws) {
  return config::job_target(job, ws) == config::JobTarget::Ecs;
}

// Every problem ECS would refuse in a job it runs on its schedule, and (once
// per project) what it cannot do and runs anyway, as warnings naming the
// field. A job scheduled elsewhere that ECS cannot run gets no files and a
// warning: its place is not ECS, so CI's deploy must not fail on it.
void ecs_refuse(const project::Project& p, const config::WorkspaceConfig& ws, const std::optional<std::string>& env,
                Problems& problems) {
  const auto& job = *p.config->job;
  auto found = ecs_problems(p, ws, env);
  if (!found.empty() && !scheduled_on_ecs(job, ws)) {
    for (const auto& problem : found)
      spdlog::warn("{} (no ECS task definition written: {}; to run it on ECS, {})", problem->what(),
                   job.schedule.empty() ? std::string("it runs on demand")
                                        : std::string("its schedule runs elsewhere, job.runs_on: ") +
                                              config::job_target_name(config::job_target(job, ws)),
                   problem->hint());
    return;
  }
  problems.insert(problems.end(), found.begin(), found.end());
  if (!found.empty())
    return;
  Settings s = settings(ws, p.name, env);
  auto size = task_size(job, s.fargate);
  // Said once, for the base (or the one environment rendered).
  if (!size->said.empty())
    spdlog::warn("{}: {}", p.name, size->said);
  if (job.timeout_seconds > 0)
    spdlog::warn("{}: job.timeout is not enforced on ECS, which has no task deadline: the task runs until it exits "
                 "(bound it inside the container, e.g. 'timeout {} python train.py')",
                 p.name, coreutils_duration(job.timeout_seconds));
  if (job.retries > 0)
    spdlog::warn("{}: job.retries ({}) is not enforced on ECS: EventBridge Scheduler retries only a run that fails to "
                 "start, never a task that exits non-zero{}",
                 p.name, job.retries, s.place.alert.empty() ? " (set ecs.alert to hear of it)" : " (the alert says so)");
  if (job.concurrency != config::Concurrency::Allow && scheduled_on_ecs(job, ws) && !job.schedule.empty())
    spdlog::warn("{}: job.concurrency: {} has no ECS equivalent: a run still going when the next is due overlaps it "
                 "(set 'concurrency: allow' to say that is fine)",
                 p.name, job.concurrency == config::Concurrency::Forbid ? "forbid" : "replace");
}

std::vector<generated::File> ecs_render(const RenderRequest& r) {
  // A job scheduled elsewhere that ECS cannot run: nothing (ecs_refuse said why).
  if (!ecs_problems(r.project, r.ws, r.env).empty())
    return {};
  bool stream = r.dir == "-";
  std::string base = r.dir + "/" + r.project.name + "/";
  auto files = render_one(r.project, r.ws, r.image, r.env, base);
  // Without --env, each environment's files beside the base's, as
  // --env <env> renders them.
  if (!r.env && !stream)
    for (const auto& e : r.ws.ecs.environments)
      for (auto& f : render_one(r.project, r.ws, r.image, e.name, base + "environments/" + e.name + "/"))
        files.push_back(std::move(f));
  return files;
}

// `-o -`: one JSON object, each file's path (below the project) to its input.
std::string ecs_stream(const std::vector<generated::File>& files) {
  Json out = Json::object();
  for (const auto& f : files) {
    std::string path = f.path.rfind("-/", 0) == 0 ? f.path.substr(2) : f.path;
    out[path] = Json::parse(f.content);
  }
  return out.dump(2) + "\n";
}

// The deploy job's AWS credentials: the role GitHub's OIDC token assumes
// (ecs.ci_role_arn), else the access-key secrets (ci/ writes the steps).
std::optional<CiCredential> ecs_ci_credential(const config::WorkspaceConfig& ws) {
  CiCredential c;
  c.region = ecs_place(ws, "", ws.ecs.deploy_environment.empty() ? std::nullopt
                                                                 : std::optional<std::string>(ws.ecs.deploy_environment))
                 .region;
  if (!ws.ecs.ci_role_arn.empty()) {
    c.kind = CiCredential::Kind::AwsRole;
    c.role_arn = ws.ecs.ci_role_arn;
  } else {
    c.kind = CiCredential::Kind::AwsKeys;
    c.key_id_secret = ws.ecs.access_key_id_secret;
    c.secret_key_secret = ws.ecs.secret_access_key_secret;
  }
  return c;
}

} // namespace

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

extern const Target kEcs{"ecs",
                         "ECS",
                         ecs_configured,
                         config::JobTarget::Ecs,
                         kEcsMarker,
                         true,
                         "aws",
                         "move it, or render to another directory with -o DIR (ecs.dir in mlrepo.yaml)",
                         ecs_default_dir,
                         ecs_require_env,
                         ecs_refuse,
                         ecs_render,
                         ecs_stream,
                         ecs_apply,
                         ecs_ci_credential,
                         nullptr,
                         nullptr,
                         nullptr};

} // namespace mlrepo::deploy
