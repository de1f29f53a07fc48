#include "mlrepo/util/timezone.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

namespace mlrepo::util {

std::int64_t days_from_civil(int year, int month, int day) {
  // Days since 1970-01-01, counting in 400-year eras that start on March 1st
  // so that the leap day is the last day of each "year".
  std::int64_t y = year - (month <= 2 ? 1 : 0);
  std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  std::int64_t yoe = y - era * 400;
  std::int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilTime civil_from_seconds(UnixSeconds t) {
  std::int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
  std::int64_t secs = t - days * 86400;
  std::int64_t z = days + 719468;
  std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  std::int64_t doe = z - era * 146097;
  std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  std::int64_t mp = (5 * doy + 2) / 153;
  CivilTime c{};
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = static_cast<int>(yoe + era * 400 + (c.month <= 2 ? 1 : 0));
  c.hour = static_cast<int>(secs / 3600);
  c.minute = static_cast<int>(secs / 60 % 60);
  c.second = static_cast<int>(secs % 60);
  c.weekday = static_cast<int>(((days + 4) % 7 + 7) % 7);
  return c;
}

std::string iso8601(UnixSeconds t, int utc_offset) {
  auto c = civil_from_seconds(t + utc_offset);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", c.year, c.month, c.day, c.hour, c.minute,
                c.second);
  std::string out = buf;
  if (utc_offset == 0)
    return out + "Z";
  int a = std::abs(utc_offset);
  // Local mean time before 1900 has offsets with seconds (Amsterdam +00:19:32):
  // printed whole, or the time shown would be off by them.
  if (a % 60)
    std::snprintf(buf, sizeof buf, "%c%02d:%02d:%02d", utc_offset < 0 ? '-' : '+', a / 3600, a / 60 % 60, a % 60);
  else
    std::snprintf(buf, sizeof buf, "%c%02d:%02d", utc_offset < 0 ? '-' : '+', a / 3600, a / 60 % 60);
  return out + buf;
}

std::optional<UnixSeconds> parse_iso8601(const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  size_t pos = 0;
  auto number = [&](int digits, int& out) {
    if (pos + digits > text.size())
      return false;
    out = 0;
    for (int i = 0; i < digits; ++i, ++pos) {
      if (!std::isdigit(static_cast<unsigned char>(text[pos])))
        return false;
      out = out * 10 + (text[pos] - '0');
    }
    return true;
  };
  auto expect = [&](char c) { return pos < text.size() && text[pos++] == c; };
  if (!number(4, y) || !expect('-') || !number(2, mo) || !expect('-') || !number(2, d))
    return std::nullopt;
  int offset = 0;
  if (pos < text.size()) {
    if (!(text[pos] == 'T' || text[pos] == ' ') || !(++pos, number(2, h)) || !expect(':') || !number(2, mi))
      return std::nullopt;
    if (pos < text.size() && text[pos] == ':' && !(++pos, number(2, s)))
      return std::nullopt;
    if (pos < text.size()) {
      char sign = text[pos++];
      int oh = 0, om = 0, os = 0;
      if (sign == 'Z' && pos == text.size())
        offset = 0;
      else if ((sign == '+' || sign == '-') && number(2, oh) && expect(':') && number(2, om) &&
               (pos == text.size() || (expect(':') && number(2, os) && pos == text.size())))
        offset = (sign == '-' ? -1 : 1) * (oh * 3600 + om * 60 + os); // seconds: as iso8601 prints them
      else
        return std::nullopt;
    }
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59)
    return std::nullopt;
  return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset;
}

// A POSIX TZ string ("CET-1CEST,M3.5.0,M10.5.0/3"): how the zone keeps time
// after the last transition its file lists.
struct TimeZone::Rule {
  struct Date {
    char kind = 'M'; // 'J': Julian day 1-365 without Feb 29; 'N': day 0-365; 'M': month.week.weekday
    int n = 0, month = 0, week = 0, weekday = 0;
    int time = 7200; // seconds after local midnight (may be negative or past 24h)
  };
  std::string std_abbr, dst_abbr;
  int std_offset = 0, dst_offset = 0; // seconds east of UTC
  bool has_dst = false;
  Date start, end;

