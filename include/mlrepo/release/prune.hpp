#pragma once
// `mlrepo prune` as a core API: registry retention. Deletes, through the
// registry API, the images of each project that only content and commit tags
// name, keeping the newest, the young, everything a release or another tag
// names, and every image a kept dependent was built FROM.
#include "mlrepo/changes/selection.hpp"
#include "mlrepo/git/repository.hpp"
#include "mlrepo/registry/client.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mlrepo {
class Tools;
}

namespace mlrepo::release {

// One image (manifest digest) of a project's repository.
struct PruneImage {
  std::string digest;
  std::vector<std::string> tags; // every tag naming this digest, sorted
  std::string created;           // org.opencontainers.image.created ("" when absent)
  std::int64_t created_at = 0;   // Unix seconds; 0 when unknown
  std::string keep;              // why it stays; empty: it goes
  bool deleted = false;          // the real run deleted it
};

struct PruneProject {
  std::string name;
  std::string repository; // registry/path, no tag
  bool removed = false;   // gone from the default branch (--removed)
  std::vector<PruneImage> images; // newest first
};

struct PruneOptions {
  std::vector<std::string> projects; // names or paths
  bool all = false;
  bool removed = false;
  std::optional<int> keep_last;                   // else the workspace's prune.keep_last
  std::optional<std::int64_t> older_than_seconds; // else prune.older_than
  bool dry_run = false;
  std::string cwd;
  std::int64_t now = 0; // Unix seconds; 0: the clock
  registry::ClientOptions client;
  std::function<void(const PruneProject&, const PruneImage&)> on_deleted; // as each deletion lands
};

struct PruneOutcome {
  std::string commit; // the default branch's, whose projects and config were read
  std::string default_branch;
  int keep_last = 0;
  std::int64_t older_than_seconds = 0;
  bool dry_run = false;
  std::vector<PruneProject> projects;
};

// Throws registry::DeleteUnsupported when the registry refuses deletes (no
// image of that call is half-deleted: each deletion is one request), and
// Error for the rest; what was deleted before is in the callback's record.
PruneOutcome run_prune(const git::Repository& repo, const PruneOptions& options, Tools& tools);

// The tags prune may remove: content-<hash>, <40-hex commit> and <commit>-dirty.
bool prunable_tag(const std::string& tag);

} // namespace mlrepo::release
