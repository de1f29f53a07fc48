#include "common.hpp"

namespace mlrepo::cli {

git::Repository open_repository(const GlobalOptions& global) {
  return git::Repository::discover(global.repo_dir);
}

} // namespace mlrepo::cli