  static bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

  // The UTC instant of `date` in `year`, read in the local time `offset`.
  static UnixSeconds instant(const Date& date, int year, int offset) {
    std::int64_t day = 0; // days since January 1st
    if (date.kind == 'J')
      day = date.n - 1 + (leap(year) && date.n >= 60 ? 1 : 0);
    else if (date.kind == 'N')
      day = date.n;
    else {
      std::int64_t first = days_from_civil(year, date.month, 1);
      int first_weekday = static_cast<int>(((first + 4) % 7 + 7) % 7);
      int dom = 1 + (date.weekday - first_weekday + 7) % 7 + (date.week - 1) * 7;
      static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
      int in_month = kDays[date.month - 1] + (date.month == 2 && leap(year) ? 1 : 0);
      while (dom > in_month)
        dom -= 7;
      day = first + dom - 1 - days_from_civil(year, 1, 1);
    }
    return (days_from_civil(year, 1, 1) + day) * 86400 + date.time - offset;
  }

  ZoneOffset at(UnixSeconds t) const {
    if (!has_dst)
      return {std_offset, false, std_abbr};
    int year = civil_from_seconds(t + std_offset).year;
    UnixSeconds s = instant(start, year, std_offset);
    UnixSeconds e = instant(end, year, dst_offset);
    bool in_dst = s < e ? (t >= s && t < e) : !(t >= e && t < s);
    return in_dst ? ZoneOffset{dst_offset, true, dst_abbr} : ZoneOffset{std_offset, false, std_abbr};
  }

  static std::optional<Rule> parse(const std::string& text) {
    Rule rule;
    size_t pos = 0;
    auto name = [&](std::string& out) {
      if (pos < text.size() && text[pos] == '<') {
        auto close = text.find('>', pos);
        if (close == std::string::npos)
          return false;
        out = text.substr(pos + 1, close - pos - 1);
        pos = close + 1;
        return !out.empty();
      }
      size_t start = pos;
      while (pos < text.size() && std::isalpha(static_cast<unsigned char>(text[pos])))
        ++pos;
      out = text.substr(start, pos - start);
      return out.size() >= 3;
    };
    // [+-]hh[:mm[:ss]] as seconds.
    auto hms = [&](int& out) {
      int sign = 1;
      if (pos < text.size() && (text[pos] == '+' || text[pos] == '-'))
        sign = text[pos++] == '-' ? -1 : 1;
      int parts[3] = {0, 0, 0};
      for (int i = 0; i < 3; ++i) {
        if (i > 0) {
          if (pos >= text.size() || text[pos] != ':')
            break;
          ++pos;
        }
        size_t start = pos;
        while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])))
          parts[i] = parts[i] * 10 + (text[pos++] - '0');
        if (pos == start)
          return false;
      }
      out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
      return true;
    };
    auto date = [&](Date& out) {
      if (pos >= text.size())
        return false;
      auto read_int = [&](int& v) {
        size_t start = pos;
        v = 0;
        while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])))
          v = v * 10 + (text[pos++] - '0');
        return pos > start;
      };
      if (text[pos] == 'M') {
        ++pos;
        out.kind = 'M';
        if (!read_int(out.month) || pos >= text.size() || text[pos++] != '.' || !read_int(out.week) ||
            pos >= text.size() || text[pos++] != '.' || !read_int(out.weekday))
          return false;
        if (out.month < 1 || out.month > 12 || out.week < 1 || out.week > 5 || out.weekday > 6)
          return false;
      } else if (text[pos] == 'J') {
        ++pos;
        out.kind = 'J';
        if (!read_int(out.n) || out.n < 1 || out.n > 365)
          return false;
      } else {
        out.kind = 'N';
        if (!read_int(out.n) || out.n > 365)
          return false;
      }
      if (pos < text.size() && text[pos] == '/') {
        ++pos;
        if (!hms(out.time))
          return false;
      }
      return true;
    };
    int posix = 0;
    if (!name(rule.std_abbr) || !hms(posix))
      return std::nullopt;
    rule.std_offset = -posix; // POSIX counts hours west of UTC
    if (pos == text.size())
      return rule;
    if (!name(rule.dst_abbr))
      return std::nullopt;
    rule.has_dst = true;
    rule.dst_offset = rule.std_offset + 3600;
    if (pos < text.size() && text[pos] != ',') {
      if (!hms(posix))
        return std::nullopt;
      rule.dst_offset = -posix;
    }
    // POSIX leaves the default rule to the implementation; zic always writes it.
    if (pos >= text.size() || text[pos++] != ',' || !date(rule.start) || pos >= text.size() ||
        text[pos++] != ',' || !date(rule.end) || pos != text.size())
      return std::nullopt;
    return rule;
  }
};

