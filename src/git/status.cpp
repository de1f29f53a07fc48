#include "mlrepo/git/status.hpp"

#include "dir_cache.hpp"
#include "mlrepo/git/index_reader.hpp"
#include "mlrepo/git/tree_diff.hpp"

#include <git2/sys/repository.h>
#include "mlrepo/util/fs.hpp"

#include <algorithm>
#include <cerrno>
#include <map>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <unordered_set>

namespace mlrepo::git {
namespace {

using Kind = WorktreeChange::Kind;
constexpr uint32_t kTypeMask = 0170000;
constexpr uint32_t kRegular = 0100000, kSymlink = 0120000, kGitlink = 0160000;

// What one path is in the commit (its mode, 0: absent), for the paths that
// differ somewhere, and where they differ.
struct Sides {
  uint32_t head_mode = 0;
  git_oid head_id{};
  bool staged = false;   // the index differs from the commit
  bool unstaged = false; // the work tree differs from the index
};

// A path's git file mode as the work tree holds it now; 0 when absent.
uint32_t mode_on_disk(const std::string& full) {
  struct stat st;
  if (::lstat(full.c_str(), &st) != 0)
    return 0;
  if (S_ISLNK(st.st_mode))
    return kSymlink;
  if (S_ISDIR(st.st_mode))
    return kGitlink; // where a file was, or a nested repository
  return (st.st_mode & S_IXUSR) ? 0100755 : 0100644;
}
using Differences = std::map<std::string, Sides, std::less<>>;

// The settings git's own stat comparison honours.
struct StatRules {
  bool filemode = true;   // core.fileMode: the executable bit counts
  bool trustctime = true; // core.trustctime
  bool checkstat = true;  // core.checkStat other than "minimal": inode, owner
};

StatRules read_rules(const Repository& repo) {
  StatRules rules;
  git_config* raw = nullptr;
  if (git_repository_config_snapshot(&raw, repo.raw()) < 0)
    return rules;
  std::unique_ptr<git_config, Deleter<git_config, git_config_free>> cfg(raw);
  int value = 0;
  if (git_config_get_bool(&value, cfg.get(), "core.filemode") == 0)
    rules.filemode = value;
  if (git_config_get_bool(&value, cfg.get(), "core.trustctime") == 0)
    rules.trustctime = value;
  const char* check_stat = nullptr;
  if (git_config_get_string(&check_stat, cfg.get(), "core.checkstat") == 0 && check_stat)
    rules.checkstat = std::string_view(check_stat) != "minimal";
  return rules;
}

// The index's entries under one directory, as that directory's children.
struct Child {
  std::string_view name;
  size_t lo, hi; // the entries: one path (several when conflicted), or a subtree
  bool is_dir;
};

std::vector<Child> children_of(const IndexFile& index, size_t prefix_len, size_t lo, size_t hi) {
  const auto& entries = index.entries;
  std::vector<Child> out;
  for (size_t k = lo; k < hi;) {
    std::string_view rest = entries[k].path.substr(prefix_len);
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos) {
      size_t end = k + 1;
      while (end < hi && entries[end].path == entries[k].path)
        ++end;
      out.push_back({rest, k, end, false});
      k = end;
      continue;
    }
    // Paths under "name/" sort together and before "name0" ('0' follows '/').
    std::string bound(entries[k].path.substr(0, prefix_len + slash));
    bound += '0';
    auto end = std::lower_bound(entries.begin() + k, entries.begin() + hi, bound,
                                [](const IndexEntry& e, const std::string& b) { return e.path < b; });
    out.push_back({rest.substr(0, slash), k, static_cast<size_t>(end - entries.begin()), true});
    k = static_cast<size_t>(end - entries.begin());
  }
  return out;
}

// The commit's tree against the index, pruned by the cache-tree.
class HeadAgainstIndex {
public:
  HeadAgainstIndex(const Repository& repo, const IndexFile& index, Differences& out)
      : repo_(repo), index_(index), out_(out) {}

