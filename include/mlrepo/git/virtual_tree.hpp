#pragma once
// Ids of what a directory would be with uncommitted work in and some paths
// left out, named as git would name them: the tree id git would write, with
// nothing written. Where nothing differs from the commit it is the commit's
// own id. build/ uses it for what a build sees (.dockerignore as the filter).
#include "mlrepo/git/repository.hpp"
#include "mlrepo/git/status.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mlrepo::git {

// Which paths an id leaves out (repo-relative paths).
class PathFilter {
public:
  virtual ~PathFilter() = default;
  // False: nothing at or below `dir` is left out, so its id is taken whole.
  virtual bool may_apply(const std::string& dir) const = 0;
  virtual bool skip_file(const std::string& path) const = 0;
  // A left-out directory may still be walked when something below it can
  // come back (an exception rule): then this is false.
  virtual bool skip_dir(const std::string& path) const = 0;
};

class VirtualTree {
public:
  // `dirty` is the work tree against `head` (uncommitted_changes).
  VirtualTree(const Repository& repo, git_tree* head, const std::vector<WorktreeChange>& dirty);

  // The id of what is at `path` ("" is the root), or "absent"; `filter` may be null.
  std::string id(const std::string& path, const PathFilter* filter);
  // Whether the last id() took any uncommitted file in.
  bool last_used_uncommitted() const { return used_uncommitted_; }

private:
  struct Entry {
    uint32_t mode;
    git_oid id;
  };
  std::optional<Entry> tree_id(const std::string& path, git_tree* tree, const PathFilter* filter);
  std::optional<Entry> overlay_of(const std::string& path);

  const Repository& repo_;
  git_tree* head_;
  // Uncommitted paths: their new mode and blob id, or nullopt when deleted.
  std::map<std::string, std::optional<Entry>> overlay_;
  bool used_uncommitted_ = false;
};

} // namespace mlrepo::git
