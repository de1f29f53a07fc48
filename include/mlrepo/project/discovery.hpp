#pragma once
// Finding projects: directories holding a Dockerfile in git's view of the repo.
#include "mlrepo/config/config.hpp"
#include "mlrepo/git/snapshot.hpp"
#include "mlrepo/project/project.hpp"
#include "mlrepo/util/error.hpp"

#include <memory>
#include <optional>
#include <vector>

namespace mlrepo::project {

// Reads the workspace config at the root of the snapshot (defaults when absent).
config::WorkspaceConfig load_workspace_config(const git::Snapshot& snapshot);

// Whether discovery skips `dir`: hidden directories and `exclude:` matches.
bool is_pruned(std::string_view dir, const config::WorkspaceConfig& workspace);

// A project directory that could not be loaded, and why.
struct InvalidProject {
  std::string dir;
  std::shared_ptr<const Error> error; // ConfigError or UsageError
};

struct DiscoveryOptions {
  // Report config problems as warnings and fall back to defaults instead of
  // failing: used for old revisions, whose mistakes are history, not input.
  bool tolerant = false;
  // Leave out directories that cannot be projects, recording them here: for
  // commands that name their projects, which an unrelated invalid directory
  // must not block. Null: every problem is an error, all at once.
  std::vector<InvalidProject>* invalid = nullptr;
};

// Every project, sorted by path. Throws ConfigError/UsageError (exit 2) for
// invalid config, invalid or duplicate names.
std::vector<Project> discover(const git::Snapshot& snapshot, const config::WorkspaceConfig& workspace,
                              DiscoveryOptions options = {});

// The same for project directories already found with project_dirs.
std::vector<Project> discover(const git::Snapshot& snapshot, const config::WorkspaceConfig& workspace,
                              const std::vector<std::string>& dirs, DiscoveryOptions options = {});

// Only the project directories (no config is read): cheap, for `removed`.
std::vector<std::string> project_dirs(const git::Snapshot& snapshot,
                                      const config::WorkspaceConfig& workspace);

} // namespace mlrepo::project