  void dir(git_tree* head, const std::string& prefix, size_t lo, size_t hi, const CacheTreeNode* node) {
    if (node && node->valid && head && git_oid_equal(&node->id, git_tree_id(head)))
      return; // git would write the very same tree: nothing staged below
    auto children = children_of(index_, prefix.size(), lo, hi);
    std::unordered_map<std::string_view, size_t> by_name;
    for (size_t c = 0; c < children.size(); ++c)
      by_name.emplace(children[c].name, c);
    std::vector<bool> matched(children.size(), false);
    for (size_t i = 0, n = head ? git_tree_entrycount(head) : 0; i < n; ++i) {
      const git_tree_entry* e = git_tree_entry_byindex(head, i); // borrowed
      std::string path = prefix + git_tree_entry_name(e);
      bool head_dir = git_tree_entry_filemode(e) == GIT_FILEMODE_TREE;
      auto it = by_name.find(git_tree_entry_name(e));
      if (it == by_name.end()) {
        head_only(e, path);
        continue;
      }
      const Child& c = children[it->second];
      matched[it->second] = true;
      if (head_dir && c.is_dir && is_sparse(c)) {
        sparse_against_head(e, path, index_.entries[c.lo]);
      } else if (head_dir && c.is_dir) {
        auto sub = lookup(e, path);
        dir(sub.get(), path + "/", c.lo, c.hi, subnode(node, c.name));
      } else if (!head_dir && !c.is_dir) {
        const IndexEntry& ie = index_.entries[c.lo];
        git_oid id = ie.id();
        if (c.hi - c.lo > 1 || ie.stage != 0 || ie.intent_to_add ||
            ie.mode != static_cast<uint32_t>(git_tree_entry_filemode(e)) ||
            !git_oid_equal(&id, git_tree_entry_id(e)))
          record(e, path);
      } else {
        head_only(e, path);
        index_only(c);
      }
    }
    for (size_t c = 0; c < children.size(); ++c)
      if (!matched[c])
        index_only(children[c]);
  }

private:
  TreePtr lookup(const git_tree_entry* e, const std::string& path) {
    git_tree* raw = nullptr;
    check(git_tree_lookup(&raw, repo_.raw(), git_tree_entry_id(e)), "cannot read tree '" + path + "'");
    return TreePtr(raw);
  }

  const CacheTreeNode* subnode(const CacheTreeNode* node, std::string_view name) const {
    if (node)
      for (size_t c : node->children)
        if (index_.cache_tree[c].name == name)
          return &index_.cache_tree[c];
    return nullptr;
  }

  // Every file of the commit at or below `e`.
  void head_only(const git_tree_entry* e, const std::string& path) {
    if (git_tree_entry_filemode(e) != GIT_FILEMODE_TREE) {
      record(e, path);
      return;
    }
    auto sub = lookup(e, path);
    for (size_t i = 0, n = git_tree_entrycount(sub.get()); i < n; ++i) {
      const git_tree_entry* child = git_tree_entry_byindex(sub.get(), i); // borrowed
      head_only(child, path + "/" + git_tree_entry_name(child));
    }
  }

  void index_only(const Child& c) {
    for (size_t k = c.lo; k < c.hi; ++k) {
      const IndexEntry& ie = index_.entries[k];
      if (!ie.sparse_dir()) {
        out_[std::string(ie.path)].staged = true;
        continue;
      }
      git_oid id = ie.id();
      std::string dir(ie.path.substr(0, ie.path.size() - 1));
      for (auto& change : diff_trees(repo_, nullptr, lookup_id(id, dir).get()))
        out_[dir + "/" + change.path].staged = true;
    }
  }

  // A sparse index keeps a directory outside the checkout as one entry.
  bool is_sparse(const Child& c) const {
    return c.hi - c.lo == 1 && index_.entries[c.lo].sparse_dir();
  }

  void sparse_against_head(const git_tree_entry* e, const std::string& path, const IndexEntry& ie) {
    git_oid id = ie.id();
    if (git_oid_equal(&id, git_tree_entry_id(e)))
      return;
    auto head = lookup(e, path);
    auto index = lookup_id(id, path);
    for (auto& change : diff_trees(repo_, head.get(), index.get())) {
      for (const std::string* p : {&change.path, &change.old_path}) {
        if (p->empty())
          continue;
        std::string full = path + "/" + *p;
        git_tree_entry* raw = nullptr;
        Sides& sides = out_[full];
        sides.staged = true;
        if (git_tree_entry_bypath(&raw, head.get(), p->c_str()) == 0) {
          TreeEntryPtr owned(raw);
          sides.head_mode = git_tree_entry_filemode(owned.get());
          sides.head_id = *git_tree_entry_id(owned.get());
        }
      }
    }
  }

