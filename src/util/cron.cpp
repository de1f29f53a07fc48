#include "mlrepo/util/cron.hpp"

#include <cctype>
#include <map>
#include <sstream>
#include <stdexcept>

namespace mlrepo::util {
namespace {

const char* const kShape = "a cron has 5: minute hour day-of-month month day-of-week, e.g. '0 3 * * 1-5'";

struct FieldSpec {
  const char* name;
  int low, high;
  std::vector<std::string> names; // index + low = value
};

const FieldSpec kFields[] = {
    {"minute", 0, 59, {}},
    {"hour", 0, 23, {}},
    {"day-of-month", 1, 31, {}},
    {"month", 1, 12, {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
    // 7 is Sunday too, as in Vixie cron.
    {"day-of-week", 0, 7, {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
};

std::string upper(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

[[noreturn]] void bad(const std::string& text, const std::string& why) {
  throw std::invalid_argument("'" + text + "' " + why);
}

int value(const std::string& text, const FieldSpec& f, const std::string& token) {
  std::string u = upper(token);
  for (size_t i = 0; i < f.names.size(); ++i)
    if (u == f.names[i])
      return f.low + static_cast<int>(i);
  bool digits = !token.empty() && token.size() <= 4;
  for (char c : token)
    digits = digits && std::isdigit(static_cast<unsigned char>(c));
  if (!digits) {
    if (token == "?" || token == "L" || token == "W" || token.find('#') != std::string::npos ||
        token.find('L') != std::string::npos)
      bad(text, "uses '" + token + "' in the " + std::string(f.name) +
                    " field, which is Quartz syntax; GitHub and Kubernetes read plain cron: " + kShape);
    std::string names = f.names.empty() ? "" : " or a name (" + f.names.front() + "-" + f.names.back() + ")";
    bad(text, "has '" + token + "' in the " + std::string(f.name) + " field; write a number from " +
                  std::to_string(f.low) + " to " + std::to_string(f.high) + names);
  }
  int v = std::stoi(token);
  if (v < f.low || v > f.high)
    bad(text, "has " + std::string(f.name) + " " + token + ", out of range (" + std::to_string(f.low) + "-" +
                  std::to_string(f.high) + ")");
  return v;
}

// One field: a comma-separated list of '*', N, N-M, each with an optional /STEP.
template <size_t N> bool parse_field(const std::string& text, const std::string& field, const FieldSpec& f,
                                     std::bitset<N>& bits) {
  std::stringstream items(field);
  std::string item;
  int count = 0;
  while (std::getline(items, item, ',')) {
    ++count;
    if (item.empty())
      bad(text, "has an empty item in the " + std::string(f.name) + " field ('" + field + "')");
    int step = 1;
    if (auto slash = item.find('/'); slash != std::string::npos) {
      std::string s = item.substr(slash + 1);
      bool digits = !s.empty() && s.size() <= 3;
      for (char c : s)
        digits = digits && std::isdigit(static_cast<unsigned char>(c));
      if (!digits || std::stoi(s) == 0)
        bad(text, "has step '/" + s + "' in the " + std::string(f.name) + " field; a step is a whole number above 0");
      step = std::stoi(s);
      item = item.substr(0, slash);
    }
    int from = f.low, to = f.high;
    if (item == "*") {
      if (std::string(f.name) == "day-of-week")
        to = 6;
    } else if (auto dash = item.find('-'); dash != std::string::npos && dash > 0) {
      from = value(text, f, item.substr(0, dash));
      to = value(text, f, item.substr(dash + 1));
      if (from > to)
        bad(text, "has the range " + item + " in the " + std::string(f.name) +
                      " field; a range goes from low to high (write two items to wrap around: " +
                      item.substr(0, dash) + "-" + std::to_string(f.high) + "," + std::to_string(f.low) + "-" +
                      item.substr(dash + 1) + ")");
    } else {
      from = value(text, f, item);
      // "N/STEP" is "from N to the end, every STEP", as in Vixie cron.
      to = step > 1 ? f.high : from;
    }
    for (int v = from; v <= to; v += step)
      bits.set(static_cast<size_t>(v == 7 && std::string(f.name) == "day-of-week" ? 0 : v));
  }
  if (count == 0)
    bad(text, "has an empty " + std::string(f.name) + " field");
  return field[0] != '*';
}

template <size_t N> std::string render(const std::bitset<N>& bits, int low, int high) {
  std::string out;
  for (int v = low; v <= high; ++v) {
    if (!bits.test(static_cast<size_t>(v)))
      continue;
    int end = v;
    while (end + 1 <= high && bits.test(static_cast<size_t>(end + 1)))
      ++end;
    out += (out.empty() ? "" : ",") + std::to_string(v) + (end > v ? "-" + std::to_string(end) : "");
    v = end;
  }
  return out;
}

int days_in_month(int year, int month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return kDays[month - 1] + (month == 2 && leap ? 1 : 0);
}

} // namespace

std::vector<std::string> aws_cron(const Cron& c) {
  auto field = [](const auto& bits, int low, int high) {
    return bits.count() == static_cast<size_t>(high - low + 1) ? std::string("*") : render(bits, low, high);
  };
  std::string minute = field(c.minute, 0, 59), hour = field(c.hour, 0, 23), month = field(c.month, 1, 12);
  // AWS numbers the days of the week 1 (Sunday) to 7 (Saturday).
  std::bitset<8> weekdays;
  for (int d = 0; d < 7; ++d)
    if (c.day_of_week.test(static_cast<size_t>(d)))
      weekdays.set(static_cast<size_t>(d + 1));
  std::string dom = field(c.day_of_month, 1, 31), dow = field(weekdays, 1, 7);
  auto expr = [&](const std::string& day_of_month, const std::string& day_of_week) {
    return "cron(" + minute + " " + hour + " " + day_of_month + " " + month + " " + day_of_week + " *)";
  };
  if (c.dom_restricted && c.dow_restricted)
    return {expr(dom, "?"), expr("?", dow)};
  if (dom == "*")
    return {dow == "*" ? expr("*", "?") : expr("?", dow)};
  if (dow == "*")
    return {expr(dom, "?")};
  // Both restricted, and days must match both: parse_cron refuses the one
  // way to write that ('*/N' beside a restricted other day field).
  throw std::invalid_argument("'" + c.text + "' runs only on days matching both day fields, which AWS cannot say");
}

bool Cron::matches_day(int m, int day, int weekday) const {
  if (!month.test(static_cast<size_t>(m)))
    return false;
  bool dom = day_of_month.test(static_cast<size_t>(day));
  bool dow = day_of_week.test(static_cast<size_t>(weekday));
  if (dom_restricted && dow_restricted)
    return dom || dow;
  return dom && dow;
}

std::string Cron::portable() const {
  static const std::map<std::string, std::string> kMacros = {
      {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
      {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
      {"@hourly", "0 * * * *"}};
  if (auto it = kMacros.find(text); it != kMacros.end())
    return it->second;
  std::istringstream in(text);
  std::vector<std::string> fields;
  for (std::string f; in >> f;)
    fields.push_back(f);
  if (fields.size() == 5 && fields[4].find('7') != std::string::npos)
    fields[4] = day_of_week.all() ? "*" : render(day_of_week, 0, 6);
  std::string out;
  for (const auto& f : fields)
    out += (out.empty() ? "" : " ") + f;
  return out;
}

namespace {

// A day field written "*/N" (N > 1) beside a restricted other day field
// means different days to different schedulers: Vixie cron reads a field
// that starts with '*' as unrestricted and runs the days matching both
// (0 0 */2 * 1: odd-dated Mondays), Kubernetes' controller (robfig/cron)
// drops the star for a step above 1 and runs the days matching either (odd
// days, or Mondays). Refused, with the spelling every scheduler reads alike.
void refuse_ambiguous_days(const std::string& input, const std::vector<std::string>& fields) {
  auto starred_step = [](const std::string& f) {
    if (f.rfind("*/", 0) != 0)
      return false;
    try {
      return std::stoi(f.substr(2)) > 1;
    } catch (const std::exception&) {
      return false;
    }
  };
  auto restricted = [](const std::string& f) { return f != "*" && f != "?" && f.rfind("*/", 0) != 0; };
  for (int k : {2, 4}) {
    int other = k == 2 ? 4 : 2;
    if (!starred_step(fields[k]) || !restricted(fields[other]))
      continue;
    std::vector<std::string> either = fields;
    either[k] = (k == 2 ? "1-31" : "0-6") + fields[k].substr(1);
    std::string spelt;
    for (const auto& f : either)
      spelt += (spelt.empty() ? "" : " ") + f;
    bad(input, "means different days to different schedulers: with '" + fields[k] +
                   "' beside a restricted day " + (k == 2 ? "of the week" : "of the month") +
                   ", Vixie cron runs only the days matching both, Kubernetes' CronJob controller the days matching "
                   "either. Write '" + spelt + "' for the days matching either, the same everywhere (both at once "
                   "has no portable cron)");
  }
}

} // namespace

Cron parse_cron(const std::string& input) {
  Cron cron;
  cron.text = input;
  std::string text = input;
  if (text.rfind("TZ=", 0) == 0 || text.rfind("CRON_TZ=", 0) == 0)
    bad(input, "names its time zone inside the schedule; set 'timezone:' beside it instead");
  if (!text.empty() && text[0] == '@') {
    static const std::map<std::string, std::string> kMacros = {
        {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
        {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
        {"@hourly", "0 * * * *"}};
    auto it = kMacros.find(text);
    if (it == kMacros.end()) {
      if (text == "@reboot")
        bad(input, "runs at a machine's start, which a scheduled job has not; write a cron such as '0 3 * * *'");
      if (text.rfind("@every", 0) == 0)
        bad(input, "is an interval, which GitHub does not read; write a cron ('*/15 * * * *' is every 15 minutes)");
      bad(input, "is not a macro: @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly");
    }
    text = it->second;
  }
  std::istringstream in(text);
  std::vector<std::string> fields;
  for (std::string f; in >> f;)
    fields.push_back(f);
  if (fields.size() != 5)
    bad(input, "has " + std::to_string(fields.size()) + (fields.size() == 1 ? " field; " : " fields; ") + kShape +
                   (fields.size() == 6 ? " (there is no seconds field)" : ""));
  parse_field(input, fields[0], kFields[0], cron.minute);
  parse_field(input, fields[1], kFields[1], cron.hour);
  cron.dom_restricted = parse_field(input, fields[2], kFields[2], cron.day_of_month);
  parse_field(input, fields[3], kFields[3], cron.month);
  cron.dow_restricted = parse_field(input, fields[4], kFields[4], cron.day_of_week);
  refuse_ambiguous_days(input, fields);
  // A schedule that can never fire ("0 0 30 2 *") is a mistake, not a job.
  if (cron.dom_restricted && !cron.dow_restricted) {
    bool any = false;
    for (int m = 1; m <= 12 && !any; ++m)
      for (int d = 1; d <= days_in_month(2024, m) && !any; ++d)
        any = cron.month.test(static_cast<size_t>(m)) && cron.day_of_month.test(static_cast<size_t>(d));
    if (!any)
      bad(input, "never runs: no month it names has the day of the month it names");
  }
  return cron;
}

std::vector<UnixSeconds> next_runs(const Cron& cron, const TimeZone& zone, UnixSeconds after, int count) {
  std::vector<UnixSeconds> out;
  std::int64_t first_day = (after + zone.at(after).utc_offset) / 86400 - 1;
  for (std::int64_t day = first_day; day < first_day + 30 * 366 && static_cast<int>(out.size()) < count; ++day) {
    auto c = civil_from_seconds(day * 86400);
    if (!cron.matches_day(c.month, c.day, c.weekday))
      continue;
    for (int h = 0; h < 24 && static_cast<int>(out.size()) < count; ++h) {
      if (!cron.hour.test(static_cast<size_t>(h)))
        continue;
      for (int m = 0; m < 60 && static_cast<int>(out.size()) < count; ++m) {
        if (!cron.minute.test(static_cast<size_t>(m)))
          continue;
        UnixSeconds local = day * 86400 + h * 3600 + m * 60;
        auto instants = zone.from_local(local);
        UnixSeconds when;
        if (!instants.empty()) {
          when = instants.front();
        } else {
          // In a gap: the transition instant, found between the two offsets.
          UnixSeconds lo = local - 86400, hi = local + 86400;
          int before = zone.at(lo).utc_offset;
          while (hi - lo > 1) {
            UnixSeconds mid = lo + (hi - lo) / 2;
            (zone.at(mid).utc_offset == before && mid + zone.at(mid).utc_offset < local ? lo : hi) = mid;
          }
          when = hi;
        }
        if (when > after && (out.empty() || when > out.back()))
          out.push_back(when);
      }
    }
  }
  return out;
}

} // namespace mlrepo::util
