#pragma once
// Files mlrepo generates into the repository (workflows, manifests): write
// them, or check that they are current, and never touch a file mlrepo did not
// write. A generated file opens with its marker line.
#include <string>
#include <vector>

namespace mlrepo::generated {

struct File {
  std::string path; // repo-relative
  std::string content;
};

struct SyncReport {
  std::vector<std::string> created;   // missing before
  std::vector<std::string> updated;   // stale before
  std::vector<std::string> deleted;   // obsolete: generated, and not wanted now
  std::vector<std::string> unchanged;
  bool in_sync() const { return created.empty() && updated.empty() && deleted.empty(); }
};

struct SyncOptions {
  std::string workdir;
  std::string marker;       // how a generated file begins
  // JSON has no comments: a generated file holds the marker in a field of
  // its own (a description, a tag) rather than opening with it.
  bool marker_anywhere = false;
  bool check = false;       // write nothing: the report says what would change
  // Generated files under `prune_dir` (repo-relative or absolute, spelt as
  // the wanted files begin; recursively when
  // `recursive`) that are not in the set are obsolete, and deleted.
  std::string prune_dir;
  bool recursive = false;
  std::string foreign_hint; // what to do when a wanted path holds a hand-written file
};

// True when `content` opens with `marker`: a hand-written file quoting it
// later is still hand-written.
bool has_marker(const std::string& content, const std::string& marker);

// Throws UsageError, before anything is written, when a wanted path holds a
// file without the marker.
SyncReport sync(const std::vector<File>& files, const SyncOptions& options);

} // namespace mlrepo::generated
