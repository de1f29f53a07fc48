#include "mlrepo/release/semver.hpp"

#include <algorithm>
#include <cctype>

namespace mlrepo::release {
namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos)
      return out;
    start = end + 1;
  }
}

bool identifier_ok(std::string_view id, bool numeric_no_leading_zero, std::string* why, const char* part) {
  if (id.empty()) {
    if (why)
      *why = std::string("an empty ") + part + " identifier";
    return false;
  }
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') {
      if (why)
        *why = std::string("'") + c + "' in the " + part + " (only letters, digits and '-')";
      return false;
    }
  if (numeric_no_leading_zero && all_digits(id) && id.size() > 1 && id[0] == '0') {
    if (why)
      *why = std::string("a leading zero in the ") + part + " identifier '" + std::string(id) + "'";
    return false;
  }
  return true;
}

} // namespace

std::string Version::str() const {
  std::string s = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  if (!prerelease.empty())
    s += "-" + prerelease;
  if (!build.empty())
    s += "+" + build;
  return s;
}

std::optional<Version> parse_version(std::string_view text, std::string* why) {
  Version v;
  std::string_view rest = text;
  if (auto plus = rest.find('+'); plus != std::string_view::npos) {
    v.build = std::string(rest.substr(plus + 1));
    for (auto id : split(v.build, '.'))
      if (!identifier_ok(id, false, why, "build metadata"))
        return std::nullopt;
    rest = rest.substr(0, plus);
  }
  if (auto dash = rest.find('-'); dash != std::string_view::npos) {
    v.prerelease = std::string(rest.substr(dash + 1));
    for (auto id : split(v.prerelease, '.'))
      if (!identifier_ok(id, true, why, "pre-release"))
        return std::nullopt;
    rest = rest.substr(0, dash);
  }
  auto parts = split(rest, '.');
  if (parts.size() != 3) {
    if (why)
      *why = "not MAJOR.MINOR.PATCH";
    return std::nullopt;
  }
  unsigned long* fields[] = {&v.major, &v.minor, &v.patch};
  for (size_t i = 0; i < 3; ++i) {
    if (!all_digits(parts[i]) || parts[i].size() > 9) {
      if (why)
        *why = "'" + std::string(parts[i]) + "' is not a number (MAJOR.MINOR.PATCH, e.g. 1.2.3)";
      return std::nullopt;
    }
    if (parts[i].size() > 1 && parts[i][0] == '0') {
      if (why)
        *why = "a leading zero in '" + std::string(parts[i]) + "'";
      return std::nullopt;
    }
    *fields[i] = std::stoul(std::string(parts[i]));
  }
  return v;
}

int compare(const Version& a, const Version& b) {
  auto cmp = [](unsigned long x, unsigned long y) { return x < y ? -1 : x > y ? 1 : 0; };
  if (int c = cmp(a.major, b.major))
    return c;
  if (int c = cmp(a.minor, b.minor))
    return c;
  if (int c = cmp(a.patch, b.patch))
    return c;
  if (a.prerelease.empty() || b.prerelease.empty())
    return a.prerelease.empty() == b.prerelease.empty() ? 0 : (a.prerelease.empty() ? 1 : -1);
  auto xa = split(a.prerelease, '.'), xb = split(b.prerelease, '.');
  for (size_t i = 0; i < std::min(xa.size(), xb.size()); ++i) {
    bool na = all_digits(xa[i]), nb = all_digits(xb[i]);
    if (na && nb) {
      if (xa[i].size() != xb[i].size())
        return xa[i].size() < xb[i].size() ? -1 : 1;
    } else if (na != nb) {
      return na ? -1 : 1; // numeric identifiers sort first
    }
    if (int c = xa[i].compare(xb[i]))
      return c < 0 ? -1 : 1;
  }
  return cmp(xa.size(), xb.size());
}

std::string version_tag(const Version& v) {
  std::string version = v.str();
  std::replace(version.begin(), version.end(), '+', '-');
  return version;
}

std::vector<std::string> release_tags(const Version& v, const std::vector<Version>& released) {
  std::vector<std::string> tags{version_tag(v)};
  if (v.is_prerelease())
    return tags;
  // Is anything released that outranks v in the line `same` picks?
  auto outranked = [&](auto same) {
    return std::any_of(released.begin(), released.end(), [&](const Version& r) {
      return !r.is_prerelease() && same(r) && compare(r, v) > 0;
    });
  };
  if (!outranked([&](const Version& r) { return r.major == v.major && r.minor == v.minor; }))
    tags.push_back(std::to_string(v.major) + "." + std::to_string(v.minor));
  if (!outranked([&](const Version& r) { return r.major == v.major; }))
    tags.push_back(std::to_string(v.major));
  if (!outranked([](const Version&) { return true; }))
    tags.push_back("latest");
  return tags;
}

} // namespace mlrepo::release
