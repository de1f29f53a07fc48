#pragma once
// The workflow that runs a project's job on its schedule and on demand.
#include "steps.hpp"

#include "mlrepo/ci/workflow.hpp"
#include "mlrepo/project/graph.hpp"

#include <string>

namespace mlrepo::ci {

// .github/workflows/mlrepo-job-<name>.yml
std::string job_workflow_path(const std::string& name);

// For a project with a `job:`.
GeneratedFile job_workflow(const project::Project& p, const config::WorkspaceConfig& ws, const GenerateOptions& opt);

} // namespace mlrepo::ci
