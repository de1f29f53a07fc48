#pragma once
// One finding of `mlrepo doctor`: only types, so that report/ can render the
// findings without depending on the checks (which depend on everything).
#include <string>

namespace mlrepo::doctor {

enum class Level { Ok, Warn, Fail, Skip }; // Skip: could not run, and says why

struct Check {
  std::string area; // git, config, docker, registry, ci
  Level level;
  std::string message;
  std::string fix;        // what to do; empty when nothing
  bool bad_input = false; // a failure of the user's files (exit 2), not the machine (exit 3)
};

} // namespace mlrepo::doctor
