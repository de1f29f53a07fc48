#include "mlrepo/report/reporter.hpp"

#include <cstdio>
#include <spdlog/spdlog.h>

namespace mlrepo::report {
namespace {

class TextReporter : public Reporter {
public:
  void error(const Error& e) override {
    spdlog::error("{}", e.what());
    // The hint is part of the error: shown even with --quiet.
    if (!e.hint().empty())
      std::fprintf(stderr, "hint: %s\n", e.hint().c_str());
  }
};

// GitHub's workflow-command syntax escapes %, CR and LF in the message and,
// in properties, also ':' and ','.
std::string escape_data(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '%')
      out += "%25";
    else if (c == '\r')
      out += "%0D";
    else if (c == '\n')
      out += "%0A";
    else
      out += c;
  }
  return out;
}

std::string escape_property(const std::string& s) {
  std::string out;
  for (char c : escape_data(s)) {
    if (c == ':')
      out += "%3A";
    else if (c == ',')
      out += "%2C";
    else
      out += c;
  }
  return out;
}

class GithubReporter : public Reporter {
public:
  void error(const Error& e) override {
    std::string props;
    std::string message = e.what();
    if (const auto* ce = dynamic_cast<const ConfigError*>(&e)) {
      props = " file=" + escape_property(ce->file());
      if (ce->line() > 0)
        props += ",line=" + std::to_string(ce->line());
      message = ce->detail();
    }
    if (!e.hint().empty())
      message += "\n" + e.hint();
    std::fprintf(stderr, "::error%s::%s\n", props.c_str(), escape_data(message).c_str());
    // Keep the plain text too: annotations are easy to miss in raw logs.
    TextReporter().error(e);
  }
};

} // namespace

std::unique_ptr<Reporter> text_reporter() { return std::make_unique<TextReporter>(); }
std::unique_ptr<Reporter> github_reporter() { return std::make_unique<GithubReporter>(); }

} // namespace mlrepo::report
