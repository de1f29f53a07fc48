#pragma once
// What `mlrepo pipeline list` and `pipeline graph` print.
#include "mlrepo/deploy/pipeline.hpp"
#include "mlrepo/pipeline/list.hpp"
#include "mlrepo/pipeline/run.hpp"

#include <string>
#include <vector>

namespace mlrepo::report {

std::string pipeline_list_text(const std::vector<pipeline::PipelineEntry>& pipelines, bool changed_only);
std::string pipeline_list_json(const std::vector<pipeline::PipelineEntry>& pipelines, bool changed_only);

// The contract's shape: {"steps":[{"name","project"}],"edges":[{"from","to","artifact"}]}.
std::string pipeline_graph_json(const pipeline::Plan& plan);
// Graphviz: arrows in the direction data flows (upstream -> downstream),
// `after:` edges dashed.
std::string pipeline_graph_dot(const pipeline::Plan& plan);
// A Mermaid flowchart (GitHub renders it in Markdown), arrows as in dot.
std::string pipeline_graph_mermaid(const pipeline::Plan& plan);

// `pipeline run`'s summary: one row per step (status, attempts, duration,
// exit code, image digest), then where the outputs are.
std::string pipeline_run_text(const pipeline::RunReport& report);
// The same table for GitHub's job summary (Markdown).
std::string pipeline_run_markdown(const pipeline::RunReport& report);
// The contract's shape: {"pipeline","status","run_dir","steps":[...]}.
std::string pipeline_run_json(const pipeline::RunReport& report);

// `pipeline deploy`: one line per pipeline, "NAME<TAB>applied|not applied<TAB>OBJECT,...".
std::string pipeline_deploy_text(const deploy::PipelineDeployOutcome& out);
// The job summary: each pipeline's objects and the images its steps run.
std::string pipeline_deploy_markdown(const deploy::PipelineDeployOutcome& out);

} // namespace mlrepo::report
