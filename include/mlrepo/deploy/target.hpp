#pragma once
// Where rendered jobs and pipelines go: one row per deploy target. The flow
// around them is written once (deploy/render.cpp: choose the projects, pin
// each image by digest, render, then write, check or stream through
// generated/; deploy/pipeline.cpp the same for pipelines; deploy/deploy.cpp:
// apply); a row says what only its target knows: what it refuses, the files
// it renders, how its files are applied and the CI steps the deploy job needs
// in CI. Kubernetes is the first row (pipelines as Argo Workflows), ECS the
// second (deploy/ecs.cpp); the next target is one more file and one more row
// in target.cpp.
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
  std::string scheduled_elsewhere; // where ("github-actions", "ecs"); empty: here or nowhere
  std::vector<const generated::File*> files; // what rendering gave the project
  std::string workdir;
  std::string tool; // the program (kubectl, aws), as the user chose it
  bool dry_run = false;
  const config::WorkspaceConfig* ws = nullptr; // where the target's tool is pointed (ECS: the region)
  std::optional<std::string> env;
};

struct ApplyResult {
  // "CronJob/churn-model"; with what happened to it where the tool says
  // ("TaskDefinition/churn-model:4 unchanged").
  std::vector<std::string> objects;
  bool applied = false;             // false: nothing to apply, or a dry run
  bool unchanged = false;           // applied, and the target already held exactly this
  std::string note;                 // why nothing was applied, said as info
};

// What the deploy job in CI needs before `mlrepo job deploy` runs the
// target's tool (ci/ writes GitHub's steps for it).
struct CiCredential {
  enum class Kind {
    // A file from a CI secret (mode 0600, never echoed, removed at the end)
    // whose path the tool reads from `variable` (Kubernetes: KUBECONFIG).
    File,
    // An AWS role GitHub's OIDC token assumes: no stored key.
    AwsRole,
    // AWS access keys from repository secrets.
    AwsKeys,
  } kind = Kind::File;
  std::string secret;   // File: the CI secret holding it
  std::string variable; // File: KUBECONFIG
  std::string what;     // File: "kubeconfig", for the steps' names and errors
  std::string role_arn, region;                 // AWS
  std::string key_id_secret, secret_key_secret; // AwsKeys
};

struct Target {
  const char* name;    // "kubernetes", as --target names it
  const char* display; // "Kubernetes", in messages
  // The workspace has this target's section (kubernetes:, ecs:): without
  // --target, the one configured target is the target.
  bool (*configured)(const config::WorkspaceConfig& ws);
  // The job.runs_on that schedules a job here; any other gets only an
  // on-demand template from this target.
  config::JobTarget runs_on;
  const char* marker; // the header of every file it writes
  // A format without comments (JSON): the marker is in a field, not the header.
  bool marker_anywhere;
  const char* tool; // the program `apply` runs, by default (kubectl, aws)
  const char* foreign_hint; // what to do about a file of the same name it did not write
  std::string (*default_dir)(const config::WorkspaceConfig& ws);
  // UsageError when the workspace cannot render for the target (ECS: no
  // ecs: section), or `env` is not one of its environments (naming them).
  void (*require_env)(const config::WorkspaceConfig& ws, const std::optional<std::string>& env);
  // Every problem the target would refuse in this project, added to `problems`.
  void (*refuse)(const project::Project& project, const config::WorkspaceConfig& ws,
                 const std::optional<std::string>& env, Problems& problems);
  // The project's files; without an environment (and not a stream) also
  // every environment's variant, as the target keeps them.
  std::vector<generated::File> (*render)(const RenderRequest& request);
  // `-o -`: the files as one stream on stdout (YAML: documents joined by ---).
  std::string (*stream)(const std::vector<generated::File>& files);
  // Applies one project's files with the target's tool (through `runner`).
  ApplyResult (*apply)(const ApplyRequest& request, util::ProcessRunner& runner);
  // What the deploy job in CI needs before `mlrepo job deploy` (ci/ writes the steps).
  std::optional<CiCredential> (*ci_credential)(const config::WorkspaceConfig& ws);
  // Pipelines (`mlrepo pipeline render`, applied by `apply` above): null
  // where the target cannot run them, and the flow says so.
  const char* pipeline_marker;
  std::string (*pipelines_dir)(const config::WorkspaceConfig& ws);
  std::vector<generated::File> (*render_pipeline)(const PipelineRenderRequest& request);
};

// The environment `name` of a target's section (nullptr without a name);
// UsageError naming the known ones, or how to add one (`example`: the YAML of
// a first environment's values), when there is none of that name.
template <class Environment>
const Environment* environment_named(const std::vector<Environment>& environments,
                                     const std::optional<std::string>& name, const std::string& section,
                                     const std::string& example) {
  if (!name)
    return nullptr;
  std::string known;
  for (const auto& e : environments) {
    if (e.name == *name)
      return &e;
    known += (known.empty() ? "" : ", ") + e.name;
  }
  throw UsageError("no environment '" + *name + "' in mlrepo.yaml's " + section + ".environments",
                   known.empty() ? "add one, e.g. '" + section + ": {environments: {" + *name + ": " + example + "}}'"
                                 : "known: " + known);
}

std::span<const Target> targets();
// UsageError naming the known targets when there is none of that name.
const Target& target_named(std::string_view name);
// `asked` (--target) when given; else the one target the workspace
// configures (Kubernetes when none is); UsageError when several are.
const Target& target_for(const config::WorkspaceConfig& ws, std::string_view asked);

} // namespace mlrepo::deploy
