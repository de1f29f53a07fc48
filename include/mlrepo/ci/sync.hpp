#pragma once
// Writing generated workflows into .github/workflows without ever touching a
// hand-written one, or checking that they are in sync (generated/sync does
// the work; this names the directory, the marker and the advice).
#include "mlrepo/ci/workflow.hpp"
#include "mlrepo/generated/sync.hpp"

#include <string>
#include <vector>

namespace mlrepo::ci {

using generated::SyncReport;

// With check, nothing is written: the report says what would change. With
// prune, generated workflows not in `files` are obsolete and deleted.
SyncReport sync_workflows(const std::string& workdir, const std::vector<GeneratedFile>& files,
                          bool check, bool prune = true);

} // namespace mlrepo::ci
