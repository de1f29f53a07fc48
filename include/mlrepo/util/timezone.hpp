#pragma once
// IANA time zones read from the system's zoneinfo (TZif files, RFC 8536).
// Why not glibc or <chrono>: glibc converts only in the process-wide zone
// ($TZ, not thread-safe to switch), and libstdc++ 12 has no chrono tzdb.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mlrepo::util {

// Seconds since 1970-01-01T00:00:00Z (leap seconds not counted, as POSIX).
using UnixSeconds = std::int64_t;

struct ZoneOffset {
  int utc_offset = 0;       // seconds east of UTC
  bool dst = false;
  std::string abbreviation; // CET, CEST, +0530
};

class TimeZone {
public:
  // "UTC" needs no file. Other names are looked up under $TZDIR or
  // /usr/share/zoneinfo; nullopt with `problem` set when there is no such
  // zone or its file is not TZif.
  static std::optional<TimeZone> load(const std::string& name, std::string* problem = nullptr);
  static TimeZone utc();

  const std::string& name() const { return name_; }
  ZoneOffset at(UnixSeconds t) const;
  // The instants whose wall-clock time is `local` (seconds since 1970-01-01
  // in local time): none in a spring-forward gap, two in a fall-back fold.
  std::vector<UnixSeconds> from_local(UnixSeconds local) const;
  // Whether the offset ever changes after `t` (a zone with DST, or one that
  // will change its rules).
  bool changes_after(UnixSeconds t) const;

  struct Rule; // the POSIX TZ string of the file's footer, for times after its table

private:
  struct Type {
    int utc_offset;
    bool dst;
    std::string abbreviation;
  };
  std::string name_;
  std::vector<UnixSeconds> transitions_;
  std::vector<unsigned char> transition_types_;
  std::vector<Type> types_;
  std::shared_ptr<const Rule> rule_;
};

// Calendar helpers (proleptic Gregorian).
struct CivilTime {
  int year, month, day, hour, minute, second;
  int weekday; // 0 = Sunday
};
std::int64_t days_from_civil(int year, int month, int day);
CivilTime civil_from_seconds(UnixSeconds t);
// "2026-12-04T03:00:00+01:00" (offset 0: "...Z").
std::string iso8601(UnixSeconds t, int utc_offset);
// Parses "2026-12-04T03:00", "...:00Z", "...+01:00" or a date alone; a time
// without an offset is UTC. nullopt when malformed.
std::optional<UnixSeconds> parse_iso8601(const std::string& text);

} // namespace mlrepo::util

namespace mlrepo::util {
// The zone names the system lists (zone1970.tab, for did-you-mean hints).
std::vector<std::string> known_time_zones();
} // namespace mlrepo::util
