#pragma once
// Five-field cron expressions as Vixie cron, GitHub Actions and Kubernetes
// read them: minute hour day-of-month month day-of-week, with '*', ranges,
// steps, lists, JAN-DEC and SUN-SAT names, and the @daily-style macros.
#include "mlrepo/util/timezone.hpp"

#include <bitset>
#include <string>
#include <vector>

namespace mlrepo::util {

struct Cron {
  std::string text; // as written
  std::bitset<60> minute;
  std::bitset<24> hour;
  std::bitset<32> day_of_month; // 1-31
  std::bitset<13> month;        // 1-12
  std::bitset<7> day_of_week;   // 0-6, Sunday 0 (7 is read as 0)
  // Cron's rule: when both day fields are restricted (neither starts with
  // '*'), a day matches either; otherwise both.
  bool dom_restricted = false, dow_restricted = false;

  bool matches_day(int month, int day, int weekday) const;
  // The same schedule in the plain syntax GitHub documents (macros expanded,
  // day-of-week 7 written 0).
  std::string portable() const;
};

// Throws std::invalid_argument whose message says what is wrong and what a
// valid expression looks like.
Cron parse_cron(const std::string& text);

// The same schedule in AWS's six-field dialect (EventBridge Scheduler and
// rules): "cron(minutes hours day-of-month month day-of-week year)", one of
// the day fields '?', day-of-week numbered 1 (Sunday) to 7, no step in it.
// Every field is written as the values it holds (lists and ranges), so
// steps and names need no translation. A cron with both day fields
// restricted runs on days matching either; AWS cannot say "either" in one
// expression, so it is two, whose union is the same days.
std::vector<std::string> aws_cron(const Cron& cron);

// The next `count` runs strictly after `after`, in `zone`. Wall-clock times
// that a spring-forward skips run at the first valid instant after the gap
// (once, however many were skipped); times a fall-back repeats run once, at
// their first occurrence. Looks at most 30 years ahead.
std::vector<UnixSeconds> next_runs(const Cron& cron, const TimeZone& zone, UnixSeconds after, int count);

} // namespace mlrepo::util
