#pragma once
// Where rendered jobs and pipelines go: one row per deploy target. The flow
// around them is written once (deploy/render.cpp: choose the projects, pin
// each image by digest, render, then write, check or stream through
// generated/; deploy/pipeline.cpp the same for pipelines; deploy/deploy.cpp:
// apply); a row says what only its target knows: what it refuses, the files
// it renders, how its files are applied and the CI steps the deploy job needs
// in CI. Kubernetes is the first row (pipelines as Argo Workflows); the next
// target (ECS) is one more file and one more row in target.cpp.
#include "mlrepo/config/config.hpp"
#include "mlrepo/deploy/pin.hpp"
#include "mlrepo/generated/sync.hpp"
#include "mlrepo/pipeline/plan.hpp"
#include "mlrepo/project/project.hpp"
#include "mlrepo/util/error.hpp"

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mlrepo::util {
class ProcessRunner;
}

namespace mlrepo::deploy {

using Problems = std::vector<std::shared_ptr<const Error>>;

struct RenderRequest {
  const project::Project& project;
  const config::WorkspaceConfig& ws;
  const PinnedImage& image;
  std::optional<std::string> env; // one environment's values merged in
  std::string dir;                // repo-relative output directory, "-" for a stream
};

// One pipeline: its plan and each step's image (by project name).
struct PipelineRenderRequest {
  const pipeline::Plan& plan;
  const config::WorkspaceConfig& ws;
  const std::map<std::string, StepImage>& images;
  std::optional<std::string> env;
  std::string dir; // repo-relative output directory, "-" for a stream
};

// One project's (or pipeline's) rendered objects handed to the target's own tool.
struct ApplyRequest {
  std::string project; // or the pipeline's name
  std::string what = "the job of"; // "the pipeline", in what is said
  std::string image; // repository@sha256:…, for what is said
  // Its job runs on its schedule elsewhere (runs_on): only an on-demand
  // template was rendered for this target.
  bool scheduled_elsewhere = false;
  std::vector<const generated::File*> files; // what rendering gave the project
  std::string workdir;
  std::string tool; // the program (kubectl), as the user chose it
  bool dry_run = false;
};

struct ApplyResult {
  std::vector<std::string> objects; // "CronJob/churn-model"
  bool applied = false;             // false: nothing to apply, or a dry run
  std::string note;                 // why nothing was applied, said as info
};

// A credential the deploy job gets from a CI secret as a file (mode 0600,
// never echoed, removed at the end) whose path the tool reads from `variable`.
struct CiCredentialFile {
  std::string secret;   // the CI secret holding it
  std::string variable; // KUBECONFIG
  std::string what;     // "kubeconfig", for the steps' names and errors
};

struct Target {
  const char* name;    // "kubernetes", as --target names it
  const char* display; // "Kubernetes", in messages
  // The job.runs_on that schedules a job here; any other gets only an
  // on-demand template from this target.
  config::JobTarget runs_on;
  const char* marker; // the header of every file it writes
  const char* foreign_hint; // what to do about a file of the same name it did not write
  std::string (*default_dir)(const config::WorkspaceConfig& ws);
  // UsageError naming the known ones when `env` is not an environment of the target.
  void (*require_env)(const config::WorkspaceConfig& ws, const std::string& env);
  // Every problem the target would refuse in this project, added to `problems`.
  void (*refuse)(const project::Project& project, const config::WorkspaceConfig& ws,
                 const std::optional<std::string>& env, Problems& problems);
  // The project's files; without an environment (and not a stream) also
  // every environment's variant, as the target keeps them.
  std::vector<generated::File> (*render)(const RenderRequest& request);
  // Applies one project's files with the target's tool (through `runner`).
  ApplyResult (*apply)(const ApplyRequest& request, util::ProcessRunner& runner);
  // What the deploy job in CI needs before `mlrepo job deploy` (ci/ writes the steps).
  std::optional<CiCredentialFile> (*ci_credential)(const config::WorkspaceConfig& ws);
  // Pipelines (`mlrepo pipeline render`, applied by `apply` above): null
  // where the target cannot run them, and the flow says so.
  const char* pipeline_marker;
  std::string (*pipelines_dir)(const config::WorkspaceConfig& ws);
  std::vector<generated::File> (*render_pipeline)(const PipelineRenderRequest& request);
};

std::span<const Target> targets();
// UsageError naming the known targets when there is none of that name.
const Target& target_named(std::string_view name);

} // namespace mlrepo::deploy
