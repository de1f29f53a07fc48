#include "mlrepo/release/tags.hpp"

#include "mlrepo/util/error.hpp"

namespace mlrepo::release {

ReleaseRef parse_release_ref(const std::string& ref) {
  std::string name = ref.rfind("refs/tags/", 0) == 0 ? ref.substr(10) : ref;
  auto slash = name.rfind("/v");
  if (ref.rfind("refs/", 0) == 0 && ref.rfind("refs/tags/", 0) != 0)
    slash = std::string::npos;
  if (slash == std::string::npos || slash == 0)
    throw UsageError("'" + ref + "' is not a release tag (refs/tags/<project>/v<VERSION>)",
                     "run 'mlrepo promote --release' on a tag 'mlrepo release' made, or pass --ref "
                     "refs/tags/<project>/v<VERSION>");
  std::string why;
  auto version = parse_version(name.substr(slash + 2), &why);
  if (!version)
    throw UsageError("the release tag '" + ref + "' does not end in a SemVer version: " + why,
                     "release tags are <project>/v<MAJOR.MINOR.PATCH>, e.g. churn-model/v1.2.0");
  return {name.substr(0, slash), *version};
}

void refuse_release_over_newer(const git::Repository& repo, const std::string& project, const Version& version,
                               const git_oid& commit) {
  std::optional<Version> line_latest; // the line's own latest release, for the hint
  auto released = released_versions(repo);
  for (const auto& v : released[project])
    if (v.major == version.major && v.minor == version.minor && compare(v, version) < 0 &&
        (!line_latest || compare(v, *line_latest) > 0))
      line_latest = v;
  for (const auto& ref : repo.reference_names("refs/tags/" + project + "/v*")) {
    auto v = parse_version(std::string_view(ref).substr(ref.rfind("/v") + 2));
    if (!v || compare(*v, version) <= 0)
      continue;
    auto at = repo.resolve_commit(ref);
    if (!at)
      continue;
    if (repo.contains(commit, *at) != true)
      continue; // no, or beyond a shallow clone's history: cannot be told here
    std::string line = std::to_string(version.major) + "." + std::to_string(version.minor);
    std::string from = line_latest ? project + "/v" + line_latest->str() : ref.substr(10);
    throw UsageError(project + " " + version.str() + " would be cut from commit " + git::oid_hex(commit).substr(0, 12) +
                         ", which already contains the release " + ref.substr(10) + ": its image is the newer " +
                         "line's, and the " + line + " tag would point at it",
                     "cut " + line + ".x from a branch off " + from + ": 'git switch -c " + project + "-" + line +
                         " " + from + "', commit the fix there, then release " + version.str() + " from that branch");
  }
}

std::map<std::string, std::vector<Version>> released_versions(const git::Repository& repo) {
  std::map<std::string, std::vector<Version>> out;
  for (const auto& ref : repo.reference_names("refs/tags/*/v*")) {
    auto slash = ref.rfind("/v");
    if (slash == std::string::npos || slash <= 10)
      continue;
    if (auto version = parse_version(std::string_view(ref).substr(slash + 2)))
      out[ref.substr(10, slash - 10)].push_back(*version);
  }
  return out;
}

std::map<std::string, std::string> latest_releases(const git::Repository& repo) {
  std::map<std::string, std::string> out;
  for (const auto& [project, versions] : released_versions(repo)) {
    const Version* best = nullptr;
    for (const auto& v : versions)
      if (!best || compare(*best, v) < 0)
        best = &v;
    out[project] = best->str();
  }
  return out;
}

} // namespace mlrepo::release
