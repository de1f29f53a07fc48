// Time zones, cron schedules and units. The time-zone reader is checked
// against glibc's own conversion of the same zoneinfo files (the oracle):
// glibc can only convert in the process-wide $TZ, which this test may set.
#include "mlrepo/util/cron.hpp"
#include "mlrepo/util/timezone.hpp"
#include "mlrepo/util/units.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <ctime>
#include <random>

using namespace mlrepo::util;

namespace {

UnixSeconds at(const std::string& iso) {
  auto t = parse_iso8601(iso);
  REQUIRE(t);
  return *t;
}

std::vector<std::string> runs(const std::string& cron, const std::string& zone, const std::string& after,
                              int count = 3) {
  auto tz = TimeZone::load(zone);
  REQUIRE(tz);
  std::vector<std::string> out;
  for (auto t : next_runs(parse_cron(cron), *tz, at(after), count))
    out.push_back(iso8601(t, tz->at(t).utc_offset));
  return out;
}

std::string cron_error(const std::string& text) {
  try {
    parse_cron(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST_CASE("time zone offsets agree with glibc over a century of instants", "[time]") {
  std::mt19937_64 rng(20261203);
  // 1950..2080: the table and, past its end, the POSIX rule in the footer.
  std::uniform_int_distribution<UnixSeconds> when(-631152000, 3471292800);
  for (const char* zone : {"Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata",
                           "America/Sao_Paulo", "Pacific/Chatham", "Africa/Casablanca", "UTC"}) {
    auto tz = TimeZone::load(zone);
    REQUIRE(tz);
    ::setenv("TZ", (std::string(":") + zone).c_str(), 1);
    ::tzset();
    for (int i = 0; i < 3000; ++i) {
      UnixSeconds t = when(rng);
      std::time_t tt = static_cast<std::time_t>(t);
      std::tm local{};
      ::localtime_r(&tt, &local);
      INFO(zone << " at " << iso8601(t, 0));
      REQUIRE(tz->at(t).utc_offset == local.tm_gmtoff);
      REQUIRE(tz->at(t).dst == (local.tm_isdst > 0));
    }
  }
  ::unsetenv("TZ");
  ::tzset();
}

TEST_CASE("unknown and unsafe zone names are refused with the reason", "[time]") {
  std::string problem;
  CHECK_FALSE(TimeZone::load("Europe/Berln", &problem));
  CHECK(problem.find("is not a time zone") != std::string::npos);
  CHECK_FALSE(TimeZone::load("../etc/passwd", &problem));
  CHECK(problem.find("IANA") != std::string::npos);
  CHECK_FALSE(TimeZone::load("Europe", &problem));
  CHECK_FALSE(TimeZone::load("right/Europe/Berlin", &problem));
  CHECK(problem.find("without 'right/'") != std::string::npos);
  CHECK(TimeZone::load("UTC"));
  auto zones = known_time_zones();
  CHECK(std::find(zones.begin(), zones.end(), "Europe/Berlin") != zones.end());
}

TEST_CASE("a wall-clock time maps to no instant in a gap and two in a fold", "[time]") {
  auto berlin = *TimeZone::load("Europe/Berlin");
  // 2027-03-28 02:30 does not exist; 2027-10-31 02:30 happens twice.
  CHECK(berlin.from_local(at("2027-03-28T02:30:00Z")).empty());
  auto fold = berlin.from_local(at("2027-10-31T02:30:00Z"));
  REQUIRE(fold.size() == 2);
  CHECK(iso8601(fold[0], 0) == "2027-10-31T00:30:00Z");
  CHECK(iso8601(fold[1], 0) == "2027-10-31T01:30:00Z");
  CHECK(berlin.changes_after(at("2026-12-03T00:00:00Z")));
  CHECK_FALSE(TimeZone::load("Asia/Kolkata")->changes_after(at("2026-12-03T00:00:00Z")));
}

TEST_CASE("next runs of a weekday schedule", "[cron]") {
  CHECK(runs("0 3 * * 1-5", "Europe/Berlin", "2026-12-03T12:00:00Z") ==
        std::vector<std::string>{"2026-12-04T03:00:00+01:00", "2026-12-07T03:00:00+01:00",
                                 "2026-12-08T03:00:00+01:00"});
  CHECK(runs("*/20 9 1 JAN mon", "UTC", "2026-12-31T23:00:00Z", 4) ==
        std::vector<std::string>{"2027-01-01T09:00:00Z", "2027-01-01T09:20:00Z", "2027-01-01T09:40:00Z",
                                 "2027-01-04T09:00:00Z"});
  CHECK(runs("@monthly", "UTC", "2026-12-03T00:00:00Z", 1) == std::vector<std::string>{"2027-01-01T00:00:00Z"});
  CHECK(runs("0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z", 1) == std::vector<std::string>{"2028-02-29T00:00:00Z"});
}

TEST_CASE("runs across daylight-saving changes keep local time", "[cron]") {
  // 03:00 Berlin is 02:00 UTC in winter and 01:00 UTC in summer.
  CHECK(runs("0 3 * * *", "Europe/Berlin", "2027-03-26T12:00:00Z") ==
        std::vector<std::string>{"2027-03-27T03:00:00+01:00", "2027-03-28T03:00:00+02:00",
                                 "2027-03-29T03:00:00+02:00"});
  // 02:30 does not exist on 2027-03-28: it runs once at the first valid
  // instant, 03:00 CEST (as GitHub documents for its schedules).
  CHECK(runs("30 2 * * *", "Europe/Berlin", "2027-03-27T12:00:00Z") ==
        std::vector<std::string>{"2027-03-28T03:00:00+02:00", "2027-03-29T02:30:00+02:00",
                                 "2027-03-30T02:30:00+02:00"});
  // Every 15 minutes through the gap: the four skipped slots become one run.
  CHECK(runs("*/15 * * * *", "Europe/Berlin", "2027-03-28T00:40:00Z", 3) ==
        std::vector<std::string>{"2027-03-28T01:45:00+01:00", "2027-03-28T03:00:00+02:00",
                                 "2027-03-28T03:15:00+02:00"});
  // 02:30 happens twice on 2027-10-31: one run, at the first.
  CHECK(runs("30 2 * * *", "Europe/Berlin", "2027-10-30T12:00:00Z") ==
        std::vector<std::string>{"2027-10-31T02:30:00+02:00", "2027-11-01T02:30:00+01:00",
                                 "2027-11-02T02:30:00+01:00"});
  // Southern hemisphere: Sydney leaves DST on the first Sunday of April.
  CHECK(runs("0 9 * * *", "Australia/Sydney", "2027-04-03T00:00:00Z", 2) ==
        std::vector<std::string>{"2027-04-04T09:00:00+10:00", "2027-04-05T09:00:00+10:00"});
}

TEST_CASE("day-of-month and day-of-week: either when both are restricted", "[cron]") {
  // The 13th, and every Friday: cron's OR rule.
  CHECK(runs("0 0 13 * 5", "UTC", "2027-01-01T00:00:00Z", 3) ==
        std::vector<std::string>{"2027-01-08T00:00:00Z", "2027-01-13T00:00:00Z", "2027-01-15T00:00:00Z"});
  // A plain '*' in one of them: the other decides.
  CHECK(runs("0 0 * * 5", "UTC", "2026-12-31T12:00:00Z", 2) ==
        std::vector<std::string>{"2027-01-01T00:00:00Z", "2027-01-08T00:00:00Z"});
}

TEST_CASE("a '*/N' day field beside a restricted other day field is refused with the portable spelling",
          "[cron]") {
  // Vixie cron (what job list once followed) runs odd-dated Mondays;
  // Kubernetes' controller (robfig/cron v3) odd days or Mondays: refused.
  for (const auto& [cron, either] : {std::pair{"0 0 */2 * 1", "0 0 1-31/2 * 1"},
                                     std::pair{"0 0 13 * */2", "0 0 13 * 0-6/2"},
                                     std::pair{"30 4 */10 jan mon-fri", "30 4 1-31/10 jan mon-fri"}}) {
    INFO(cron);
    try {
      parse_cron(cron);
      FAIL("accepted");
    } catch (const std::exception& e) {
      CHECK_THAT(e.what(), Catch::Contains("means different days to different schedulers") &&
                               Catch::Contains(std::string("'") + either + "'"));
    }
    // The spelling it suggests means "either" to every scheduler, and is what
    // job list shows: odd days, or Mondays.
    CHECK_NOTHROW(parse_cron(either));
  }
  CHECK(runs("0 0 1-31/2 * 1", "UTC", "2027-01-01T12:00:00Z", 4) ==
        std::vector<std::string>{"2027-01-03T00:00:00Z", "2027-01-04T00:00:00Z", "2027-01-05T00:00:00Z",
                                 "2027-01-07T00:00:00Z"});
  // '*/1' and a star beside '*' are the same everywhere.
  CHECK_NOTHROW(parse_cron("0 0 */1 * 1"));
  CHECK_NOTHROW(parse_cron("0 0 */2 * *"));
  CHECK_NOTHROW(parse_cron("0 0 * * */2"));
}

TEST_CASE("an offset with seconds (local mean time before 1900) is printed whole", "[time]") {
  // Monrovia kept its local mean time, -00:44:30, until 1972.
  auto zone = TimeZone::load("Africa/Monrovia");
  REQUIRE(zone);
  auto t = at("1950-06-01T12:00:00Z");
  int offset = zone->at(t).utc_offset;
  REQUIRE(offset == -2670);
  CHECK(iso8601(t, offset) == "1950-06-01T11:15:30-00:44:30");
  CHECK(parse_iso8601("1950-06-01T11:15:30-00:44:30") == t);
}

TEST_CASE("cron errors say what is wrong and what a cron looks like", "[cron]") {
  CHECK(cron_error("0 3 * *") ==
        "'0 3 * *' has 4 fields; a cron has 5: minute hour day-of-month month day-of-week, e.g. '0 3 * * 1-5'");
  CHECK(cron_error("0 0 3 * * *").find("has 6 fields") != std::string::npos);
  CHECK(cron_error("0 0 3 * * *").find("no seconds field") != std::string::npos);
  CHECK(cron_error("61 * * * *").find("minute 61, out of range (0-59)") != std::string::npos);
  CHECK(cron_error("0 24 * * *").find("hour 24, out of range (0-23)") != std::string::npos);
  CHECK(cron_error("0 0 ? * MON").find("Quartz") != std::string::npos);
  CHECK(cron_error("0 0 * * FOO").find("SUN-SAT") != std::string::npos);
  CHECK(cron_error("*/0 * * * *").find("step") != std::string::npos);
  CHECK(cron_error("0 22-2 * * *").find("22-23,0-2") != std::string::npos);
  CHECK(cron_error("0 0 30 2 *").find("never runs") != std::string::npos);
  CHECK(cron_error("@reboot").find("machine's start") != std::string::npos);
  CHECK(cron_error("@every 5m").find("interval") != std::string::npos);
  CHECK(cron_error("CRON_TZ=Europe/Berlin 0 3 * * *").find("timezone:") != std::string::npos);
  CHECK(cron_error("0 0 1,,2 * *").find("empty item") != std::string::npos);
  CHECK(cron_error("0 3 * * 1-5").empty());
  CHECK(cron_error("0 3 * * sun,SAT").empty());
}

TEST_CASE("the portable spelling GitHub reads", "[cron]") {
  CHECK(parse_cron("@daily").portable() == "0 0 * * *");
  CHECK(parse_cron("0 3 * * 1-5").portable() == "0 3 * * 1-5");
  CHECK(parse_cron("0 3 * * 5-7").portable() == "0 3 * * 0,5-6");
  CHECK(parse_cron("0 3 * * 0-7").portable() == "0 3 * * *");
}

TEST_CASE("durations", "[units]") {
  CHECK(parse_duration("90s") == 90);
  CHECK(parse_duration("45m") == 2700);
  CHECK(parse_duration("2h") == 7200);
  CHECK(parse_duration("1h30m") == 5400);
  CHECK(parse_duration("1d") == 86400);
  for (const char* bad : {"", "2", "h", "2x", "30m1h", "1h1h", "-5m", "1.5h", "0s"})
    CHECK_THROWS_AS(parse_duration(bad), std::invalid_argument);
  CHECK(format_duration(7200) == "2h");
  CHECK(format_duration(5400) == "1h30m");
  CHECK(format_duration(61) == "1m1s");
  CHECK(format_duration(0) == "0s");
}

TEST_CASE("Kubernetes quantities", "[units]") {
  CHECK(parse_quantity("500m").milli == 500);
  CHECK(parse_quantity("2").milli == 2000);
  CHECK(parse_quantity("1.5").milli == 1500);
  CHECK(parse_quantity("8Gi").milli == 8LL * 1024 * 1024 * 1024 * 1000);
  CHECK(parse_quantity("512M").milli == 512LL * 1000 * 1000 * 1000);
  CHECK(parse_quantity("0.5Gi").milli == 512LL * 1024 * 1024 * 1000);
  for (const char* bad : {"", "two", "8GB", "8gi", "-1", "1.0001", "1..5", "Gi"})
    CHECK_THROWS_AS(parse_quantity(bad), std::invalid_argument);
}
