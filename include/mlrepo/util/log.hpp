#pragma once
// Diagnostics go to stderr through spdlog; stdout is reserved for results.
#include <spdlog/spdlog.h>

namespace mlrepo::util {

enum class Verbosity { Quiet, Normal, Verbose };
enum class ColorMode { Auto, Always, Never };

// Sets up the stderr logger. Auto colours only a terminal and honours NO_COLOR.
void init_logging(Verbosity verbosity, ColorMode color);

// Whether stderr output is coloured, after init_logging.
bool color_enabled();

} // namespace mlrepo::util
