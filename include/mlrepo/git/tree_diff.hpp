#pragma once
// A tree-to-tree diff that never opens a subtree whose id is the same on both
// sides, so its cost follows the size of the change, not of the repository
// (libgit2 1.5's git_diff_tree_to_tree reads every tree). Exact renames (same
// blob id) are paired; gitlinks (submodules) are compared by commit id.
#include "mlrepo/git/repository.hpp"

#include <string>
#include <vector>

namespace mlrepo::git {

struct TreeChange {
  enum class Kind { Added, Deleted, Modified, Renamed };
  Kind kind;
  std::string path;     // the new path (the old one for Deleted)
  std::string old_path; // for Renamed
};

std::vector<TreeChange> diff_trees(const Repository& repo, git_tree* old_tree, git_tree* new_tree);

} // namespace mlrepo::git
