#pragma once
// How a build's progress is shown: lines marked by project on a terminal, or
// one collapsible group per project in GitHub Actions.
#include "mlrepo/build/executor.hpp"

#include <memory>
#include <optional>
#include <string>

namespace mlrepo::report {

struct BuildStatusOptions {
  bool quiet = false;
  // For commands that build on the way to something else (run, test, job
  // run): a build's progress shows as `build` shows it, but an image that is
  // already current says nothing.
  bool only_when_building = false;
  bool color = false;
  std::optional<std::string> step_summary; // the run's summary file (RunContext::step_summary)
};

std::unique_ptr<build::BuildStatus> text_build_status(BuildStatusOptions options);
std::unique_ptr<build::BuildStatus> github_build_status(BuildStatusOptions options);

// `build --json-report`: {"results":[{"name","status","duration_s","images","log"}]}
std::string build_report_json(const std::vector<build::Result>& results);

// The end-of-run table, also the run's step summary (markdown).
std::string summary_table(const std::vector<build::Result>& results, bool markdown);

// The last `n` lines of a file, for failures.
std::string tail_lines(const std::string& path, size_t n);

} // namespace mlrepo::report
