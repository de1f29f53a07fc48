#pragma once
// What differs between a commit and the work tree: the question
// `git status` answers (staged, unstaged, and untracked files that are not
// ignored), answered the way git answers it, so its cost follows git's:
//  - commit against index: the index's cache-tree names every unchanged
//    directory's tree, so only directories with staged changes are compared;
//  - index against work tree: one lstat per tracked file (on every core),
//    trusting git's recorded stat data, and hashing content only where stat
//    data differs or is "racily clean" (git's rule);
//  - untracked files: one walk of the directories, where a directory whose
//    listing is cached and unchanged, and whose file names are exactly those
//    the index lists there, is not read at all.
// libgit2 answers instead for indexes the direct reader leaves alone (split,
// sparse). Edits inside a submodule do not count; a moved submodule does.
#include "mlrepo/git/repository.hpp"

#include <string>
#include <vector>

namespace mlrepo::git {

struct WorktreeChange {
  enum class Kind { Added, Deleted, Modified, TypeChanged };
  std::string path;
  Kind kind;
};

// Sorted by path. `cache_file` keeps directory listings between runs (empty:
// no cache).
std::vector<WorktreeChange> worktree_changes(const Repository& repo, const git_oid& commit,
                                             const std::string& cache_file);

} // namespace mlrepo::git