TimeZone TimeZone::utc() {
  TimeZone tz;
  tz.name_ = "UTC";
  tz.types_.push_back({0, false, "UTC"});
  return tz;
}

std::optional<TimeZone> TimeZone::load(const std::string& name, std::string* problem) {
  auto fail = [&](const std::string& why) -> std::optional<TimeZone> {
    if (problem)
      *problem = why;
    return std::nullopt;
  };
  if (name == "UTC")
    return utc();
  // IANA names: Area/Location with letters, digits, '_', '-', '+'; no
  // component may climb out of the zoneinfo directory.
  bool ok = !name.empty() && name.front() != '/';
  for (char c : name)
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '+' || c == '/');
  for (size_t start = 0; ok && start <= name.size();) {
    size_t end = name.find('/', start);
    std::string part = name.substr(start, end == std::string::npos ? std::string::npos : end - start);
    ok = !part.empty() && part.front() != '.' && part.front() != '-';
    if (end == std::string::npos)
      break;
    start = end + 1;
  }
  if (!ok)
    return fail("is not an IANA time zone name (Area/Location, e.g. Europe/Berlin)");
  if (name.rfind("posix/", 0) == 0 || name.rfind("right/", 0) == 0)
    return fail("names a copy of the database, not a zone: write the name without '" +
                name.substr(0, name.find('/') + 1) + "'");
  const char* dir = std::getenv("TZDIR");
  std::string path = std::string(dir && *dir ? dir : "/usr/share/zoneinfo") + "/" + name;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return fail("is not a time zone in " + path.substr(0, path.size() - name.size() - 1));
  std::ifstream in(path, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof())
    return fail("is not a time zone in " + path.substr(0, path.size() - name.size() - 1));
  if (data.size() < 44 || data.compare(0, 4, "TZif") != 0)
    return fail(data.empty() ? "is not a time zone in the system's zoneinfo (" +
                                   path.substr(0, path.size() - name.size() - 1) + ")"
                             : "is not a time zone (" + path + " is not a TZif file)");
  auto be = [&](size_t at, int bytes) -> std::int64_t {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i)
      v = (v << 8) | static_cast<unsigned char>(data[at + i]);
    if (bytes == 4)
      return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
    return static_cast<std::int64_t>(v);
  };
  char version = data[4];
  size_t header = 0;
  int time_size = 4;
  auto counts = [&](size_t at) {
    std::vector<std::int64_t> c;
    for (int i = 0; i < 6; ++i)
      c.push_back(be(at + 20 + 4 * i, 4));
    return c; // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  };
  auto c = counts(0);
  auto block = [&](const std::vector<std::int64_t>& k, int ts) {
    return static_cast<size_t>(k[3] * ts + k[3] + k[4] * 6 + k[5] + k[2] * (ts + 4) + k[1] + k[0]);
  };
  if (version >= '2') {
    header = 44 + block(c, 4);
    if (data.size() < header + 44 || data.compare(header, 4, "TZif") != 0)
      return fail("is not a time zone (" + path + " is damaged)");
    c = counts(header);
    time_size = 8;
  }
  size_t at = header + 44;
  if (c[4] < 1 || data.size() < at + block(c, time_size))
    return fail("is not a time zone (" + path + " is damaged)");
  TimeZone tz;
  tz.name_ = name;
  for (std::int64_t i = 0; i < c[3]; ++i)
    tz.transitions_.push_back(be(at + i * time_size, time_size));
  at += c[3] * time_size;
  for (std::int64_t i = 0; i < c[3]; ++i)
    tz.transition_types_.push_back(static_cast<unsigned char>(data[at + i]));
  at += c[3];
  size_t chars = at + c[4] * 6;
  for (std::int64_t i = 0; i < c[4]; ++i) {
    size_t t = at + i * 6;
    size_t abbr = static_cast<unsigned char>(data[t + 5]);
    std::string a = abbr < static_cast<size_t>(c[5]) ? std::string(data.c_str() + chars + abbr) : "";
    tz.types_.push_back({static_cast<int>(be(t, 4)), data[t + 4] != 0, a});
  }
  for (auto type : tz.transition_types_)
    if (type >= tz.types_.size())
      return fail("is not a time zone (" + path + " is damaged)");
  size_t footer = header + 44 + block(c, time_size);
  if (version >= '2' && footer < data.size() && data[footer] == '\n') {
    auto end = data.find('\n', footer + 1);
    std::string text = data.substr(footer + 1, end == std::string::npos ? std::string::npos : end - footer - 1);
    if (!text.empty()) {
      auto rule = Rule::parse(text);
      if (!rule)
        return fail("has a rule mlrepo cannot read ('" + text + "' in " + path + ")");
      tz.rule_ = std::make_shared<const Rule>(*rule);
    }
  }
  return tz;
}

