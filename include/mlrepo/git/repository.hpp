#pragma once
// The libgit2 calls mlrepo makes, behind a small value-typed interface.
#include "mlrepo/git/handles.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mlrepo::git {

class Repository {
public:
  // Opens the repository containing `start` (searching upward, like git).
  // Throws EnvironmentError (exit 3) when there is none.
  static Repository discover(const std::filesystem::path& start);

  git_repository* raw() const { return repo_.get(); }
  // Absolute work tree root, ending without '/'. Empty for a bare repository.
  const std::string& workdir() const { return workdir_; }
  bool is_shallow() const;

  // Resolves a revision expression to a commit. nullopt when it names nothing.
  std::optional<git_oid> resolve_commit(const std::string& rev) const;
  // Like resolve_commit but throws: exit 2 naming `rev` when it is unknown, or
  // exit 3 with what to fetch when the clone is shallow.
  git_oid require_commit(const std::string& rev, const std::string& role) const;

  // The merge-base of two commits; nullopt when the histories share none.
  // Throws MissingHistoryError when history needed for the answer is missing.
  // In a shallow clone the walk stops at the shallow boundary, as git's does.
  std::optional<git_oid> merge_base(const git_oid& a, const git_oid& b) const;

  // Whether `ancestor` is `commit` or one of its ancestors; nullopt when a
  // shallow clone lacks the history to tell.
  std::optional<bool> contains(const git_oid& commit, const git_oid& ancestor) const;

  // Whether `rev` failing to resolve may be history this shallow clone lacks
  // (an object id, or ancestry of a known revision) rather than a typo.
  bool may_be_beyond_shallow(const std::string& rev) const;

  TreePtr commit_tree(const git_oid& commit) const;
  git_oid commit_tree_id(const git_oid& commit) const;
  bool head_is_unborn() const;

  // What to run to get an unknown revision here, spelled for what it looks
  // like (`origin/x`, a commit id, a branch or tag name).
  std::string fetch_hint(std::string rev) const;

  // Whether a reference (full name) exists.
  bool has_reference(const std::string& name) const;
  // Names of the references matching a glob ("refs/tags/*/v*"), sorted.
  std::vector<std::string> reference_names(const std::string& glob) const;
  // An annotated tag on `commit`, tagged by `tagger` ({name, email}) or, when
  // that is empty, by git's own user.name/user.email. Fails if it exists.
  void create_annotated_tag(const std::string& name, const git_oid& commit, const std::string& message,
                            const std::pair<std::string, std::string>& tagger) const;
  // Removes refs/tags/<name>; false when there was none.
  bool delete_tag(const std::string& name) const;
  // The target of a symbolic reference, e.g. refs/remotes/origin/HEAD.
  std::optional<std::string> symbolic_target(const std::string& name) const;
  // The URL of the remote `name` ("origin"), as configured; nullopt without one.
  std::optional<std::string> remote_url(const std::string& name) const;
  // The .git directory (where mlrepo keeps its caches and logs), ending in '/'.
  std::string git_dir() const;
  // A commit's committer time, in seconds since the epoch.
  std::int64_t commit_time(const git_oid& commit) const;

private:
  explicit Repository(RepositoryPtr repo);
  std::optional<git_oid> shallow_merge_base(const git_oid& a, const git_oid& b) const;
  RepositoryPtr repo_;
  std::string workdir_;
};

// A file's content by object id. `path` and `where` ("commit 1a2b3c") name it
// in errors; in a partial clone a missing blob is a MissingHistoryError (exit
// 3) that says how to fetch it, since libgit2 cannot.
std::string read_blob_at(git_repository* repo, const git_oid& id, std::string_view path,
                         std::string_view where);

} // namespace mlrepo::git
