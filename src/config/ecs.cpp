// The workspace's ecs: section. Every value is checked for the shape AWS
// gives it (region, ARNs of each service, subnet and security group IDs,
// log group names), with the key's line, so a typo is found here and not by
// the first deploy; nothing asks AWS whether they exist.
#include "fields.hpp"

#include "mlrepo/util/error.hpp"
#include "mlrepo/util/text.hpp"

#include <algorithm>
#include <cctype>
#include <regex>

namespace mlrepo::config {
namespace {

const std::vector<std::string> kEcsKeys{"cluster",         "region",           "launch_type",  "subnets",
                                        "security_groups", "assign_public_ip", "execution_role_arn",
                                        "task_role_arn",   "scheduler_role_arn", "log_group", "secrets",
                                        "alert",           "dir",              "environments", "dead_letter_queue",
                                        "deploy",          "ci_role_arn",      "access_key_id_secret",
                                        "secret_access_key_secret"};
const std::vector<std::string> kEcsEnvironmentKeys{"cluster", "region",           "log_group", "alert",  "subnets",
                                                   "security_groups", "assign_public_ip", "env", "secrets"};

struct Shape {
  std::regex pattern;
  const char* what;    // "an IAM role ARN"
  const char* example; // shown in the fix
};

const Shape kRegion{std::regex("[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]"), "an AWS region", "eu-central-1"};
const Shape kRole{std::regex("arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}"), "an IAM role ARN",
                  "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"};
const Shape kTopic{std::regex("arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}"), "an SNS topic ARN",
                   "arn:aws:sns:eu-central-1:123456789012:ml-job-failures"};
const Shape kSecret{std::regex("arn:aws[a-z-]*:(secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@:-]+|"
                               "ssm:[a-z0-9-]+:[0-9]{12}:parameter/[A-Za-z0-9/_.-]+)"),
                    "a Secrets Manager secret or SSM parameter ARN",
                    "arn:aws:secretsmanager:eu-central-1:123456789012:secret:db-password-AbCdEf"};
const Shape kQueue{std::regex("arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,80}"), "an SQS queue ARN",
                   "arn:aws:sqs:eu-central-1:123456789012:ml-job-dead-letters"};
const Shape kSubnet{std::regex("subnet-[0-9a-f]{8,17}"), "a subnet ID", "subnet-0abc1234def567890"};
const Shape kGroup{std::regex("sg-[0-9a-f]{8,17}"), "a security group ID", "sg-0abc1234def567890"};
const Shape kLogGroup{std::regex("[A-Za-z0-9_./#-]{1,512}"), "a CloudWatch log group name", "/ecs/ml-jobs"};
const Shape kCluster{std::regex("[A-Za-z0-9_-]{1,255}|arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:cluster/"
                                "[A-Za-z0-9_-]{1,255}"),
                     "an ECS cluster name or ARN", "ml-jobs"};

// No ARN or ID AWS issues is longer; checked before a regex sees the value,
// so a huge value costs nothing (std::regex recurses per character).
constexpr size_t kMaxValue = 2048;

bool fits(const std::string& value, const Shape& shape) {
  return value.size() <= kMaxValue && std::regex_match(value, shape.pattern);
}

std::optional<std::string> shaped(MapReader& m, const std::string& key, const Shape& shape) {
  auto v = m.string(key);
  if (!v)
    return std::nullopt;
  if (!fits(v->value, shape))
    m.fail(key, "'" + v->value + "' is not " + shape.what, std::string("e.g. ") + shape.example);
  return v->value;
}

std::optional<std::vector<std::string>> shaped_list(MapReader& m, const std::string& key, const Shape& shape) {
  auto list = m.string_or_list(key);
  if (!list)
    return std::nullopt;
  std::vector<std::string> out;
  for (const auto& item : *list) {
    if (!fits(item.value, shape))
      throw ConfigError(m.file(), item.line,
                        "'" + m.qualified_key(key) + "': '" + item.value + "' is not " + shape.what,
                        std::string("e.g. ") + shape.example);
    out.push_back(item.value);
  }
  return out;
}

// secrets: {SECRET_NAME: ARN}: the names a job's secrets: refer to.
std::map<std::string, std::string> secret_arns(MapReader& m) {
  std::map<std::string, std::string> out;
  auto entries = m.located_map("secrets");
  if (!entries)
    return out;
  for (const auto& [name, arn] : *entries) {
    if (!fits(arn.value, kSecret))
      throw ConfigError(m.file(), arn.line,
                        "'" + m.qualified_key("secrets") + "." + name.value + "': '" + arn.value + "' is not " +
                            kSecret.what,
                        std::string("e.g. ") + kSecret.example);
    out[name.value] = arn.value;
  }
  return out;
}

} // namespace

WorkspaceEcs parse_ecs(MapReader& workspace) {
  WorkspaceEcs out;
  auto m = workspace.map("ecs", kEcsKeys);
  if (!m)
    return out;
  out.configured = true;
  out.line = workspace.key_line("ecs");
  out.cluster = shaped(*m, "cluster", kCluster).value_or("");
  out.region = shaped(*m, "region", kRegion).value_or("");
  if (auto t = m->string("launch_type")) {
    if (t->value != "FARGATE" && t->value != "EC2")
      m->fail("launch_type", "must be FARGATE or EC2, not '" + t->value + "'",
              "FARGATE runs each task on its own (no GPU); EC2 runs it on your container instances");
    out.launch_type = t->value;
  }
  out.subnets = shaped_list(*m, "subnets", kSubnet).value_or(std::vector<std::string>{});
  out.security_groups = shaped_list(*m, "security_groups", kGroup).value_or(std::vector<std::string>{});
  out.assign_public_ip = m->boolean("assign_public_ip").value_or(false);
  out.execution_role_arn = shaped(*m, "execution_role_arn", kRole).value_or("");
  out.task_role_arn = shaped(*m, "task_role_arn", kRole).value_or("");
  out.scheduler_role_arn = shaped(*m, "scheduler_role_arn", kRole).value_or("");
  out.log_group = shaped(*m, "log_group", kLogGroup).value_or("");
  out.secrets = secret_arns(*m);
  out.alert = shaped(*m, "alert", kTopic).value_or("");
  out.dead_letter_queue = shaped(*m, "dead_letter_queue", kQueue).value_or("");
  out.ci_role_arn = shaped(*m, "ci_role_arn", kRole).value_or("");
  for (auto [key, into] : std::vector<std::pair<const char*, std::string*>>{
           {"access_key_id_secret", &out.access_key_id_secret},
           {"secret_access_key_secret", &out.secret_access_key_secret}})
    if (auto v = m->string(key)) {
      bool ok = !v->value.empty() && !std::isdigit(static_cast<unsigned char>(v->value[0]));
      for (char c : v->value)
        ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
      if (!ok)
        m->fail(key, "must be a GitHub secret name (letters, digits, '_'), not '" + v->value + "'");
      *into = v->value;
    }
  if (auto dir = m->string("dir")) {
    if (dir->value.empty() || dir->value.front() == '/' || dir->value.find("..") != std::string::npos)
      m->fail("dir", "must be a directory inside the repository, such as deploy/ecs");
    out.dir = dir->value;
    while (out.dir.size() > 1 && out.dir.back() == '/')
      out.dir.pop_back();
  }
  // What a task cannot start without, said here rather than by AWS.
  for (const auto& [key, value] : std::vector<std::pair<const char*, const std::string*>>{
           {"cluster", &out.cluster}, {"region", &out.region}, {"execution_role_arn", &out.execution_role_arn},
           {"scheduler_role_arn", &out.scheduler_role_arn}})
    if (value->empty())
      throw ConfigError(workspace.file(), out.line, "'ecs." + std::string(key) + "' is required",
                        std::string("set it in the ecs: section (docs/ecs.md)"));
  std::optional<Located> deploy = m->string("deploy");
  if (out.launch_type == "FARGATE" && out.subnets.empty())
    throw ConfigError(workspace.file(), out.line, "'ecs.subnets' is required for FARGATE (awsvpc networking)",
                      "list the subnets the tasks run in, e.g. subnets: [subnet-0abc1234def567890]");
  auto names = m->map_keys("environments");
  if (auto envs = m->map("environments", names)) {
    for (const auto& name : names) {
      if (!util::is_dns_label(name))
        envs->fail(name, "'" + name + "' is not an environment name",
                   "lower-case letters, digits and '-', e.g. staging or prod");
      EcsEnvironment e;
      e.name = name;
      e.line = envs->key_line(name);
      if (auto em = envs->map(name, kEcsEnvironmentKeys)) {
        e.cluster = shaped(*em, "cluster", kCluster);
        e.region = shaped(*em, "region", kRegion);
        e.log_group = shaped(*em, "log_group", kLogGroup);
        e.alert = shaped(*em, "alert", kTopic);
        e.subnets = shaped_list(*em, "subnets", kSubnet);
        e.security_groups = shaped_list(*em, "security_groups", kGroup);
        e.assign_public_ip = em->boolean("assign_public_ip");
        if (auto env = em->scalar_map("env"))
          e.env = *env;
        e.secrets = secret_arns(*em);
      }
      out.environments.push_back(std::move(e));
    }
  }
  read_deploy(deploy, out.environments, m->file(), "ecs", out.deploy, out.deploy_environment);
  return out;
}

} // namespace mlrepo::config
