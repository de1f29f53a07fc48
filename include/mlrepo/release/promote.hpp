#pragma once
// `mlrepo promote` as a core API: add tags to images that are already in the
// registry by copying their manifests there (no pull, no build, the digest
// unchanged).
#include "mlrepo/changes/selection.hpp"
#include "mlrepo/git/repository.hpp"
#include "mlrepo/registry/client.hpp"
#include "mlrepo/release/semver.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mlrepo {
class Tools;
}

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
  std::optional<std::string> ref; // that tag (refs/tags/...); else the run context's ref
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

PromoteOutcome run_promote(const git::Repository& repo, const PromoteOptions& options, Tools& tools);

} // namespace mlrepo::release
