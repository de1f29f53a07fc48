#include "mlrepo/git/repository.hpp"

#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"

#include <algorithm>
#include <unordered_set>

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

bool same(const git_oid& a, const git_oid& b) { return git_oid_equal(&a, &b) != 0; }

std::string blob_hash(std::string_view bytes) {
  git_oid oid;
  check(git_odb_hash(&oid, bytes.data(), bytes.size(), GIT_OBJECT_BLOB), "cannot hash");
  return oid_hex(oid);
}

std::string file_blob_hash(const std::string& path) {
  git_oid oid;
  check(git_odb_hashfile(&oid, path.c_str(), GIT_OBJECT_BLOB), "cannot read " + path + " to hash it");
  return oid_hex(oid);
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

bool Repository::may_be_beyond_shallow(const std::string& rev) const {
  if (!is_shallow())
    return false;
  bool hex = rev.size() >= 4 && rev.size() <= GIT_OID_HEXSZ &&
             rev.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
  if (hex)
    return true;
  // HEAD~5 or main^2: missing when the name resolves and the walk does not.
  size_t walk = rev.find_first_of("~^");
  return walk != std::string::npos && walk > 0 && resolve_commit(rev.substr(0, walk)).has_value();
}

// The fetch that would bring `rev` here, spelled for what it looks like:
// `origin/main` is branch main of remote origin, not a branch named origin/main.
std::string Repository::fetch_hint(std::string rev) const {
  git_repository* repo = raw();
  if (rev.rfind("refs/remotes/", 0) == 0)
    rev = rev.substr(13);
  auto has_remote = [&](const std::string& name) {
    git_remote* remote = nullptr;
    if (git_remote_lookup(&remote, repo, name.c_str()) != 0)
      return false;
    git_remote_free(remote);
    return true;
  };
  auto slash = rev.find('/');
  if (slash != std::string::npos && slash > 0) {
    std::string name = rev.substr(0, slash);
    if (has_remote(name))
      return "check the spelling, or fetch it: 'git fetch " + name + " " + rev.substr(slash + 1) + "'";
    if (name == "origin")
      return "this repository has no remote 'origin' ('git remote -v' lists its remotes)";
  }
  if (!has_remote("origin"))
    return "check the spelling ('git branch -a' and 'git tag' list what exists here)";
  bool hex = rev.size() >= 7 && rev.find_first_not_of("0123456789abcdef") == std::string::npos;
  if (hex)
    return "check the commit id, or fetch it: 'git fetch origin " + rev + "'";
  return "check the spelling; a branch of origin is 'origin/" + rev + "' after 'git fetch origin " + rev +
         "', a tag comes with 'git fetch origin tag " + rev + "'";
}

git_oid Repository::require_commit(const std::string& rev, const std::string& role) const {
  if (auto oid = resolve_commit(rev))
    return *oid;
  if (may_be_beyond_shallow(rev))
    throw MissingHistoryError(
        "the " + role + " revision '" + rev + "' is not in this shallow clone",
        "fetch more history: 'git fetch --deepen=100' or 'git fetch --unshallow', or in GitHub "
        "Actions set 'fetch-depth: 0' on actions/checkout");
  if (rev == "HEAD" && head_is_unborn())
    throw UsageError("the repository has no commits yet (HEAD is unborn)",
                     "commit something first, or use 'mlrepo list' to see the work tree");
  throw UsageError("unknown " + role + " revision '" + rev + "'", fetch_hint(rev));
}

namespace {

// The commits git cut the history at: listed in the shallow file, their
// parents are not here.
std::unordered_set<std::string> shallow_roots(git_repository* repo) {
  std::unordered_set<std::string> out;
  auto content = util::read_file(std::string(git_repository_commondir(repo)) + "shallow");
  if (!content)
    return out;
  size_t start = 0;
  while (start < content->size()) {
    size_t nl = content->find('\n', start);
    if (nl == std::string::npos)
      nl = content->size();
    if (nl > start)
      out.insert(content->substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

} // namespace

// libgit2 1.5 does not read the shallow file: its walks fail at the boundary.
// This walk treats boundary commits as roots, as git does: every ancestor of
// `a`, then the commits of `b`'s history first found in that set, minus those
// that are ancestors of another one found.
std::optional<git_oid> Repository::shallow_merge_base(const git_oid& a, const git_oid& b) const {
  auto roots = shallow_roots(repo_.get());
  bool reached_boundary = false;
  auto parents = [&](const git_oid& id) {
    std::vector<git_oid> out;
    std::string hex = oid_hex(id);
    if (roots.count(hex)) {
      reached_boundary = true;
      return out;
    }
    git_commit* raw = nullptr;
    if (git_commit_lookup(&raw, repo_.get(), &id) < 0)
      throw MissingHistoryError("commit " + hex.substr(0, 12) + " is not in this shallow clone",
                                "fetch more history: 'git fetch --unshallow' (or '--deepen=N'), or in "
                                "GitHub Actions set 'fetch-depth: 0' on actions/checkout");
    CommitPtr commit(raw);
    for (unsigned i = 0, n = git_commit_parentcount(commit.get()); i < n; ++i)
      out.push_back(*git_commit_parent_id(commit.get(), i));
    return out;
  };
  auto ancestors = [&](const git_oid& start, std::unordered_set<std::string>& seen) {
    std::vector<git_oid> todo{start};
    while (!todo.empty()) {
      git_oid id = todo.back();
      todo.pop_back();
      if (!seen.insert(oid_hex(id)).second)
        continue;
      for (const auto& p : parents(id))
        todo.push_back(p);
    }
  };
  std::unordered_set<std::string> of_a;
  ancestors(a, of_a);
  // Walk b's history, stopping at the first common commits on each path.
  std::vector<git_oid> common;
  std::unordered_set<std::string> seen;
  std::vector<git_oid> todo{b};
  while (!todo.empty()) {
    git_oid id = todo.back();
    todo.pop_back();
    std::string hex = oid_hex(id);
    if (!seen.insert(hex).second)
      continue;
    if (of_a.count(hex)) {
      common.push_back(id);
      continue;
    }
    for (const auto& p : parents(id))
      todo.push_back(p);
  }
  if (common.empty()) {
    if (reached_boundary)
      throw MissingHistoryError(
          "cannot find the merge-base of " + oid_hex(a).substr(0, 12) + " and " +
              oid_hex(b).substr(0, 12) + ": this clone is shallow and lacks the history",
          "fetch more history: 'git fetch --unshallow' (or '--deepen=N'), or in GitHub Actions "
          "set 'fetch-depth: 0' on actions/checkout");
    return std::nullopt;
  }
  // The best: a common commit no other common commit descends from.
  for (size_t i = 0; i < common.size(); ++i) {
    bool below_another = false;
    for (size_t j = 0; j < common.size() && !below_another; ++j) {
      if (i == j)
        continue;
      std::unordered_set<std::string> above;
      ancestors(common[j], above);
      below_another = above.count(oid_hex(common[i])) > 0;
    }
    if (!below_another)
      return common[i];
  }
  return common.front();
}

std::optional<git_oid> Repository::merge_base(const git_oid& a, const git_oid& b) const {
  if (is_shallow())
    return shallow_merge_base(a, b);
  git_oid out;
  int rc = git_merge_base(&out, repo_.get(), &a, &b);
  if (rc == GIT_ENOTFOUND)
    return std::nullopt;
  check(rc, "cannot compute a merge-base");
  return out;
}

std::optional<bool> Repository::contains(const git_oid& commit, const git_oid& ancestor) const {
  try {
    auto base = merge_base(commit, ancestor);
    return base && git_oid_equal(&*base, &ancestor) != 0;
  } catch (const MissingHistoryError&) {
    return std::nullopt;
  }
}

TreePtr Repository::commit_tree(const git_oid& oid) const {
  git_commit* raw = nullptr;
  check(git_commit_lookup(&raw, repo_.get(), &oid), "cannot read commit " + oid_hex(oid));
  CommitPtr commit(raw);
  git_tree* tree = nullptr;
  check(git_commit_tree(&tree, commit.get()), "cannot read the tree of commit " + oid_hex(oid));
  return TreePtr(tree);
}

git_oid Repository::commit_tree_id(const git_oid& commit) const { return *git_tree_id(commit_tree(commit).get()); }

bool Repository::has_reference(const std::string& name) const {
  git_reference* raw = nullptr;
  if (git_reference_lookup(&raw, repo_.get(), name.c_str()) < 0)
    return false;
  git_reference_free(raw);
  return true;
}

std::vector<std::string> Repository::reference_names(const std::string& glob) const {
  std::vector<std::string> out;
  git_reference_iterator* raw = nullptr;
  if (git_reference_iterator_glob_new(&raw, repo_.get(), glob.c_str()) < 0)
    return out;
  ReferenceIteratorPtr it(raw);
  const char* name = nullptr;
  while (git_reference_next_name(&name, it.get()) == 0)
    out.emplace_back(name);
  std::sort(out.begin(), out.end());
  return out;
}

void Repository::create_annotated_tag(const std::string& name, const git_oid& commit, const std::string& message,
                                      const std::pair<std::string, std::string>& tagger) const {
  git_signature* raw_sig = nullptr;
  int rc = !tagger.first.empty() && !tagger.second.empty()
               ? git_signature_now(&raw_sig, tagger.first.c_str(), tagger.second.c_str())
               : git_signature_default(&raw_sig, repo_.get());
  if (rc < 0)
    throw EnvironmentError("git does not know who you are, and an annotated tag needs a tagger",
                           "git config --global user.name 'Your Name' && git config --global user.email you@example.com");
  SignaturePtr sig(raw_sig);
  git_object* raw_target = nullptr;
  check(git_object_lookup(&raw_target, repo_.get(), &commit, GIT_OBJECT_COMMIT), "cannot read commit " + oid_hex(commit));
  ObjectPtr target(raw_target);
  git_oid tag_oid;
  check(git_tag_create(&tag_oid, repo_.get(), name.c_str(), target.get(), sig.get(), message.c_str(), 0),
        "cannot create the tag " + name);
}

bool Repository::delete_tag(const std::string& name) const {
  return git_tag_delete(repo_.get(), name.c_str()) == 0;
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

namespace {

int note_promisor(const git_config_entry* entry, void* found) {
  int value = 0;
  if (git_config_parse_bool(&value, entry->value) == 0 && value)
    *static_cast<bool*>(found) = true;
  return 0;
}

bool partial_clone(git_repository* repo) {
  git_config* raw = nullptr;
  if (git_repository_config_snapshot(&raw, repo) < 0)
    return false;
  std::unique_ptr<git_config, Deleter<git_config, git_config_free>> cfg(raw);
  const char* ext = nullptr;
  if (git_config_get_string(&ext, cfg.get(), "extensions.partialclone") == 0 && ext && *ext)
    return true;
  bool found = false;
  git_config_foreach_match(cfg.get(), "^remote\\..*\\.promisor$", note_promisor, &found);
  return found;
}

} // namespace

std::string read_blob_at(git_repository* repo, const git_oid& id, std::string_view path,
                         std::string_view where) {
  git_blob* raw = nullptr;
  if (git_blob_lookup(&raw, repo, &id) < 0) {
    std::string why = last_error_message();
    std::string hex = oid_hex(id);
    if (partial_clone(repo))
      throw MissingHistoryError(
          "'" + std::string(path) + "' in " + std::string(where) + " is not in this partial clone (blob " +
              hex.substr(0, 12) + " was filtered out), and libgit2 cannot fetch missing objects",
          "fetch it with git, which asks the promisor remote: 'git cat-file blob " + hex +
              " >/dev/null'; or clone without --filter (in GitHub Actions, drop 'filter:' from "
              "actions/checkout)");
    throw EnvironmentError("cannot read '" + std::string(path) + "' in " + std::string(where) + " (blob " +
                               hex.substr(0, 12) + "): " + why,
                           "check the repository with 'git fsck'");
  }
  BlobPtr blob(raw);
  return std::string(static_cast<const char*>(git_blob_rawcontent(blob.get())),
                     static_cast<size_t>(git_blob_rawsize(blob.get())));
}

std::optional<std::string> Repository::remote_url(const std::string& name) const {
  git_remote* raw = nullptr;
  if (git_remote_lookup(&raw, repo_.get(), name.c_str()) < 0)
    return std::nullopt;
  std::optional<std::string> url;
  if (const char* u = git_remote_url(raw))
    url = u;
  git_remote_free(raw);
  return url;
}

std::string Repository::git_dir() const { return git_repository_path(repo_.get()); }

std::int64_t Repository::commit_time(const git_oid& commit) const {
  git_commit* raw = nullptr;
  check(git_commit_lookup(&raw, repo_.get(), &commit), "cannot read commit " + oid_hex(commit));
  CommitPtr owned(raw);
  return static_cast<std::int64_t>(git_commit_time(owned.get()));
}

} // namespace mlrepo::git
