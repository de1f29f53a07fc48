#pragma once
// Readers shared by the sections of mlrepo.yaml that say how a container runs
// (a project's job:, a pipeline's steps) and when (job: and a pipeline).
#include "mlrepo/config/config.hpp"
#include "yaml_reader.hpp"

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

// The workspace's ecs: section (configured = false when absent).
WorkspaceEcs parse_ecs(MapReader& workspace);

// The workspace's pipelines: section (names checked; references between
// steps and projects are checked where the projects are known).
std::vector<PipelineSpec> parse_pipelines(MapReader& workspace);

} // namespace mlrepo::config
