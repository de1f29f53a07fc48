#pragma once
// Writing generated workflows into .github/workflows without ever touching a
// hand-written one, or checking that they are in sync.
#include "mlrepo/ci/workflow.hpp"

#include <string>
#include <vector>

namespace mlrepo::ci {

struct SyncReport {
  std::vector<std::string> created;   // missing before
  std::vector<std::string> updated;   // stale before
  std::vector<std::string> deleted;   // obsolete: generated, for no current project
  std::vector<std::string> unchanged;
  bool in_sync() const { return created.empty() && updated.empty() && deleted.empty(); }
};

bool is_generated(const std::string& content);

// With check, nothing is written: the report says what would change. With
// prune, generated workflows not in `files` are obsolete and deleted.
SyncReport sync_workflows(const std::string& workdir, const std::vector<GeneratedFile>& files,
                          bool check, bool prune = true);

} // namespace mlrepo::ci
