#pragma once
// What a build can see, named by git object ids: the same bytes give the same
// id whether they are committed or not, and files the context's .dockerignore
// leaves out do not count. The tree walk is git/'s (VirtualTree); this adds
// the build's rule of what is left out.
#include "mlrepo/git/virtual_tree.hpp"
#include "mlrepo/project/dockerignore.hpp"

#include <string>
#include <vector>

namespace mlrepo::build {

using project::DockerIgnore;

class ContentIds {
public:
  // `dirty` is the work tree against `head` (uncommitted_changes).
  ContentIds(const git::Repository& repo, git_tree* head, const std::vector<git::WorktreeChange>& dirty)
      : tree_(repo, head, dirty) {}

  // The id of what is at `path` (repo-relative; "" is the root), or "absent".
  // `ignore` (may be null) applies below `context` (repo-relative).
  std::string id(const std::string& path, const DockerIgnore* ignore, const std::string& context);

  // Whether the last id() took any uncommitted file in.
  bool last_used_uncommitted() const { return tree_.last_used_uncommitted(); }

private:
  git::VirtualTree tree_;
};

} // namespace mlrepo::build
