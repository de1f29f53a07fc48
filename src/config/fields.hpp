#pragma once
// Readers shared by the sections of mlrepo.yaml that say how a container runs
// (a project's job:, a pipeline's steps) and when (job: and a pipeline).
#include "mlrepo/config/config.hpp"
#include "yaml_reader.hpp"

#include "mlrepo/util/error.hpp"

#include <optional>
#include <string>
#include <vector>

namespace mlrepo::config {

// command, args, env, secrets, resources, timeout, retries; `prefix` names
// the keys in messages ("job.", "pipelines.churn.steps.train.").
RunFieldsGiven parse_run_fields(MapReader& m, const std::string& prefix, JobSpec& spec);

// schedule, timezone, concurrency; `owner` ("job", "pipeline") for messages.
void parse_schedule_fields(MapReader& m, const std::string& prefix, const std::string& owner, JobSpec& spec);

// runs_on: kubernetes | github-actions | {github-actions: [LABEL, ...]}:
// where a job (or a pipeline) runs on its schedule.
void parse_runs_on(MapReader& m, JobSpec& spec);

// `<section>.deploy`: true (the base), false, or one of `environments` by
// name (ConfigError at its line otherwise); into `deploy` and `environment`.
template <class Environment>
void read_deploy(const std::optional<Located>& value, const std::vector<Environment>& environments,
                 const std::string& file, const std::string& section, bool& deploy, std::string& environment) {
  if (!value || value->value == "false")
    return;
  deploy = true;
  if (value->value == "true")
    return;
  for (const auto& e : environments)
    if (e.name == value->value) {
      environment = value->value;
      return;
    }
  throw ConfigError(file, value->line,
                    "'" + section + ".deploy' names the environment '" + value->value + "', which " + section +
                        ".environments does not have",
                    "write true (the base), false, or one of " + section + ".environments");
}

// The workspace's ecs: section (configured = false when absent).
WorkspaceEcs parse_ecs(MapReader& workspace);

// The workspace's pipelines: section (names checked; references between
// steps and projects are checked where the projects are known).
std::vector<PipelineSpec> parse_pipelines(MapReader& workspace);

} // namespace mlrepo::config
