#pragma once
#include "app.hpp"

#include "mlrepo/git/repository.hpp"

namespace mlrepo::cli {

// The repository named by -C/--repo (or the current directory).
git::Repository open_repository(const GlobalOptions& global);

// The directory relative PROJECT paths start from: -C DIR when given (like
// git -C), else the current directory. Absolute.
std::string command_cwd(const GlobalOptions& global);

} // namespace mlrepo::cli