  TreePtr lookup_id(const git_oid& id, const std::string& path) {
    git_tree* raw = nullptr;
    check(git_tree_lookup(&raw, repo_.raw(), &id), "cannot read tree '" + path + "'");
    return TreePtr(raw);
  }

  void record(const git_tree_entry* e, const std::string& path) {
    Sides& sides = out_[path];
    sides.head_mode = git_tree_entry_filemode(e);
    sides.head_id = *git_tree_entry_id(e);
    sides.staged = true;
  }

  const Repository& repo_;
  const IndexFile& index_;
  Differences& out_;
};

// The index against the work tree, by stat data first.
enum class Verdict : uint8_t { Clean, Missing, Modified, TypeChanged, Hash, Resized, Submodule };

Verdict compare_stat(const IndexEntry& e, const struct stat& st, const StatRules& rules,
                     int64_t index_mtime_ns) {
  switch (e.mode & kTypeMask) {
  case kRegular:
    if (!S_ISREG(st.st_mode))
      return Verdict::TypeChanged;
    if (rules.filemode && ((e.mode & 0100) != 0) != ((st.st_mode & S_IXUSR) != 0))
      return Verdict::Modified;
    break;
  case kSymlink:
    if (!S_ISLNK(st.st_mode))
      return Verdict::TypeChanged;
    break;
  case kGitlink:
    return S_ISDIR(st.st_mode) ? Verdict::Submodule : Verdict::TypeChanged;
  default:
    return Verdict::Hash;
  }
  bool same = static_cast<uint32_t>(st.st_mtim.tv_sec) == e.mtime_s() &&
              static_cast<uint32_t>(st.st_mtim.tv_nsec) == e.mtime_ns();
  if (rules.trustctime)
    same = same && static_cast<uint32_t>(st.st_ctim.tv_sec) == e.ctime_s() &&
           static_cast<uint32_t>(st.st_ctim.tv_nsec) == e.ctime_ns();
  if (rules.checkstat)
    same = same && static_cast<uint32_t>(st.st_ino) == e.ino() &&
           static_cast<uint32_t>(st.st_uid) == e.uid() && static_cast<uint32_t>(st.st_gid) == e.gid();
  // A recorded size of 0 may be git "smudging" a racily clean entry: only
  // the content can tell.
  if (static_cast<uint32_t>(st.st_size) != e.size() && e.size() != 0)
    return Verdict::Resized;
  if (!same || static_cast<uint32_t>(st.st_size) != e.size())
    return Verdict::Hash;
  // Racily clean: written in the same instant the index was, so a later
  // edit could have kept the times. Git compares content then too.
  int64_t mtime = int64_t{e.mtime_s()} * 1000000000 + e.mtime_ns();
  return mtime >= index_mtime_ns ? Verdict::Hash : Verdict::Clean;
}

void stat_range(const IndexFile& index, const std::string& root, const StatRules& rules, size_t lo,
                size_t hi, std::vector<Verdict>& out) {
  std::string full = root + "/";
  size_t base = full.size();
  for (size_t k = lo; k < hi; ++k) {
    const IndexEntry& e = index.entries[k];
    if (e.stage != 0 || e.intent_to_add) {
      out[k] = Verdict::Modified; // conflicted or only announced: differs from the commit
      continue;
    }
    if (e.assume_unchanged || e.skip_worktree || e.sparse_dir()) {
      out[k] = Verdict::Clean; // the user told git not to look, or it is outside the checkout
      continue;
    }
    full.resize(base);
    full.append(e.path);
    struct stat st;
    if (::lstat(full.c_str(), &st) != 0) {
      out[k] = errno == ENOENT || errno == ENOTDIR ? Verdict::Missing : Verdict::Hash;
      continue;
    }
    out[k] = compare_stat(e, st, rules, index.mtime_ns);
  }
}

// One lstat per tracked file, spread over the cores: the kernel's path
// lookups are the cost, as in git's preloaded index.
std::vector<Verdict> stat_all(const IndexFile& index, const std::string& root, const StatRules& rules) {
  size_t n = index.entries.size();
  std::vector<Verdict> out(n, Verdict::Clean);
  size_t threads = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 8);
  if (n < 4096)
    threads = 1;
  std::vector<std::thread> pool;
  size_t chunk = (n + threads - 1) / threads;
  for (size_t t = 1; t < threads; ++t)
    pool.emplace_back(stat_range, std::cref(index), std::cref(root), std::cref(rules), std::min(n, t * chunk),
                      std::min(n, (t + 1) * chunk), std::ref(out));
  stat_range(index, root, rules, 0, std::min(n, chunk), out);
  for (auto& t : pool)
    t.join();
  return out;
}

