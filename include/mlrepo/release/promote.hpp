#pragma once
// `mlrepo promote` and `mlrepo release` as core APIs: add tags to images that
// are already in the registry by copying their manifests there (no pull, no
// build, the digest unchanged), and cut releases as `<name>/v<VERSION>` tags.
#include "mlrepo/changes/selection.hpp"
#include "mlrepo/git/repository.hpp"
#include "mlrepo/registry/client.hpp"
#include "mlrepo/release/semver.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mlrepo::release {

enum class PromoteStatus { Promoted, Planned, Missing, Failed };
const char* status_name(PromoteStatus s);

struct PromoteResult {
  std::string name;
  std::string image;                // the content-tagged reference that was looked up
  std::string digest;               // of that image, when found
  std::vector<std::string> tags;    // full references it gets
  std::vector<std::string> written; // those stored so far
  PromoteStatus status = PromoteStatus::Failed;
  std::string error, hint;
};

struct PromoteOptions {
  std::vector<std::string> projects; // names or paths
  bool changed = false;
  changes::SelectionOptions selection;
  bool all = false;
  // Leave out projects with `ci.enabled: false` (the generated matrix
  // workflow builds none of them, so there is nothing to promote).
  bool ci_only = false;
  std::vector<std::string> tags; // templates: {branch}, {short_sha}
  bool dry_run = false;
  bool release = false;           // tags from a `<name>/v<VERSION>` git tag
  std::optional<std::string> ref; // that tag (refs/tags/...); else GITHUB_REF
  std::string cwd;
  registry::ClientOptions client;
  std::function<void(const PromoteResult&)> on_result; // as each project finishes
};

struct PromoteOutcome {
  std::string commit; // whose images were promoted
  std::string release; // --release: the version ("1.2.0")
  std::vector<PromoteResult> results;
  bool any_failed() const;
};

PromoteOutcome run_promote(const git::Repository& repo, const PromoteOptions& options,
                           const changes::EnvLookup& env, registry::CredentialSource& credentials);

struct ReleaseOptions {
  std::string project; // name or path
  std::string version;
  bool push = false;
  std::string cwd;
  registry::ClientOptions client;
};

struct ReleaseOutcome {
  std::string tag;    // <name>/v<VERSION>
  std::string commit;
  std::string image;  // the content-tagged image the release will promote
  std::string digest;
  std::vector<std::string> image_tags; // what CI's 'promote --release' will give the image
  bool pushed = false;
};

ReleaseOutcome run_release(const git::Repository& repo, const ReleaseOptions& options,
                           const changes::EnvLookup& env, registry::CredentialSource& credentials,
                           util::ProcessRunner& runner);

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
