#pragma once
#include "app.hpp"

#include "mlrepo/git/repository.hpp"

namespace mlrepo::cli {

// The repository named by -C/--repo (or the current directory).
git::Repository open_repository(const GlobalOptions& global);

} // namespace mlrepo::cli
