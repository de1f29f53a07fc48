#pragma once
#include "app.hpp"

#include "mlrepo/generated/sync.hpp"
#include "mlrepo/git/repository.hpp"

namespace mlrepo::cli {

// The repository named by -C/--repo (or the current directory).
git::Repository open_repository(const GlobalOptions& global);

// The directory relative PROJECT paths start from: -C DIR when given (like
// git -C), else the current directory. Absolute.
std::string command_cwd(const GlobalOptions& global);

// Says what a sync of generated files did (or, with check, would do) and
// returns the exit code: with check, 1 when anything is missing, stale or
// obsolete. `what` names the files ("workflow"), `command` regenerates them.
int report_sync(const generated::SyncReport& report, bool check, size_t files, const std::string& what,
                const std::string& command);

} // namespace mlrepo::cli
