#include "mlrepo/report/build_status.hpp"

#include "mlrepo/util/fs.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <deque>
#include <fmt/format.h>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

namespace mlrepo::report {
namespace {

using build::PlanItem;
using build::Result;
using build::Status;

const char* color_of(Status s) {
  switch (s) {
  case Status::Built: return "\033[32m";
  case Status::Skipped: return "\033[36m";
  default: return "\033[31m";
  }
}

// ESC [ ... letter: colours and cursor moves.
std::string strip_ansi(const std::string& text) {
  std::string out;
  for (size_t k = 0; k < text.size(); ++k) {
    if (text[k] == '\033' && k + 1 < text.size() && text[k + 1] == '[') {
      k += 2;
      while (k < text.size() && !std::isalpha(static_cast<unsigned char>(text[k])))
        ++k;
      continue;
    }
    out += text[k];
  }
  return out;
}

class TextStatus : public build::BuildStatus {
public:
  explicit TextStatus(BuildStatusOptions o) : opt_(std::move(o)) {}

  void started(const PlanItem& item, std::string_view what) override {
    std::lock_guard lock(mutex_);
    if (what == "up to date")
      return; // finished() says it once, with where the image was
    if (!opt_.quiet)
      std::fprintf(stderr, "==> %s: %.*s\n", item.name.c_str(), static_cast<int>(what.size()), what.data());
  }
  void line(const PlanItem& item, std::string_view l) override {
    std::lock_guard lock(mutex_);
    if (opt_.quiet)
      return;
    std::string text = opt_.color ? std::string(l) : strip_ansi(std::string(l));
    std::fprintf(stderr, "[%s] %s\n", item.name.c_str(), text.c_str());
  }
  void note(const PlanItem& item, std::string_view message) override {
    std::lock_guard lock(mutex_);
    if (opt_.quiet)
      return; // -q: errors only
    std::fprintf(stderr, "warning: %s: %.*s\n", item.name.c_str(), static_cast<int>(message.size()),
                 message.data());
  }
  void finished(const PlanItem& item, const Result& r) override {
    std::lock_guard lock(mutex_);
    bool bad = r.status == Status::Failed;
    if (opt_.quiet && !bad)
      return;
    if (opt_.only_when_building && r.status == Status::Skipped && r.pushed.empty())
      return;
    std::string head = fmt::format("{}{}{}", opt_.color ? color_of(r.status) : "",
                                   r.status == Status::Skipped ? "up to date" : build::status_name(r.status),
                                   opt_.color ? "\033[0m" : "");
    std::string where = r.found.empty() ? "" : r.found + ", ";
    std::fprintf(stderr, "==> %s %s (%s%.1fs)%s%s\n", item.name.c_str(), head.c_str(), where.c_str(), r.duration_s,
                 r.error.empty() ? "" : ": ", r.error.c_str());
    for (const auto& ref : r.pushed)
      std::fprintf(stderr, "==> %s pushed %s\n", item.name.c_str(), ref.c_str());
    if (bad && !r.log.empty()) {
      auto tail = tail_lines(r.log, 20);
      if (!opt_.color)
        tail = strip_ansi(tail); // docker's colours are noise in a file or a CI log
      std::fprintf(stderr, "--- last lines of %s ---\n%s--- end of %s ---\n", r.log.c_str(), tail.c_str(),
                   item.name.c_str());
    }
  }
  void summary(const std::vector<Result>& results) override {
    std::lock_guard lock(mutex_);
    bool failed = std::any_of(results.begin(), results.end(), [](const Result& r) {
      return r.status == Status::Failed || r.status == Status::Blocked;
    });
    if (opt_.quiet && !failed)
      return;
    // Nothing built, pushed or failed: one line, not a table of "skipped".
    bool all_current = std::all_of(results.begin(), results.end(),
                                   [](const Result& r) { return r.status == Status::Skipped && r.pushed.empty(); });
    if (all_current && opt_.only_when_building)
      return;
    if (all_current) {
      std::fprintf(stderr, "%zu project%s up to date, nothing built\n", results.size(), results.size() == 1 ? "" : "s");
      return;
    }
    std::fprintf(stderr, "\n%s", summary_table(results, false).c_str());
  }

private:
  BuildStatusOptions opt_;
  std::mutex mutex_;
};

class GithubStatus : public build::BuildStatus {
public:
  explicit GithubStatus(BuildStatusOptions o) : opt_(std::move(o)) {}

