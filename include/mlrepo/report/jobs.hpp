#pragma once
// How `mlrepo job` shows jobs: the `job list` text and JSON, the line that
// ends `job run`, and its GitHub job summary.
#include "mlrepo/deploy/deploy.hpp"
#include "mlrepo/job/local.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mlrepo::report {

std::string job_list_text(const std::vector<job::JobEntry>& jobs);
// {"jobs":[{"name","path","schedule":[...],"timezone","next_runs":[{"local","utc"}],"resources":{...},
//   "timeout_seconds","retries","concurrency","command","args","env","secrets":{VARIABLE:SECRET}}]}
std::string job_list_json(const std::vector<job::JobEntry>& jobs);

const char* concurrency_name(config::Concurrency c);

// The "  schedule" and "  next" lines of a listing (job list, pipeline list):
// each cron in its time zone, then the next runs there and in UTC. `key`
// names what sets a schedule, for "on demand only (no <key>)".
std::string schedule_lines(const config::JobSpec& spec, const std::vector<job::ScheduledRun>& next,
                           const std::string& key);
// [{"local","utc"}] of each next run.
nlohmann::ordered_json next_runs_json(const std::vector<job::ScheduledRun>& next);
// "4.1s" under a minute, else "2m5s".
std::string seconds_text(double seconds);

// "churn-model: succeeded on attempt 2/3 in 4.1s (exit code 0); image ... (sha256:...)"
std::string job_run_line(const job::RunReport& report);
// Markdown for the run's step summary.
std::string job_run_markdown(const job::RunReport& report);

// `job deploy`'s stdout: "<project>\t applied|not applied\t<image>" per project.
std::string deploy_text(const deploy::DeployOutcome& out);
// Its step summary: each project's objects and image.
std::string deploy_markdown(const deploy::DeployOutcome& out);

} // namespace mlrepo::report
