#pragma once
// The core API the command line calls: open a repository, look at it at a
// revision or in the work tree, and answer "what changed".
#include "mlrepo/changes/changes.hpp"
#include "mlrepo/changes/selection.hpp"
#include "mlrepo/config/config.hpp"
#include "mlrepo/git/repository.hpp"
#include "mlrepo/git/snapshot.hpp"
#include "mlrepo/project/discovery.hpp"
#include "mlrepo/project/graph.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace mlrepo {

// Everything known about the repository as seen at one revision (or the work tree).
struct View {
  std::unique_ptr<git::Snapshot> snapshot;
  config::WorkspaceConfig config;
  project::Graph graph;
  // With ViewOptions::skip_invalid: the directories left out, and why.
  std::vector<project::InvalidProject> invalid;
};

struct ViewOptions {
  // For commands that name their projects: an invalid project directory
  // elsewhere is a warning and left out, not an error (list, --all and
  // --changed keep reporting every problem at once).
  bool skip_invalid = false;
};

// nullopt rev: the work tree as git sees it.
View open_view(const git::Repository& repo, const std::optional<std::string>& rev, ViewOptions options = {});
View open_view(const git::Repository& repo, const git_oid& commit, ViewOptions options = {});

// Throws the error of an invalid project directory that one of `args`
// (project names or paths, as resolve_projects reads them) names.
void refuse_invalid_named(const View& view, const std::vector<std::string>& args, const std::string& cwd,
                          const std::string& workdir);

struct ChangesResult {
  View view; // the head side
  changes::Selection selection;
  changes::ChangeSet set;
};

ChangesResult find_changes(const git::Repository& repo, const changes::SelectionOptions& options,
                           const context::RunContext& env);

} // namespace mlrepo
