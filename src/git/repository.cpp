#include "mlrepo/git/repository.hpp"

#include "mlrepo/util/error.hpp"

namespace mlrepo::git {

std::string last_error_message() {
  const git_error* e = git_error_last();
  return (e && e->message) ? e->message : "unknown libgit2 error";
}

void check(int rc, const std::string& what) {
  if (rc < 0)
    throw EnvironmentError(what + ": " + last_error_message());
}

std::string oid_hex(const git_oid& oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof buf, &oid);
  return buf;
}

Repository::Repository(RepositoryPtr repo) : repo_(std::move(repo)) {
  if (const char* wd = git_repository_workdir(repo_.get())) {
    workdir_ = wd;
    while (workdir_.size() > 1 && workdir_.back() == '/')
      workdir_.pop_back();
  }
}

Repository Repository::discover(const std::filesystem::path& start) {
  std::error_code ec;
  if (!std::filesystem::is_directory(start, ec))
    throw UsageError("'" + start.string() + "' is not a directory",
                     "pass an existing directory to -C/--repo");
  git_repository* raw = nullptr;
  int rc = git_repository_open_ext(&raw, start.c_str(), 0, nullptr);
  RepositoryPtr repo(raw);
  if (rc < 0)
    throw EnvironmentError("'" + start.string() + "' is not inside a git repository",
                           "run mlrepo inside your monorepo's work tree, pass -C DIR, or "
                           "create one with 'git init'");
  if (git_repository_is_bare(repo.get()))
    throw EnvironmentError("'" + start.string() + "' is a bare repository",
                           "run mlrepo in a work tree (git clone without --bare)");
  return Repository(std::move(repo));
}

bool Repository::is_shallow() const { return git_repository_is_shallow(repo_.get()) == 1; }

bool Repository::head_is_unborn() const { return git_repository_head_unborn(repo_.get()) == 1; }

std::optional<git_oid> Repository::resolve_commit(const std::string& rev) const {
  git_object* raw = nullptr;
  if (git_revparse_single(&raw, repo_.get(), rev.c_str()) < 0)
    return std::nullopt;
  ObjectPtr obj(raw);
  git_object* peeled = nullptr;
  if (git_object_peel(&peeled, obj.get(), GIT_OBJECT_COMMIT) < 0)
    return std::nullopt;
  ObjectPtr commit(peeled);
  return *git_object_id(commit.get());
}

git_oid Repository::require_commit(const std::string& rev, const std::string& role) const {
  if (auto oid = resolve_commit(rev))
    return *oid;
  if (is_shallow())
    throw EnvironmentError(
        "the " + role + " revision '" + rev + "' is not in this shallow clone",
        "fetch more history: 'git fetch --deepen=100' or 'git fetch --unshallow', or in GitHub "
        "Actions set 'fetch-depth: 0' on actions/checkout");
  if (rev == "HEAD" && head_is_unborn())
    throw UsageError("the repository has no commits yet (HEAD is unborn)",
                     "commit something first, or use 'mlrepo list' to see the work tree");
  throw UsageError("unknown " + role + " revision '" + rev + "'",
                   "check the spelling, or fetch it: 'git fetch origin " + rev + "'");
}

std::optional<git_oid> Repository::merge_base(const git_oid& a, const git_oid& b) const {
  git_oid out;
  int rc = git_merge_base(&out, repo_.get(), &a, &b);
  if (rc == GIT_ENOTFOUND && !is_shallow())
    return std::nullopt;
  if (rc < 0) {
    // libgit2 1.5 does not understand shallow grafts: a walk that reaches the
    // shallow boundary fails (or finds nothing). Either way the true answer is
    // not knowable from this clone.
    if (is_shallow())
      throw EnvironmentError(
          "cannot find the merge-base of " + oid_hex(a).substr(0, 12) + " and " +
              oid_hex(b).substr(0, 12) + ": this clone is shallow and lacks the history",
          "fetch more history: 'git fetch --unshallow' (or '--deepen=N'), or in GitHub Actions "
          "set 'fetch-depth: 0' on actions/checkout");
    check(rc, "cannot compute a merge-base");
  }
  return out;
}

TreePtr Repository::commit_tree(const git_oid& oid) const {
  git_commit* raw = nullptr;
  check(git_commit_lookup(&raw, repo_.get(), &oid), "cannot read commit " + oid_hex(oid));
  CommitPtr commit(raw);
  git_tree* tree = nullptr;
  check(git_commit_tree(&tree, commit.get()), "cannot read the tree of commit " + oid_hex(oid));
  return TreePtr(tree);
}

bool Repository::has_reference(const std::string& name) const {
  git_reference* raw = nullptr;
  if (git_reference_lookup(&raw, repo_.get(), name.c_str()) < 0)
    return false;
  git_reference_free(raw);
  return true;
}

std::optional<std::string> Repository::symbolic_target(const std::string& name) const {
  git_reference* raw = nullptr;
  if (git_reference_lookup(&raw, repo_.get(), name.c_str()) < 0)
    return std::nullopt;
  ReferencePtr ref(raw);
  if (git_reference_type(ref.get()) != GIT_REFERENCE_SYMBOLIC)
    return std::nullopt;
  return std::string(git_reference_symbolic_target(ref.get()));
}

std::string Repository::read_blob(const git_oid& oid) const {
  git_blob* raw = nullptr;
  check(git_blob_lookup(&raw, repo_.get(), &oid), "cannot read blob " + oid_hex(oid));
  BlobPtr blob(raw);
  auto size = static_cast<size_t>(git_blob_rawsize(blob.get()));
  return std::string(static_cast<const char*>(git_blob_rawcontent(blob.get())), size);
}

} // namespace mlrepo::git
