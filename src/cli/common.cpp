#include "common.hpp"

#include <filesystem>

namespace mlrepo::cli {

git::Repository open_repository(const GlobalOptions& global) {
  return git::Repository::discover(global.repo_dir);
}

std::string command_cwd(const GlobalOptions& global) {
  if (global.repo_dir != ".")
    return std::filesystem::absolute(global.repo_dir).string();
  return std::filesystem::current_path().string();
}

} // namespace mlrepo::cli
