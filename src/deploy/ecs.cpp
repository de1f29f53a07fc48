// The ECS row of the deploy target table: what ECS refuses in a job (and
// what it runs anyway but cannot enforce, said as warnings), its files
// (ecs_inputs.cpp), the stream, and CI's AWS credentials; ecs_aws.cpp
// applies the files.
#include "mlrepo/deploy/ecs.hpp"

#include "ecs_inputs.hpp"
#include "mlrepo/util/cron.hpp"
#include "mlrepo/util/error.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace mlrepo::deploy {
namespace {

using Json = nlohmann::ordered_json;

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
  EcsSettings s = ecs_settings(ws, p.name, env);
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
  EcsSettings s = ecs_settings(ws, p.name, env);
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
  auto files = ecs_inputs(r.project, r.ws, r.image, r.env, base);
  // Without --env, each environment's files beside the base's, as
  // --env <env> renders them.
  if (!r.env && !stream)
    for (const auto& e : r.ws.ecs.environments)
      for (auto& f : ecs_inputs(r.project, r.ws, r.image, e.name, base + "environments/" + e.name + "/"))
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
