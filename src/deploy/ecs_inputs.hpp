#pragma once
// Inside deploy/: what the ECS row (ecs.cpp) asks of its inputs
// (ecs_inputs.cpp): one environment's settings, a job's task size, and the
// files a job becomes.
#include "mlrepo/deploy/ecs.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mlrepo::deploy {

// ws.ecs with one environment's overrides merged in.
struct EcsSettings {
  EcsPlace place;
  bool fargate = true;
  std::vector<std::string> subnets, security_groups;
  bool assign_public_ip = false;
  std::map<std::string, std::string> env, secrets; // secrets: the job's secret names -> ARN
};

// UsageError naming the known ones when `name` is not one of ecs.environments.
const config::EcsEnvironment* ecs_environment(const config::WorkspaceConfig& ws, const std::optional<std::string>& name);
EcsSettings ecs_settings(const config::WorkspaceConfig& ws, const std::string& project,
                         const std::optional<std::string>& env);

// What the task runs with: Fargate's size for what the job asks, or on EC2
// what it asks. `said`: how the job's values became these, when they did.
struct TaskSize {
  std::optional<int> cpu, memory;
  std::string said;
};
// nullopt: more than Fargate's largest size.
std::optional<TaskSize> task_size(const config::JobSpec& job, bool fargate);

// The project's files under `base`: its task definition, a schedule per AWS
// cron when its job is scheduled on ECS, the alert's rule and target.
std::vector<generated::File> ecs_inputs(const project::Project& p, const config::WorkspaceConfig& ws,
                                        const PinnedImage& image, const std::optional<std::string>& env,
                                        const std::string& base);

} // namespace mlrepo::deploy
