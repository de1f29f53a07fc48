#include "mlrepo/util/log.hpp"

#include <cstdlib>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <unistd.h>

namespace mlrepo::util {
namespace {

bool g_color = false;

// Prints "warning: " / "error: " the way compilers and git do, nothing for info.
class LevelPrefix : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string_view prefix;
    switch (msg.level) {
    case spdlog::level::trace:
    case spdlog::level::debug: prefix = "debug: "; break;
    case spdlog::level::warn: prefix = "warning: "; break;
    case spdlog::level::err:
    case spdlog::level::critical: prefix = "error: "; break;
    default: break;
    }
    dest.append(prefix.data(), prefix.data() + prefix.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<LevelPrefix>();
  }
};

} // namespace

void init_logging(Verbosity verbosity, ColorMode color) {
  const char* no_color = std::getenv("NO_COLOR");
  bool want = false;
  switch (color) {
  case ColorMode::Always: want = true; break;
  case ColorMode::Never: want = false; break;
  case ColorMode::Auto: want = ::isatty(STDERR_FILENO) && !(no_color && *no_color); break;
  }
  g_color = want;
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>(
      want ? spdlog::color_mode::always : spdlog::color_mode::never);
  auto logger = std::make_shared<spdlog::logger>("mlrepo", sink);
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<LevelPrefix>('*').set_pattern("%^%*%$%v");
  logger->set_formatter(std::move(formatter));
  switch (verbosity) {
  case Verbosity::Quiet: logger->set_level(spdlog::level::err); break; // -q: errors only
  case Verbosity::Normal: logger->set_level(spdlog::level::info); break;
  case Verbosity::Verbose: logger->set_level(spdlog::level::debug); break;
  }
  spdlog::set_default_logger(logger);
}

bool color_enabled() { return g_color; }

} // namespace mlrepo::util
