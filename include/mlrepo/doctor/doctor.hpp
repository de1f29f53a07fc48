#pragma once
// `mlrepo doctor`: is this machine and repository ready, and if not, what to do.
#include "mlrepo/doctor/check.hpp"
#include "mlrepo/util/error.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace mlrepo {
class Tools;
}

namespace mlrepo::doctor {

std::vector<Check> run_checks(const std::filesystem::path& start, Tools& tools);

// 0 when nothing failed (warnings allowed); 2 when a failure is the user's
// files; else 3 (the machine is not ready).
ExitCode exit_code(const std::vector<Check>& checks);

} // namespace mlrepo::doctor