// Hashes work-tree files the way git would store them: through the filters
// their attributes name (line endings, ident, filter drivers). libgit2 looks
// for .gitattributes in the index wherever the work tree has none, and would
// load its own copy of a large index for that: this handle gets an index
// holding only the .gitattributes entries instead, which is all it is asked.
class ContentHasher {
public:
  ContentHasher(const Repository& repo, const IndexFile& index) : repo_(repo), index_(index) {}

  // Whether git converts this file between the work tree and its blob: then
  // a new size alone does not prove a new content.
  bool has_filters(const std::string& path) {
    git_filter_list* raw = nullptr;
    if (git_filter_list_load(&raw, handle(), nullptr, path.c_str(), GIT_FILTER_TO_ODB, GIT_FILTER_DEFAULT) < 0)
      return true; // unsure: compare the content
    bool any = raw != nullptr;
    git_filter_list_free(raw);
    return any;
  }

  // Whether the work tree's file at `path` has the content `id`.
  bool content_is(const std::string& path, uint32_t mode, const git_oid& id) {
    git_oid now;
    if ((mode & kTypeMask) == kSymlink) {
      std::string full = repo_.workdir() + "/" + path;
      std::string target(4096, '\0');
      ssize_t len = ::readlink(full.c_str(), target.data(), target.size());
      if (len < 0 || git_odb_hash(&now, target.data(), static_cast<size_t>(len), GIT_OBJECT_BLOB) < 0)
        return false;
    } else if (git_repository_hashfile(&now, handle(), path.c_str(), GIT_OBJECT_BLOB, nullptr) < 0) {
      return false;
    }
    return git_oid_equal(&now, &id);
  }

private:
  git_repository* handle() {
    if (handle_)
      return handle_.get();
    git_repository* raw = nullptr;
    git_index* raw_index = nullptr;
    if (git_repository_open(&raw, repo_.workdir().c_str()) < 0 || git_index_new(&raw_index) < 0) {
      git_repository_free(raw);
      return repo_.raw(); // the slow way still answers right
    }
    handle_.reset(raw);
    IndexPtr attributes(raw_index);
    for (const auto& e : index_.entries) {
      if (e.stage != 0 || util::base_name(e.path) != ".gitattributes")
        continue;
      std::string path(e.path);
      git_index_entry entry{};
      entry.mode = e.mode;
      entry.id = e.id();
      entry.path = path.c_str();
      git_index_add(attributes.get(), &entry);
    }
    git_repository_set_index(handle_.get(), attributes.get());
    return handle_.get();
  }

  const Repository& repo_;
  const IndexFile& index_;
  RepositoryPtr handle_;
};

// Whether a submodule's checked-out commit is the one the index records. A
// submodule that is not checked out has not moved.
bool submodule_moved(const Repository& repo, const IndexEntry& e) {
  std::string full = repo.workdir() + "/" + std::string(e.path);
  git_repository* raw = nullptr;
  if (git_repository_open(&raw, full.c_str()) < 0)
    return false;
  RepositoryPtr sub(raw);
  git_oid head;
  if (git_reference_name_to_id(&head, sub.get(), "HEAD") < 0)
    return false;
  git_oid id = e.id();
  return !git_oid_equal(&head, &id);
}

