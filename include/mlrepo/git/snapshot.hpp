#pragma once
// A read-only view of the files git sees: either the tree of a commit, or the
// work tree as git sees it (tracked files still present plus untracked files
// that are not ignored). Discovery runs on either without knowing which.
#include "mlrepo/git/repository.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlrepo::git {

class Snapshot {
public:
  virtual ~Snapshot() = default;

  // Reports every directory holding a regular file named `file_name`, in
  // path order. Directories for which `prune(dir)` is true are not entered.
  // Symbolic links and submodules are never followed.
  virtual std::vector<std::string>
  dirs_containing(std::string_view file_name,
                  const std::function<bool(std::string_view dir)>& prune) const = 0;

  // The content of a regular file, or nullopt when there is none at `path`.
  virtual std::optional<std::string> read(std::string_view path) const = 0;

  // Whether a file or directory exists at `path` ("" is the root).
  virtual bool exists(std::string_view path) const = 0;

  // Where this snapshot comes from, for messages: "the work tree" or "commit 1a2b3c4d".
  virtual std::string where() const = 0;

  // For the work tree: the absolute path of a file other than `path` whose
  // identity decides what read(path) returns (the index, for files outside a
  // sparse checkout); empty when it is `path` itself.
  virtual std::string read_from(std::string_view /*path*/) const { return {}; }
};

// The tree of `commit`.
std::unique_ptr<Snapshot> tree_snapshot(const Repository& repo, const git_oid& commit);

// The work tree as git sees it.
std::unique_ptr<Snapshot> worktree_snapshot(const Repository& repo);

} // namespace mlrepo::git
