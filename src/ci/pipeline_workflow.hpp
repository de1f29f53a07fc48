#pragma once
// The workflow that runs a pipeline on the runner: on its schedule and by
// hand, every step from the image CI pushed for the default branch's
// content, by digest (`mlrepo pipeline run NAME --pull`).
#include "steps.hpp"

#include "mlrepo/ci/workflow.hpp"
#include "mlrepo/pipeline/plan.hpp"

#include <string>

namespace mlrepo::ci {

// .github/workflows/mlrepo-pipeline-<name>.yml
std::string pipeline_workflow_path(const std::string& name);

// Whether `plan` gets a workflow: it has a schedule and runs it in GitHub
// Actions (runs_on; on the cluster its CronWorkflow runs it).
bool has_pipeline_workflow(const pipeline::Plan& plan, const config::WorkspaceConfig& ws);

// UsageError listing every scheduled pipeline a GitHub-hosted runner cannot
// run (a step's GPU, a timeout above the hosted limit, a param that is no
// dispatch input name).
void refuse_unrunnable_pipelines(const std::vector<pipeline::Plan>& plans, const config::WorkspaceConfig& ws);

GeneratedFile pipeline_workflow(const pipeline::Plan& plan, const config::WorkspaceConfig& ws,
                                const GenerateOptions& opt);

} // namespace mlrepo::ci