// Untracked files that are not ignored.
class UntrackedWalk {
public:
  UntrackedWalk(const Repository& repo, const IndexFile& index, DirCache& cache, Differences& out)
      : repo_(repo), index_(index), cache_(cache), out_(out) {}

  void dir(const std::string& rel, size_t lo, size_t hi) {
    std::string prefix = rel.empty() ? "" : rel + "/";
    auto children = children_of(index_, prefix.size(), lo, hi);
    // The non-directories the index lists here: what the listing should hold.
    std::unordered_map<std::string_view, size_t> dirs;
    std::unordered_set<std::string_view> files;
    // Outside a sparse checkout: tracked, but not expected on disk.
    std::unordered_set<std::string_view> skipped;
    uint64_t sum = 0;
    for (size_t c = 0; c < children.size(); ++c) {
      const Child& child = children[c];
      if (child.is_dir || (index_.entries[child.lo].mode & kTypeMask) == kGitlink) {
        dirs.emplace(child.name, c);
        continue;
      }
      if (index_.entries[child.lo].skip_worktree) {
        skipped.insert(child.name);
        continue;
      }
      files.insert(child.name);
      sum += name_hash(child.name);
    }
    DirListing listing;
    std::string full = rel.empty() ? repo_.workdir() : repo_.workdir() + "/" + rel;
    if (!list_directory(cache_, full, rel, {}, listing))
      return;
    if (listing.files_count != files.size() || listing.files_sum != sum) {
      std::vector<std::string> names;
      if (!list_directory(cache_, full, rel, {}, listing, &names))
        return;
      for (const auto& name : names)
        if (!files.count(name) && !skipped.count(name))
          untracked(prefix + name, false);
    }
    for (const auto& name : listing.subdirs) {
      std::string sub = prefix + name;
      auto it = dirs.find(name);
      if (it != dirs.end()) {
        const Child& child = children[it->second];
        bool sparse = child.hi - child.lo == 1 && index_.entries[child.lo].sparse_dir();
        if (child.is_dir && !sparse)
          dir(sub, child.lo, child.hi);
        continue; // a submodule (its own repository), or a directory outside the checkout
      }
      struct stat st;
      if (::lstat((full + "/" + name + "/.git").c_str(), &st) == 0) {
        untracked(sub, true); // a nested repository: git lists it, never its files
        continue;
      }
      if (!ignored(sub + "/"))
        dir(sub, 0, 0);
    }
  }

private:
  void untracked(const std::string& path, bool is_dir) {
    if (!ignored(is_dir ? path + "/" : path))
      out_.try_emplace(path);
  }

  bool ignored(const std::string& path) const {
    int ignored = 0;
    check(git_ignore_path_is_ignored(&ignored, repo_.raw(), path.c_str()),
          "cannot evaluate .gitignore rules for '" + path + "'");
    return ignored == 1;
  }

  const Repository& repo_;
  const IndexFile& index_;
  DirCache& cache_;
  Differences& out_;
};

// libgit2's answer, for indexes the direct reader leaves alone.
std::vector<WorktreeChange> libgit2_changes(const Repository& repo, const git_oid& commit) {
  auto tree = repo.commit_tree(commit);
  git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
  opts.flags = GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS | GIT_DIFF_INCLUDE_TYPECHANGE;
  opts.ignore_submodules = GIT_SUBMODULE_IGNORE_DIRTY;
  git_diff* raw = nullptr;
  check(git_diff_tree_to_workdir_with_index(&raw, repo.raw(), tree.get(), &opts),
        "cannot diff the work tree against HEAD");
  DiffPtr diff(raw);
  std::vector<WorktreeChange> out;
  for (size_t i = 0, n = git_diff_num_deltas(diff.get()); i < n; ++i) {
    const git_diff_delta* d = git_diff_get_delta(diff.get(), i); // borrowed
    Kind kind = d->status == GIT_DELTA_DELETED       ? Kind::Deleted
                : d->status == GIT_DELTA_TYPECHANGE  ? Kind::TypeChanged
                : d->status == GIT_DELTA_ADDED || d->status == GIT_DELTA_UNTRACKED ? Kind::Added
                                                                                    : Kind::Modified;
    out.push_back({d->new_file.path ? d->new_file.path : d->old_file.path, kind});
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.path < b.path; });
  return out;
}

} // namespace

