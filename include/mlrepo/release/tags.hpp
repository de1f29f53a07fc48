#pragma once
// Release tags, `<name>/v<VERSION>` in git: what they name, which exist, and
// which commit a new one may go on.
#include "mlrepo/git/repository.hpp"
#include "mlrepo/release/semver.hpp"

#include <map>
#include <string>
#include <vector>

namespace mlrepo::release {

// A release tag's parts: "refs/tags/churn/v1.2.0" or "churn/v1.2.0".
struct ReleaseRef {
  std::string project;
  Version version;
};
// Throws UsageError naming the ref when it is not `<name>/v<SemVer>`.
ReleaseRef parse_release_ref(const std::string& ref);

// Each project's highest released version by SemVer precedence, from its
// `<name>/v*` tags: name -> version.
std::map<std::string, std::string> latest_releases(const git::Repository& repo);
// Throws UsageError when `commit` already contains (is, or descends from) a
// release of `project` higher than `version`: a patch of an older line cut
// there would give that line's tags the newer line's image. Tags whose
// commits this clone lacks cannot be checked and are left out.
void refuse_release_over_newer(const git::Repository& repo, const std::string& project, const Version& version,
                               const git_oid& commit);

// Every release of each project, from its `<name>/v*` tags: name -> versions.
std::map<std::string, std::vector<Version>> released_versions(const git::Repository& repo);

} // namespace mlrepo::release
