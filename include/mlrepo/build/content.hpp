#pragma once
// What a build can see, named by git object ids: the same bytes give the same
// id whether they are committed or not, and files the context's .dockerignore
// leaves out do not count. A directory's id is the tree id git would write for
// it with uncommitted work in and ignored files out, computed without writing
// anything; where nothing differs from the commit it is the commit's own id.
#include "mlrepo/git/repository.hpp"
#include "mlrepo/git/status.hpp"
#include "mlrepo/project/dockerignore.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mlrepo::build {

using project::DockerIgnore;

class ContentIds {
public:
  // `dirty` is the work tree against `head` (uncommitted_changes).
  ContentIds(const git::Repository& repo, git_tree* head, const std::vector<git::WorktreeChange>& dirty);

  // The id of what is at `path` (repo-relative; "" is the root), or "absent".
  // `ignore` (may be null) applies below `context` (repo-relative).
  std::string id(const std::string& path, const DockerIgnore* ignore, const std::string& context);

  // Whether the last id() took any uncommitted file in.
  bool last_used_uncommitted() const { return used_uncommitted_; }

private:
  struct Entry {
    uint32_t mode;
    git_oid id;
  };
  std::optional<Entry> tree_id(const std::string& path, git_tree* tree, const DockerIgnore* ignore,
                               const std::string& context);
  std::optional<Entry> overlay_of(const std::string& path);
  bool ignored(const std::string& path, const DockerIgnore* ignore, const std::string& context) const;
  // An ignored directory is still walked when an exception may bring back
  // something below it.
  bool skipped_dir(const std::string& path, const DockerIgnore* ignore, const std::string& context) const;

  const git::Repository& repo_;
  git_tree* head_;
  // Uncommitted paths: their new mode and blob id, or nullopt when deleted.
  std::map<std::string, std::optional<Entry>> overlay_;
  bool used_uncommitted_ = false;
};

} // namespace mlrepo::build