std::vector<WorktreeChange> worktree_changes(const Repository& repo, const git_oid& commit,
                                             const std::string& cache_file) {
  auto index = read_index_file(std::string(git_repository_path(repo.raw())) + "index");
  if (!index)
    return libgit2_changes(repo, commit);
  const auto& entries = index->entries;
  Differences diff;

  auto tree = repo.commit_tree(commit);
  HeadAgainstIndex(repo, *index, diff)
      .dir(tree.get(), "", 0, entries.size(), index->cache_tree.empty() ? nullptr : &index->cache_tree[0]);

  auto rules = read_rules(repo);
  auto verdicts = stat_all(*index, repo.workdir(), rules);
  ContentHasher hasher(repo, *index);
  for (size_t k = 0; k < entries.size(); ++k) {
    const IndexEntry& e = entries[k];
    Verdict v = verdicts[k];
    if (v == Verdict::Resized)
      v = hasher.has_filters(std::string(e.path)) ? Verdict::Hash : Verdict::Modified;
    if (v == Verdict::Hash)
      v = hasher.content_is(std::string(e.path), e.mode, e.id()) ? Verdict::Clean : Verdict::Modified;
    else if (v == Verdict::Submodule)
      v = submodule_moved(repo, e) ? Verdict::Modified : Verdict::Clean;
    if (v == Verdict::Clean)
      continue;
    // Not among the staged differences: the index holds what the commit has
    // (intent-to-add entries are left out of the cache-tree, so check them).
    auto [it, fresh] = diff.try_emplace(std::string(e.path));
    if (fresh && !e.intent_to_add) {
      it->second.head_mode = e.mode;
      it->second.head_id = e.id();
    }
    it->second.unstaged = true;
  }

  DirCache cache(cache_file, "");
  cache.confirm_all(repo.workdir());
  UntrackedWalk(repo, *index, cache, diff).dir("", 0, entries.size());
  cache.save();

  // What each differing path is now, from the disk itself: a path can be
  // staged one way and edited another.
  std::vector<WorktreeChange> out;
  out.reserve(diff.size());
  auto skipped_mode = [&](const std::string& path) -> std::optional<uint32_t> {
    auto it = std::lower_bound(entries.begin(), entries.end(), path,
                               [](const IndexEntry& e, const std::string& p) { return e.path < p; });
    if (it != entries.end() && it->path == path && it->skip_worktree)
      return it->mode;
    // Below a sparse directory entry ("dir/"): present as the index has it.
    for (std::string_view dir = util::parent_path(path); !dir.empty(); dir = util::parent_path(dir)) {
      std::string key = std::string(dir) + "/";
      auto d = std::lower_bound(entries.begin(), entries.end(), key,
                                [](const IndexEntry& e, const std::string& p) { return e.path < p; });
      if (d != entries.end() && d->path == key && d->sparse_dir())
        return uint32_t{0100644}; // some file; its content is the index's
    }
    return std::nullopt;
  };
  for (const auto& [path, sides] : diff) {
    auto skipped = skipped_mode(path);
    uint32_t now = skipped ? *skipped : mode_on_disk(repo.workdir() + "/" + path);
    if (now == kGitlink && sides.head_mode != 0 && (sides.head_mode & kTypeMask) != kGitlink)
      now = 0; // a directory where a file was: the file is gone, its files are untracked
    if (sides.head_mode == 0 && now == 0)
      continue; // added, then deleted: in neither the commit nor the work tree
    // Staged, then edited back to the commit's content: no difference left.
    if (!skipped && sides.staged && sides.unstaged && sides.head_mode == now && now != kGitlink &&
        hasher.content_is(path, now, sides.head_id))
      continue;
    Kind kind = sides.head_mode == 0                                 ? Kind::Added
                : now == 0                                            ? Kind::Deleted
                : (sides.head_mode & kTypeMask) != (now & kTypeMask) ? Kind::TypeChanged
                                                                      : Kind::Modified;
    out.push_back({path, kind});
  }
  return out;
}

} // namespace mlrepo::git