  void started(const PlanItem&, std::string_view) override {}
  void line(const PlanItem& item, std::string_view l) override {
    std::lock_guard lock(mutex_);
    buffered_[item.name].emplace_back(l);
  }
  void note(const PlanItem& item, std::string_view message) override {
    std::lock_guard lock(mutex_);
    std::fprintf(stderr, "::warning title=%s::%.*s\n", item.name.c_str(),
                 static_cast<int>(message.size()), message.data());
    buffered_[item.name].emplace_back(message);
  }
  void finished(const PlanItem& item, const Result& r) override {
    std::lock_guard lock(mutex_);
    if (opt_.only_when_building && r.status == Status::Skipped && r.pushed.empty()) {
      buffered_.erase(item.name); // run, test, job run: a current image says nothing
      return;
    }
    // Parallel builds interleave; a whole group per project keeps logs readable.
    std::fprintf(stderr, "::group::%s: %s (%.1fs)\n", item.name.c_str(), build::status_name(r.status),
                 r.duration_s);
    for (const auto& l : buffered_[item.name])
      std::fprintf(stderr, "%s\n", l.c_str());
    std::fprintf(stderr, "::endgroup::\n");
    buffered_.erase(item.name);
    for (const auto& ref : r.pushed)
      std::fprintf(stderr, "%s pushed %s\n", item.name.c_str(), ref.c_str());
    if (r.status == Status::Failed) {
      std::fprintf(stderr, "::error title=%s %s::%s\n", item.name.c_str(), "failed", r.error.c_str());
      if (!r.log.empty())
        std::fprintf(stderr, "--- last lines of %s ---\n%s", r.log.c_str(), tail_lines(r.log, 20).c_str());
    }
  }
  void summary(const std::vector<Result>& results) override {
    std::lock_guard lock(mutex_);
    bool all_current = std::all_of(results.begin(), results.end(),
                                   [](const Result& r) { return r.status == Status::Skipped && r.pushed.empty(); });
    if (all_current && opt_.only_when_building)
      return;
    std::fprintf(stderr, "\n%s", summary_table(results, false).c_str());
    if (opt_.step_summary && !opt_.step_summary->empty())
      util::append_file(*opt_.step_summary, "### mlrepo build\n\n" + summary_table(results, true) + "\n");
  }

private:
  BuildStatusOptions opt_;
  std::mutex mutex_;
  std::map<std::string, std::vector<std::string>> buffered_;
};

} // namespace

std::unique_ptr<build::BuildStatus> text_build_status(BuildStatusOptions options) {
  return std::make_unique<TextStatus>(std::move(options));
}

std::unique_ptr<build::BuildStatus> github_build_status(BuildStatusOptions options) {
  return std::make_unique<GithubStatus>(std::move(options));
}

std::string build_report_json(const std::vector<Result>& results) {
  using json = nlohmann::ordered_json;
  json arr = json::array();
  for (const auto& r : results) {
    double rounded = static_cast<double>(static_cast<long long>(r.duration_s * 1000 + 0.5)) / 1000;
    json entry = {{"name", r.name},
                  {"status", build::status_name(r.status)},
                  {"duration_s", rounded},
                  {"images", r.images},
                  {"pushed", r.pushed},
                  {"log", r.log}};
    if (!r.digest.empty())
      entry["digest"] = r.digest; // in the registry, when pushed or found there
    if (!r.error.empty())
      entry["error"] = r.error;
    arr.push_back(entry);
  }
  return json{{"results", arr}}.dump(2) + "\n";
}

std::string summary_table(const std::vector<Result>& results, bool markdown) {
  std::string out;
  if (markdown) {
    out += "| project | status | time | images |\n|---|---|---|---|\n";
    for (const auto& r : results) {
      std::string images;
      for (const auto& i : r.images)
        images += (images.empty() ? "" : "<br>") + ("`" + i + "`");
      out += fmt::format("| {} | {} | {:.1f}s | {} |\n", r.name, build::status_name(r.status),
                         r.duration_s, images);
    }
    return out;
  }
  size_t width = 7;
  for (const auto& r : results)
    width = std::max(width, r.name.size());
  out += fmt::format("{:<{}}  {:<9}  {:>7}  {}\n", "project", width, "status", "time", "images");
  for (const auto& r : results) {
    out += fmt::format("{:<{}}  {:<9}  {:>6.1f}s  {}\n", r.name, width, build::status_name(r.status),
                       r.duration_s, r.images.empty() ? (r.error.empty() ? "-" : r.error) : r.images.front());
    for (size_t i = 1; i < r.images.size(); ++i)
      out += fmt::format("{:<{}}  {:<9}  {:>7}  {}\n", "", width, "", "", r.images[i]);
  }
  return out;
}

std::string tail_lines(const std::string& path, size_t n) {
  auto content = util::read_file(path).value_or("");
  std::deque<std::string> lines;
  size_t start = 0;
  while (start < content.size()) {
    size_t nl = content.find('\n', start);
    if (nl == std::string::npos)
      nl = content.size();
    lines.emplace_back(content.substr(start, nl - start));
    if (lines.size() > n)
      lines.pop_front();
    start = nl + 1;
  }
  std::string out;
  for (const auto& l : lines)
    out += l + "\n";
  return out;
}

} // namespace mlrepo::report
