#pragma once
// Which two revisions a change is measured between: from flags, from the CI
// provider's event (the run context's change hint), or from the default branch.
#include "mlrepo/config/config.hpp"
#include "mlrepo/context/run_context.hpp"
#include "mlrepo/git/repository.hpp"

#include <optional>
#include <string>

namespace mlrepo::changes {

struct SelectionOptions {
  std::optional<std::string> base;
  std::string head = "HEAD";
  std::optional<bool> uncommitted; // unset: on outside CI when head is HEAD
  // When the base is missing from a shallow clone (or shares no history),
  // count every project as changed instead of failing.
  bool all_if_base_missing = false;
};

struct Selection {
  std::optional<git_oid> merge_base; // unset when everything counts as changed
  git_oid head{};
  bool uncommitted = false;
  bool everything = false;
  std::string rule; // which rule chose the base, for logs and reasons
};

// The default branch's name: workspace default_branch, else origin/HEAD's
// target, else main, else master.
std::string default_branch_name(const git::Repository& repo, const config::WorkspaceConfig& ws);

// `origin/<name>` when that exists, else the local branch; nullopt if neither.
std::optional<std::string> default_branch_ref(const git::Repository& repo, const std::string& name);

Selection select_revisions(const git::Repository& repo, const config::WorkspaceConfig& ws,
                           const SelectionOptions& options, const context::RunContext& run);

} // namespace mlrepo::changes
