#pragma once
// `mlrepo pipeline render` and `pipeline deploy`: the job render flow for
// pipelines. The commit; the chosen pipelines, each planned (pipeline/plan,
// the plan the local runner reads); each step's image pinned by digest
// (deploy/pin), every missing one at once; the target's pipeline files
// (Kubernetes: Argo Workflows), written, checked or streamed through
// generated/; deploy hands each pipeline's objects to the target's apply.
#include "mlrepo/deploy/deploy.hpp"
#include "mlrepo/deploy/render.hpp"

#include <optional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace mlrepo::deploy {

struct PipelineRenderOptions {
  std::vector<std::string> names; // pipelines
  bool all = false;
  // Only the pipelines (of those named, or all) a change touched: a step's
  // project changed, or the pipeline's own spec did (CI's deploy job).
  bool changed = false;
  changes::SelectionOptions selection;
  std::optional<std::string> env;
  std::string target = "kubernetes";
  std::optional<std::string> out_dir; // "-": one YAML stream; else the target's (kubernetes.pipelines_dir)
  bool check = false;
  std::string cwd;
  registry::ClientOptions client;
};

struct PipelineImages {
  std::string pipeline;
  std::vector<std::pair<std::string, std::string>> images; // project, repository@sha256:…, in step order
};

struct PipelineRenderOutcome {
  std::string commit;
  std::vector<generated::File> files;
  std::string stream; // with -o -
  generated::SyncReport sync;
  std::vector<PipelineImages> pinned;
};

PipelineRenderOutcome run_pipeline_render(const git::Repository& repo, const PipelineRenderOptions& options,
                                          Tools& tools);

struct PipelineDeployOptions {
  PipelineRenderOptions render; // out_dir and check are ignored
  // The target's program (kubectl) as the user chose it (--kubectl); the
  // target's own name for it on PATH otherwise.
  std::map<std::string, std::string> programs;
  bool dry_run = false;
};

struct PipelineApplied {
  std::string pipeline;
  std::vector<std::string> objects; // "WorkflowTemplate/churn-weekly"
  std::vector<std::pair<std::string, std::string>> images;
  bool applied = false; // false: a dry run
};

struct PipelineDeployOutcome {
  std::string commit;
  std::vector<PipelineApplied> pipelines;
};

PipelineDeployOutcome run_pipeline_deploy(const git::Repository& repo, const PipelineDeployOptions& options,
                                          Tools& tools);

} // namespace mlrepo::deploy
