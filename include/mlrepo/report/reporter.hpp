#pragma once
// How problems reach the user: plain text on stderr, or GitHub workflow
// commands (annotations) when running inside GitHub Actions.
#include "mlrepo/util/error.hpp"

#include <memory>
#include <string>

namespace mlrepo::report {

class Reporter {
public:
  virtual ~Reporter() = default;
  virtual void error(const Error& e) = 0;
};

std::unique_ptr<Reporter> text_reporter();
std::unique_ptr<Reporter> github_reporter();

} // namespace mlrepo::report
