#pragma once
#include "mlrepo/deploy/render.hpp"

#include <map>
#include <string>
#include <vector>

namespace mlrepo::deploy {

// `mlrepo job deploy`: render, then hand each project's files to the
// target's own tool (Kubernetes: `kubectl apply --server-side` of its
// CronJobs; a Job template is created on demand, never applied). The tool
// finds its credentials as it always does (KUBECONFIG); mlrepo never reads
// or passes them.
struct DeployOptions {
  RenderOptions render; // out_dir and check are ignored
  // The target's program (kubectl, aws) as the user chose it (--kubectl,
  // --aws); a target's own name for it on PATH otherwise.
  std::map<std::string, std::string> programs;
  bool dry_run = false; // render and say what would be applied; run nothing
};

struct Applied {
  std::string project;
  std::string image;                // repository@sha256:…
  std::vector<std::string> objects; // "CronJob/churn-model"
  bool applied = false;             // false: only a Job template, or a dry run
  bool unchanged = false;           // the target already held exactly this (ECS reads back first)
};

struct DeployOutcome {
  std::string commit;
  std::vector<Applied> projects;
};

DeployOutcome run_deploy(const git::Repository& repo, const DeployOptions& options, Tools& tools);

} // namespace mlrepo::deploy
