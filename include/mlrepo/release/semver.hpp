#pragma once
// Semantic versions (semver.org 2.0.0) as release tags use them.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlrepo::release {

struct Version {
  unsigned long major = 0, minor = 0, patch = 0;
  std::string prerelease; // "rc.1", empty for a release
  std::string build;      // after '+', empty when none
  std::string str() const;
  bool is_prerelease() const { return !prerelease.empty(); }
};

// nullopt when `text` is not SemVer; `why` says which rule failed.
std::optional<Version> parse_version(std::string_view text, std::string* why = nullptr);

// SemVer precedence: -1, 0 or 1 (build metadata ignored).
int compare(const Version& a, const Version& b);

// The image tags release `v` gets, given every release of its project
// (`v` may be among them): VERSION always; MAJOR.MINOR, MAJOR and latest only
// when `v` is the highest release of that line (of the project, for latest),
// pre-releases excluded, so that no moving tag ever goes back, and none
// moves to a release candidate.
std::vector<std::string> release_tags(const Version& v, const std::vector<Version>& released);

// A version's image tag: '+' is not allowed in a Docker tag.
std::string version_tag(const Version& v);

} // namespace mlrepo::release
