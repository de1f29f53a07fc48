#include "common.hpp"

#include <filesystem>
#include <spdlog/spdlog.h>

namespace mlrepo::cli {

git::Repository open_repository(const GlobalOptions& global) {
  return git::Repository::discover(global.repo_dir);
}

std::string command_cwd(const GlobalOptions& global) {
  if (global.repo_dir != ".")
    return std::filesystem::absolute(global.repo_dir).string();
  return std::filesystem::current_path().string();
}

int report_sync(const generated::SyncReport& report, bool check, size_t files, const std::string& what,
                const std::string& command) {
  if (check) {
    for (const auto& f : report.created)
      spdlog::error("missing: {}", f);
    for (const auto& f : report.updated)
      spdlog::error("stale: {}", f);
    for (const auto& f : report.deleted)
      spdlog::error("obsolete: {}", f);
    if (!report.in_sync()) {
      spdlog::info("hint: run '{}' and commit the result", command);
      return 1;
    }
    spdlog::info("{} {}{} in sync", files, what, files == 1 ? "" : "s");
    return 0;
  }
  for (const auto& f : report.created)
    spdlog::info("created {}", f);
  for (const auto& f : report.updated)
    spdlog::info("updated {}", f);
  for (const auto& f : report.deleted)
    spdlog::info("deleted {}", f);
  spdlog::info("{} created, {} updated, {} deleted, {} unchanged", report.created.size(), report.updated.size(),
               report.deleted.size(), report.unchanged.size());
  return 0;
}

} // namespace mlrepo::cli
