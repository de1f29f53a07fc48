#pragma once
// The core API the command line calls: open a repository, look at it at a
// revision or in the work tree, and answer "what changed".
#include "mlrepo/changes/changes.hpp"
#include "mlrepo/changes/selection.hpp"
#include "mlrepo/config/config.hpp"
#include "mlrepo/git/repository.hpp"
#include "mlrepo/git/snapshot.hpp"
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
};

// nullopt rev: the work tree as git sees it.
View open_view(const git::Repository& repo, const std::optional<std::string>& rev);
View open_view(const git::Repository& repo, const git_oid& commit);

struct ChangesResult {
  View view; // the head side
  changes::Selection selection;
  changes::ChangeSet set;
};

ChangesResult find_changes(const git::Repository& repo, const changes::SelectionOptions& options,
                           const changes::EnvLookup& env);

} // namespace mlrepo
