#include "mlrepo/report/jobs.hpp"

#include "mlrepo/util/units.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace mlrepo::report {
namespace {

std::string wall_clock(util::UnixSeconds t, int offset) {
  auto c = util::civil_from_seconds(t + offset);
  char buf[32];
  // Seconds only when there are some: a run at 03:00 local mean time
  // (offset +00:19:32) is 02:40:28 UTC, not 02:40.
  if (c.second)
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", c.year, c.month, c.day, c.hour, c.minute,
                  c.second);
  else
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d", c.year, c.month, c.day, c.hour, c.minute);
  return buf;
}

const char* kWeekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

std::string resources(const config::JobSpec& s) {
  std::string out;
  if (s.cpu)
    out += "cpu " + *s.cpu;
  if (s.memory)
    out += (out.empty() ? "" : ", ") + std::string("memory ") + *s.memory;
  if (s.gpu)
    out += (out.empty() ? "" : ", ") + std::string("gpu ") + std::to_string(s.gpu);
  return out.empty() ? "the engine's defaults (no job.resources)" : out;
}


} // namespace

std::string schedule_lines(const config::JobSpec& spec, const std::vector<job::ScheduledRun>& next,
                           const std::string& key) {
  if (spec.schedule.empty())
    return "  schedule   on demand only (no " + key + ")\n";
  std::string out;
  for (size_t i = 0; i < spec.schedule.size(); ++i)
    out += std::string(i == 0 ? "  schedule   " : "             ") + spec.schedule[i].value + " (" + spec.timezone +
           ")\n";
  for (size_t i = 0; i < next.size(); ++i) {
    const auto& r = next[i];
    auto c = util::civil_from_seconds(r.at + r.utc_offset);
    out += std::string(i == 0 ? "  next       " : "             ") + kWeekdays[c.weekday] + " " +
           wall_clock(r.at, r.utc_offset) + " " + r.abbreviation;
    if (spec.timezone != "UTC")
      out += "  (" + wall_clock(r.at, 0) + " UTC)";
    out += "\n";
  }
  return out;
}

nlohmann::ordered_json next_runs_json(const std::vector<job::ScheduledRun>& next) {
  auto out = nlohmann::ordered_json::array();
  for (const auto& r : next)
    out.push_back({{"local", util::iso8601(r.at, r.utc_offset)}, {"utc", util::iso8601(r.at, 0)}});
  return out;
}

std::string seconds_text(double s) {
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  else
    return util::format_duration(static_cast<std::int64_t>(s + 0.5));
  return buf;
}

const char* concurrency_name(config::Concurrency c) {
  switch (c) {
  case config::Concurrency::Forbid: return "forbid";
  case config::Concurrency::Replace: return "replace";
  case config::Concurrency::Allow: return "allow";
  }
  return "forbid";
}

std::string job_list_text(const std::vector<job::JobEntry>& jobs) {
  std::string out;
  for (const auto& j : jobs) {
    if (!out.empty())
      out += "\n";
    out += j.name + " (" + j.path + ")\n";
    out += schedule_lines(j.spec, j.next, "job.schedule");
    out += "  runs on    " + j.runs_on_detail + "\n";
    out += "  resources  " + resources(j.spec) + "\n";
    out += "  timeout    " + (j.spec.timeout_seconds ? util::format_duration(j.spec.timeout_seconds) : "none") +
           ", retries " + std::to_string(j.spec.retries) + ", concurrency " + concurrency_name(j.spec.concurrency) +
           "\n";
  }
  return out;
}

