#pragma once
// `mlrepo doctor`: is this machine and repository ready, and if not, what to do.
#include "mlrepo/util/process.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace mlrepo {
class Tools;
}

namespace mlrepo::doctor {

enum class Level { Ok, Warn, Fail, Skip }; // Skip: could not run, and says why

struct Check {
  std::string area;   // git, config, docker, registry, ci
  Level level;
  std::string message;
  std::string fix;    // what to do; empty when nothing
  bool bad_input = false; // a failure of the user's files (exit 2), not the machine (exit 3)
};

std::vector<Check> run_checks(const std::filesystem::path& start, Tools& tools);

} // namespace mlrepo::doctor
