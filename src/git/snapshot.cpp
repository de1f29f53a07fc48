#include "mlrepo/git/snapshot.hpp"

#include "mlrepo/util/fs.hpp"

#include <algorithm>
#include <filesystem>
#include <sys/stat.h>
#include <unordered_map>
#include <unordered_set>

namespace mlrepo::git {
namespace {

bool is_regular_mode(unsigned mode) {
  return mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE;
}

class TreeSnapshot : public Snapshot {
public:
  TreeSnapshot(const Repository& repo, const git_oid& commit)
      : repo_(repo), tree_(repo.commit_tree(commit)), label_("commit " + oid_hex(commit).substr(0, 12)) {}

  std::vector<std::string>
  dirs_containing(std::string_view file_name,
                  const std::function<bool(std::string_view)>& prune) const override {
    std::vector<std::string> out;
    walk(tree_.get(), "", file_name, prune, out);
    return out;
  }

  std::optional<std::string> read(std::string_view path) const override {
    if (path.empty())
      return std::nullopt;
    git_tree_entry* raw = nullptr;
    std::string p(path);
    if (git_tree_entry_bypath(&raw, tree_.get(), p.c_str()) < 0)
      return std::nullopt;
    TreeEntryPtr entry(raw);
    if (!is_regular_mode(git_tree_entry_filemode(entry.get())))
      return std::nullopt;
    return repo_.read_blob(*git_tree_entry_id(entry.get()));
  }

  bool exists(std::string_view path) const override {
    if (path.empty())
      return true;
    git_tree_entry* raw = nullptr;
    std::string p(path);
    if (git_tree_entry_bypath(&raw, tree_.get(), p.c_str()) < 0)
      return false;
    git_tree_entry_free(raw);
    return true;
  }

  std::string where() const override { return label_; }

private:
  // Depth-first over the tree, entries in git's (path) order.
  void walk(git_tree* tree, const std::string& dir, std::string_view file_name,
            const std::function<bool(std::string_view)>& prune,
            std::vector<std::string>& out) const {
    size_t count = git_tree_entrycount(tree);
    bool found_here = false;
    std::vector<std::pair<std::string, git_oid>> subdirs;
    for (size_t i = 0; i < count; ++i) {
      const git_tree_entry* entry = git_tree_entry_byindex(tree, i); // borrowed
      std::string_view name = git_tree_entry_name(entry);
      git_filemode_t mode = git_tree_entry_filemode(entry);
      if (mode == GIT_FILEMODE_TREE)
        subdirs.emplace_back(std::string(name), *git_tree_entry_id(entry));
      else if (name == file_name && is_regular_mode(mode))
        found_here = true;
    }
    if (found_here)
      out.push_back(dir);
    for (auto& [name, oid] : subdirs) {
      std::string sub = util::join_path(dir, name);
      if (prune(sub))
        continue;
      git_tree* raw = nullptr;
      check(git_tree_lookup(&raw, repo_.raw(), &oid), "cannot read tree '" + sub + "'");
      TreePtr child(raw);
      walk(child.get(), sub, file_name, prune, out);
    }
  }

  const Repository& repo_;
  TreePtr tree_;
  std::string label_;
};

class WorktreeSnapshot : public Snapshot {
public:
  explicit WorktreeSnapshot(const Repository& repo) : repo_(repo) {}

