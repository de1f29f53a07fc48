// Five-field crons in AWS's six-field dialect (EventBridge Scheduler), against
// a table of expected expressions written from AWS's documentation: '?' in one
// day field, day-of-week 1 = Sunday, no step in day-of-week, a year field;
// both day fields restricted split into two expressions whose union is the
// cron's days.
#include "mlrepo/util/cron.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using mlrepo::util::aws_cron;
using mlrepo::util::parse_cron;

namespace {

std::vector<std::string> aws(const std::string& cron) { return aws_cron(parse_cron(cron)); }

} // namespace

TEST_CASE("aws cron: every field form, day-of-week numbering, names and macros", "[cron][ecs]") {
  struct Row {
    const char* cron;
    std::vector<std::string> expected;
  };
  const Row table[] = {
      {"0 3 * * *", {"cron(0 3 * * ? *)"}},
      {"*/15 * * * *", {"cron(0,15,30,45 * * * ? *)"}},
      {"5 0-6/2 * * *", {"cron(5 0,2,4,6 * * ? *)"}},
      {"30 2 1,15 * *", {"cron(30 2 1,15 * ? *)"}},
      {"0 9 * * 1-5", {"cron(0 9 ? * 2-6 *)"}},       // Monday to Friday: 2-6 in AWS
      {"0 9 * * mon-fri", {"cron(0 9 ? * 2-6 *)"}},   // names as numbers
      {"0 0 * * 0", {"cron(0 0 ? * 1 *)"}},           // Sunday is 1
      {"0 0 * * 7", {"cron(0 0 ? * 1 *)"}},           // 7 is Sunday too
      {"0 0 * * sat,sun", {"cron(0 0 ? * 1,7 *)"}},
      {"0 0 * * */2", {"cron(0 0 ? * 1,3,5,7 *)"}},   // no step in AWS's day-of-week
      {"0 6 * jan,jul *", {"cron(0 6 * 1,7 ? *)"}},
      {"0 6 1 */3 *", {"cron(0 6 1 1,4,7,10 ? *)"}},
      {"0 0 */2 * *", {"cron(0 0 1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31 * ? *)"}},
      {"@daily", {"cron(0 0 * * ? *)"}},
      {"@hourly", {"cron(0 * * * ? *)"}},
      {"@weekly", {"cron(0 0 ? * 1 *)"}},
      {"@monthly", {"cron(0 0 1 * ? *)"}},
      {"@yearly", {"cron(0 0 1 1 ? *)"}},
      // Both day fields restricted: either matches, so two schedules.
      {"0 3 1 * mon", {"cron(0 3 1 * ? *)", "cron(0 3 ? * 2 *)"}},
      {"15 4 13 * fri", {"cron(15 4 13 * ? *)", "cron(15 4 ? * 6 *)"}},
  };
  for (const auto& row : table) {
    INFO(row.cron);
    CHECK(aws(row.cron) == row.expected);
  }
}

namespace {

// Whether an AWS field ("*", "?", or a list of values and ranges) holds `v`.
bool holds(const std::string& field, int v) {
  if (field == "*" || field == "?")
    return true;
  size_t start = 0;
  while (start <= field.size()) {
    auto end = field.find(',', start);
    std::string part = field.substr(start, end == std::string::npos ? std::string::npos : end - start);
    auto dash = part.find('-');
    int lo = std::stoi(part.substr(0, dash));
    int hi = dash == std::string::npos ? lo : std::stoi(part.substr(dash + 1));
    if (v >= lo && v <= hi)
      return true;
    if (end == std::string::npos)
      break;
    start = end + 1;
  }
  return false;
}

// Whether the AWS expression runs on that day (weekday: AWS's, 1 = Sunday).
bool aws_day(const std::string& expr, int month, int day, int weekday) {
  std::vector<std::string> f;
  std::string body = expr.substr(5, expr.size() - 6);
  for (size_t at = 0, next; at < body.size(); at = next + 1) {
    next = body.find(' ', at);
    if (next == std::string::npos)
      next = body.size();
    f.push_back(body.substr(at, next - at));
  }
  REQUIRE(f.size() == 6);
  CHECK((f[2] == "?") != (f[4] == "?")); // exactly one day field is '?'
  return holds(f[2], day) && holds(f[3], month) && holds(f[4], weekday);
}

} // namespace

TEST_CASE("aws cron: over a whole year, the AWS expressions run on exactly the cron's days", "[cron][ecs]") {
  const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}; // 2024, a leap year
  for (const char* text : {"0 3 1,15 * mon,thu", "0 3 13 * fri", "0 0 * * 1-5", "0 0 29 2 *", "0 0 */2 * *",
                           "0 0 * * */2", "0 0 1 jan-jun sun", "@weekly", "@monthly"}) {
    INFO(text);
    auto cron = parse_cron(text);
    auto exprs = aws_cron(cron);
    int weekday = 1; // 2024-01-01 was a Monday (cron 1)
    int runs = 0;
    for (int m = 1; m <= 12; ++m)
      for (int d = 1; d <= days[m - 1]; ++d, weekday = (weekday + 1) % 7) {
        bool aws_runs = false;
        for (const auto& e : exprs)
          aws_runs = aws_runs || aws_day(e, m, d, weekday + 1);
        INFO(m << "-" << d);
        CHECK(aws_runs == cron.matches_day(m, d, weekday));
        runs += aws_runs ? 1 : 0;
      }
    CHECK(runs > 0);
  }
}
