#pragma once
// `mlrepo build` as a core API: choose projects, plan, then build or print.
#include "mlrepo/build/executor.hpp"
#include "mlrepo/changes/selection.hpp"
#include "mlrepo/git/repository.hpp"
#include "mlrepo/workspace.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mlrepo {
class Tools;
}

namespace mlrepo::build {

struct BuildOptions {
  std::vector<std::string> projects; // names or paths
  bool changed = false;
  changes::SelectionOptions selection;
  bool all = false;
  bool dry_run = false;
  // Tag (and push) only the content tag: CI promotes the other tags after
  // the image passed its tests (`mlrepo promote`).
  bool content_tag_only = false;
  // Only choose and plan: no engine, no build (`test --pull` asks the registry).
  bool plan_only = false;
  std::string cwd; // absolute; PROJECT paths may be relative to it
  std::optional<std::string> log_dir;
  std::map<std::string, std::string> build_args; // --build-arg for the chosen projects
  ExecOptions exec;
  std::string command = "build"; // the mlrepo command run, for hints ("test", "run")
};

struct BuildOutcome {
  std::unique_ptr<View> view;  // the work tree the plan was made from
  std::vector<PlanItem> plan;
  std::vector<Result> results;                      // empty for a dry run
  std::vector<std::vector<std::string>> commands;   // the dry run's commands
  bool nothing_to_do = false;
};

BuildOutcome run_build(const git::Repository& repo, BuildOptions options, BuildStatus& status, Tools& tools);

// Branch, default-branch and source facts for tags and labels, from git or
// the GitHub Actions environment.
PlanInputs plan_inputs(const git::Repository& repo, const config::WorkspaceConfig& ws,
                       const context::RunContext& env);

// The chosen projects' plan items at `commit` (its committed content only,
// the work tree ignored), without the dependencies they pull in: what
// promote and release name, as a build of that commit would.
std::vector<PlanItem> plan_commit(const git::Repository& repo, const View& view, const git_oid& commit,
                                  const std::vector<size_t>& chosen, const context::RunContext& env);

// True when any result failed, was blocked or cancelled.
bool any_failed(const std::vector<Result>& results);

} // namespace mlrepo::build