  std::vector<std::string>
  dirs_containing(std::string_view file_name,
                  const std::function<bool(std::string_view)>& prune) const override {
    if (!loaded_)
      load();
    std::vector<std::string> out;
    std::unordered_map<std::string, bool> cache;
    for (const auto& f : files_) {
      std::string_view path = f.path;
      if (util::base_name(path) != file_name)
        continue;
      bool regular = typechanged_.count(f.path) ? is_regular_on_disk(path) : is_regular_mode(f.mode);
      if (!regular)
        continue;
      std::string_view dir = util::parent_path(path);
      if (pruned(dir, prune, cache))
        continue;
      out.emplace_back(dir);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  std::optional<std::string> read(std::string_view path) const override {
    if (path.empty() || !is_regular_on_disk(path))
      return std::nullopt;
    return util::read_file(full(path));
  }

  bool exists(std::string_view path) const override {
    struct stat st;
    return ::lstat(full(path).c_str(), &st) == 0;
  }

  std::string where() const override { return "the work tree"; }

private:
  struct File {
    std::string path;
    unsigned mode;
  };

  void load() const {
    // Tracked files come from the index (cheap, already sorted); the status
    // scan adds untracked-but-not-ignored files and drops deleted ones.
    git_index* raw_index = nullptr;
    check(git_repository_index(&raw_index, repo_.raw()), "cannot read the git index");
    IndexPtr index(raw_index);

    git_status_options opts = GIT_STATUS_OPTIONS_INIT;
    opts.show = GIT_STATUS_SHOW_WORKDIR_ONLY;
    opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS |
                 GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
    git_status_list* raw_status = nullptr;
    check(git_status_list_new(&raw_status, repo_.raw(), &opts), "cannot read the work tree status");
    StatusListPtr status(raw_status);

    std::unordered_set<std::string> deleted;
    size_t n = git_status_list_entrycount(status.get());
    for (size_t i = 0; i < n; ++i) {
      const git_status_entry* e = git_status_byindex(status.get(), i); // borrowed
      if (!e->index_to_workdir)
        continue;
      const auto* delta = e->index_to_workdir;
      if (e->status & GIT_STATUS_WT_DELETED)
        deleted.insert(delta->old_file.path);
      else if (e->status & GIT_STATUS_WT_NEW)
        files_.push_back({delta->new_file.path, GIT_FILEMODE_BLOB});
      else if (e->status & GIT_STATUS_WT_TYPECHANGE)
        typechanged_.insert(delta->new_file.path);
    }
    size_t entries = git_index_entrycount(index.get());
    files_.reserve(files_.size() + entries);
    for (size_t i = 0; i < entries; ++i) {
      const git_index_entry* e = git_index_get_byindex(index.get(), i); // borrowed
      if (GIT_INDEX_ENTRY_STAGE(e) > 1)
        continue; // conflict stages 2 and 3 repeat stage 1's path
      if (deleted.count(e->path))
        continue;
      files_.push_back({e->path, e->mode});
    }
    std::sort(files_.begin(), files_.end(),
              [](const File& a, const File& b) { return a.path < b.path; });
    files_.erase(std::unique(files_.begin(), files_.end(),
                             [](const File& a, const File& b) { return a.path == b.path; }),
                 files_.end());
    loaded_ = true;
  }


  std::string full(std::string_view path) const {
    return path.empty() ? repo_.workdir() : repo_.workdir() + "/" + std::string(path);
  }

  bool is_regular_on_disk(std::string_view path) const {
    struct stat st;
    return ::lstat(full(path).c_str(), &st) == 0 && S_ISREG(st.st_mode);
  }

  // Whether `dir` or any ancestor is pruned; answers are cached per directory.
  static bool pruned(std::string_view dir, const std::function<bool(std::string_view)>& prune,
                     std::unordered_map<std::string, bool>& cache) {
    size_t pos = 0;
    while (pos < dir.size()) {
      size_t slash = dir.find('/', pos);
      if (slash == std::string_view::npos)
        slash = dir.size();
      std::string_view prefix = dir.substr(0, slash);
      auto it = cache.find(std::string(prefix));
      bool p;
      if (it != cache.end()) {
        p = it->second;
      } else {
        p = prune(prefix);
        cache.emplace(std::string(prefix), p);
      }
      if (p)
        return true;
      pos = slash + 1;
    }
    return false;
  }

  const Repository& repo_;
  mutable bool loaded_ = false;
  mutable std::vector<File> files_;
  mutable std::unordered_set<std::string> typechanged_;
};

} // namespace

std::unique_ptr<Snapshot> tree_snapshot(const Repository& repo, const git_oid& commit) {
  return std::make_unique<TreeSnapshot>(repo, commit);
}

std::unique_ptr<Snapshot> worktree_snapshot(const Repository& repo) {
  return std::make_unique<WorktreeSnapshot>(repo);
}

} // namespace mlrepo::git