std::string job_list_json(const std::vector<job::JobEntry>& jobs) {
  auto list = nlohmann::ordered_json::array();
  for (const auto& j : jobs) {
    nlohmann::ordered_json o;
    o["name"] = j.name;
    o["path"] = j.path;
    auto schedule = nlohmann::ordered_json::array();
    for (const auto& s : j.spec.schedule)
      schedule.push_back(s.value);
    o["schedule"] = schedule;
    o["timezone"] = j.spec.timezone;
    o["runs_on"] = config::job_target_name(j.runs_on);
    if (!j.spec.runner_labels.empty())
      o["runner_labels"] = j.spec.runner_labels;
    o["next_runs"] = next_runs_json(j.next);
    nlohmann::ordered_json res = nlohmann::ordered_json::object();
    if (j.spec.cpu)
      res["cpu"] = *j.spec.cpu;
    if (j.spec.memory)
      res["memory"] = *j.spec.memory;
    if (j.spec.gpu)
      res["gpu"] = j.spec.gpu;
    o["resources"] = res;
    o["timeout_seconds"] = j.spec.timeout_seconds ? nlohmann::ordered_json(j.spec.timeout_seconds) : nullptr;
    o["retries"] = j.spec.retries;
    o["concurrency"] = concurrency_name(j.spec.concurrency);
    o["command"] = j.spec.command;
    o["args"] = j.spec.args;
    o["env"] = j.spec.env;
    o["secrets"] = j.spec.secrets;
    list.push_back(o);
  }
  return nlohmann::ordered_json{{"jobs", list}}.dump() + "\n";
}

std::string job_run_line(const job::RunReport& r) {
  auto timeout_seconds = r.timeout_seconds;
  std::string attempts = std::to_string(r.attempts) + "/" + std::to_string(r.max_attempts);
  std::string what;
  if (r.interrupted)
    what = "interrupted on attempt " + attempts;
  else if (r.timed_out)
    what = "timed out after " + util::format_duration(timeout_seconds) + " on attempt " + attempts;
  else if (r.ok())
    what = "succeeded on attempt " + attempts;
  else
    what = "failed on attempt " + attempts;
  return r.project + ": " + what + " in " + seconds_text(r.seconds) + " (exit code " + std::to_string(r.exit_code) +
         "); image " + r.image + (r.image.find(r.digest) == std::string::npos && !r.digest.empty()
                                      ? (r.digest_is_image_id ? " (image ID " + r.digest + ", not pushed)"
                                                              : " (" + r.digest + ")")
                                      : "");
}

std::string job_run_markdown(const job::RunReport& r) {
  auto timeout_seconds = r.timeout_seconds;
  std::string result = r.interrupted ? "interrupted"
                       : r.timed_out ? "timed out after " + util::format_duration(timeout_seconds)
                       : r.ok()      ? "succeeded"
                                     : "failed";
  std::string out = "### Job " + r.project + ": " + result + "\n\n";
  out += std::string("| ") + (r.digest_is_image_id ? "image ID (not pushed)" : "image digest") +
         " | attempts | duration | exit code |\n|---|---|---|---|\n";
  out += "| `" + r.digest + "` | " + std::to_string(r.attempts) + "/" + std::to_string(r.max_attempts) + " | " +
         seconds_text(r.seconds) + " | " + std::to_string(r.exit_code) + " |\n\n";
  out += "Image: `" + r.image + "`\n";
  return out;
}

std::string deploy_text(const deploy::DeployOutcome& out) {
  std::string text;
  for (const auto& p : out.projects)
    text += p.project + "\t" + (p.unchanged ? "unchanged" : p.applied ? "applied" : "not applied") + "\t" + p.image + "\n";
  return text;
}

std::string deploy_markdown(const deploy::DeployOutcome& out) {
  std::string md = "### mlrepo job deploy\n\n| project | objects | image |\n|---|---|---|\n";
  for (const auto& p : out.projects) {
    std::string objects;
    for (const auto& o : p.objects)
      objects += (objects.empty() ? "" : ", ") + ("`" + o + "`");
    md += "| " + p.project + " | " +
          (objects.empty() ? std::string("none (runs on demand)") : objects + (p.unchanged ? " (unchanged)" : p.applied ? "" : " (not applied)")) +
          " | `" + p.image + "` |\n";
  }
  return md;
}

} // namespace mlrepo::report
