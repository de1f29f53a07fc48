#pragma once
// `mlrepo doctor`'s stdout: one line per finding, its fix below it.
#include "mlrepo/doctor/check.hpp"

#include <string>
#include <vector>

namespace mlrepo::report {

std::string doctor_text(const std::vector<doctor::Check>& checks);

} // namespace mlrepo::report