ZoneOffset TimeZone::at(UnixSeconds t) const {
  if (transitions_.empty() || t < transitions_.front()) {
    if (transitions_.empty() && rule_)
      return rule_->at(t);
    const auto& first = types_.front();
    return {first.utc_offset, first.dst, first.abbreviation};
  }
  if (t >= transitions_.back() && rule_)
    return rule_->at(t);
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), t);
  const auto& type = types_[transition_types_[static_cast<size_t>(it - transitions_.begin()) - 1]];
  return {type.utc_offset, type.dst, type.abbreviation};
}

std::vector<UnixSeconds> TimeZone::from_local(UnixSeconds local) const {
  std::set<int> offsets;
  for (UnixSeconds probe : {local - 2 * 86400, local - 86400, local, local + 86400, local + 2 * 86400})
    offsets.insert(at(probe).utc_offset);
  std::vector<UnixSeconds> out;
  for (int off : offsets)
    if (at(local - off).utc_offset == off)
      out.push_back(local - off);
  std::sort(out.begin(), out.end());
  return out;
}

bool TimeZone::changes_after(UnixSeconds t) const {
  if (!transitions_.empty() && transitions_.back() > t)
    return true;
  return rule_ && rule_->has_dst;
}

} // namespace mlrepo::util

namespace mlrepo::util {

std::vector<std::string> known_time_zones() {
  const char* dir = std::getenv("TZDIR");
  std::ifstream in(std::string(dir && *dir ? dir : "/usr/share/zoneinfo") + "/zone1970.tab");
  std::vector<std::string> out{"UTC"};
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#')
      continue;
    std::istringstream fields(line);
    std::string codes, coordinates, zone;
    if (std::getline(fields, codes, '\t') && std::getline(fields, coordinates, '\t') &&
        std::getline(fields, zone, '\t'))
      out.push_back(zone);
  }
  return out;
}

} // namespace mlrepo::util
