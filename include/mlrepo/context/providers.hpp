#pragma once
// The table of CI providers RunContext::detect() tries in order.
#include "mlrepo/context/run_context.hpp"

#include <span>
#include <string_view>
#include <vector>

namespace mlrepo::context {

std::span<const Provider> providers();
// The row used when no provider recognises the environment.
const Provider& local_provider();
// Prefixes of variable names some provider keeps for itself: a secret of the
// user's may not be named so ("GITHUB_").
std::vector<std::string_view> reserved_variable_prefixes();

} // namespace mlrepo::context
