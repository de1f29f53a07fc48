#include "mlrepo/git/snapshot.hpp"

#include "dir_cache.hpp"
#include "mlrepo/util/process.hpp"
#include "mlrepo/git/index_reader.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"

#include <cstdlib>
#include <cstring>

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>
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

  // Every tree must be read, and reading (inflating) them is the cost: the
  // walk goes breadth-first until there are enough independent subtrees,
  // then walks those on every core, each thread with its own repository
  // handle (libgit2 objects are not shared between threads).
  std::vector<std::string>
  dirs_containing(std::string_view file_name,
                  const std::function<bool(std::string_view)>& prune) const override {
    Found out;
    size_t threads = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 8);
    std::vector<Subtree> frontier{{"", *git_tree_id(tree_.get())}};
    for (int depth = 0; depth < 4 && !frontier.empty() && frontier.size() < threads * 16; ++depth) {
      std::vector<Subtree> next;
      for (const auto& item : frontier) {
        auto tree = lookup(repo_.raw(), item);
        list(repo_.raw(), tree.get(), item.path, file_name, prune, out, next);
      }
      frontier = std::move(next);
    }
    if (threads == 1 || frontier.size() < 2) {
      for (const auto& item : frontier)
        walk(repo_.raw(), item, file_name, prune, out);
    } else {
      std::vector<Found> found(frontier.size());
      std::atomic<size_t> next_item{0};
      std::vector<std::exception_ptr> errors(threads);
      auto worker = [&](size_t t) {
        try {
          git_repository* raw = nullptr;
          check(git_repository_open(&raw, git_repository_path(repo_.raw())), "cannot open the repository");
          RepositoryPtr own(raw);
          for (size_t k; (k = next_item++) < frontier.size();)
            walk(own.get(), frontier[k], file_name, prune, found[k]);
        } catch (...) {
          errors[t] = std::current_exception();
        }
      };
      std::vector<std::thread> pool;
      for (size_t t = 0; t < threads; ++t)
        pool.emplace_back(worker, t);
      for (auto& t : pool)
        t.join();
      for (auto& e : errors)
        if (e)
          std::rethrow_exception(e);
      for (auto& f : found) {
        out.dirs.insert(out.dirs.end(), std::make_move_iterator(f.dirs.begin()),
                        std::make_move_iterator(f.dirs.end()));
        out.files.merge(f.files);
      }
    }
    known_ = std::move(out.files);
    std::sort(out.dirs.begin(), out.dirs.end());
    return out.dirs;
  }

  std::optional<std::string> read(std::string_view path) const override {
    if (path.empty())
      return std::nullopt;
    // Discovery reads files beside the ones it found: the walk kept those
    // directories' files, so no tree is searched again.
    if (auto dir = known_.find(std::string(util::parent_path(path))); dir != known_.end()) {
      std::string_view name = util::base_name(path);
      for (const auto& file : dir->second)
        if (file.name == name)
          return file.content ? *file.content : read_blob_at(repo_.raw(), file.id, path, label_);
      return std::nullopt;
    }
    git_tree_entry* raw = nullptr;
    std::string p(path);
    if (git_tree_entry_bypath(&raw, tree_.get(), p.c_str()) < 0)
      return std::nullopt;
    TreeEntryPtr entry(raw);
    if (!is_regular_mode(git_tree_entry_filemode(entry.get())))
      return std::nullopt;
    return read_blob_at(repo_.raw(), *git_tree_entry_id(entry.get()), path, label_);
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
  struct Subtree {
    std::string path;
    git_oid id;
  };

  struct File {
    std::string name;
    git_oid id;
    std::optional<std::string> content; // the file searched for, read by the walking thread
  };
  using Files = std::vector<File>; // a directory's regular files
  struct Found {
    std::vector<std::string> dirs;
    std::unordered_map<std::string, Files> files; // of each directory in `dirs`
  };

  static TreePtr lookup(git_repository* repo, const Subtree& item) {
    git_tree* raw = nullptr;
    check(git_tree_lookup(&raw, repo, &item.id), "cannot read tree '" + item.path + "'");
    return TreePtr(raw);
  }

  // A blob if it is here; a partial clone may lack it, and finding projects
  // does not need it (reading it later says what is missing).
  static std::optional<std::string> try_read(git_repository* repo, const git_oid& id) {
    git_blob* raw = nullptr;
    if (git_blob_lookup(&raw, repo, &id) < 0)
      return std::nullopt;
    BlobPtr blob(raw);
    return std::string(static_cast<const char*>(git_blob_rawcontent(blob.get())),
                       static_cast<size_t>(git_blob_rawsize(blob.get())));
  }

  // One tree's entries: notes whether it holds the file, and queues the
  // subtrees not pruned.
  static void list(git_repository* repo, git_tree* tree, const std::string& dir, std::string_view file_name,
                   const std::function<bool(std::string_view)>& prune, Found& out,
                   std::vector<Subtree>& subtrees) {
    bool found_here = false;
    for (size_t i = 0, n = git_tree_entrycount(tree); i < n; ++i) {
      const git_tree_entry* entry = git_tree_entry_byindex(tree, i); // borrowed
      std::string_view name = git_tree_entry_name(entry);
      git_filemode_t mode = git_tree_entry_filemode(entry);
      if (mode == GIT_FILEMODE_TREE) {
        std::string sub = util::join_path(dir, name);
        if (!prune(sub))
          subtrees.push_back({std::move(sub), *git_tree_entry_id(entry)});
      } else if (name == file_name && is_regular_mode(mode)) {
        found_here = true;
      }
    }
    if (!found_here)
      return;
    out.dirs.push_back(dir);
    auto& files = out.files[dir];
    for (size_t i = 0, n = git_tree_entrycount(tree); i < n; ++i) {
      const git_tree_entry* entry = git_tree_entry_byindex(tree, i); // borrowed
      if (!is_regular_mode(git_tree_entry_filemode(entry)))
        continue;
      File file{git_tree_entry_name(entry), *git_tree_entry_id(entry), std::nullopt};
      if (file.name == file_name) // usually read next: read it on this core
        file.content = try_read(repo, file.id);
      files.push_back(std::move(file));
    }
  }

  // Depth-first below one subtree.
  static void walk(git_repository* repo, const Subtree& item, std::string_view file_name,
                   const std::function<bool(std::string_view)>& prune, Found& out) {
    util::check_interrupted();
    auto tree = lookup(repo, item);
    std::vector<Subtree> subtrees;
    list(repo, tree.get(), item.path, file_name, prune, out, subtrees);
    for (const auto& sub : subtrees)
      walk(repo, sub, file_name, prune, out);
  }

  const Repository& repo_;
  TreePtr tree_;
  std::string label_;
  mutable std::unordered_map<std::string, Files> known_; // from the last walk
};

// The work tree as git sees it, found without a full status scan: tracked
// paths come from the index file, and one walk of the directories finds
// untracked files: a directory whose cached listing is still valid costs one
// lstat, any other one readdir (d_type says what an entry is, no stat per
// entry). Git's ignore rules are asked only about untracked entries, and
// pruned directories are never read.
class WorktreeSnapshot : public Snapshot {
public:
  explicit WorktreeSnapshot(const Repository& repo) : repo_(repo) {}

  std::vector<std::string>
  dirs_containing(std::string_view file_name,
                  const std::function<bool(std::string_view)>& prune) const override {
    const Tracked& index = tracked();
    const char* off = std::getenv("MLREPO_NO_CACHE");
    DirCache cache(off && *off ? std::string{}
                               : std::string(git_repository_path(repo_.raw())) + "mlrepo/cache/worktree/dirs-" +
                                     std::string(file_name),
                   file_name);
    cache.confirm_all(repo_.workdir());
    Walk walk{file_name, prune, {}, index.paths, {}, cache};
    for (size_t i = 0; i < index.paths.size(); ++i)
      if (util::base_name(index.paths[i]) == file_name)
        walk.tracked_files.emplace(index.paths[i]);
    scan(walk, "");
    cache.save();
    add_outside_checkout(walk, index);
    std::sort(walk.found.begin(), walk.found.end());
    walk.found.erase(std::unique(walk.found.begin(), walk.found.end()), walk.found.end());
    return walk.found;
  }

  std::optional<std::string> read(std::string_view path) const override {
    if (path.empty())
      return std::nullopt;
    if (auto id = sparse_checkout() ? outside_checkout(path) : std::nullopt) {
      if (id->second != GIT_FILEMODE_BLOB && id->second != GIT_FILEMODE_BLOB_EXECUTABLE)
        return std::nullopt;
      return read_blob_at(repo_.raw(), id->first, path, "the index (outside the sparse checkout)");
    }
    if (!is_regular_on_disk(path))
      return std::nullopt;
    return util::read_file(full(path));
  }

  bool exists(std::string_view path) const override {
    struct stat st;
    if (::lstat(full(path).c_str(), &st) == 0)
      return true;
    if (!sparse_checkout())
      return false;
    const Tracked& index = tracked();
    if (!index.sparse)
      return false;
    if (outside_checkout(path))
      return true;
    // A directory holding files outside the checkout.
    std::string prefix = std::string(path) + "/";
    auto it = std::lower_bound(index.paths.begin(), index.paths.end(), std::string_view(prefix));
    return it != index.paths.end() && it->substr(0, prefix.size()) == prefix;
  }

  std::string where() const override { return "the work tree"; }

  // Outside a sparse checkout the index answers, not the disk.
  std::string read_from(std::string_view path) const override {
    struct stat st;
    if (!sparse_checkout() || !tracked().sparse || ::lstat(full(path).c_str(), &st) == 0)
      return {};
    return std::string(git_repository_path(repo_.raw())) + "index";
  }

private:
  struct Walk {
    std::string_view file_name;
    const std::function<bool(std::string_view)>& prune;
    std::unordered_set<std::string> tracked_files;
    const std::vector<std::string_view>& tracked; // sorted index paths
    std::vector<std::string> found;
    DirCache& cache;

    bool tracked_dir(const std::string& dir) const {
      std::string prefix = dir + "/";
      auto it = std::lower_bound(tracked.begin(), tracked.end(), std::string_view(prefix));
      return it != tracked.end() && it->substr(0, prefix.size()) == prefix;
    }
  };

  // The index's paths (each once, whatever its merge stages): read directly,
  // or through libgit2 for what the direct reader does not handle. Entries
  // outside a sparse checkout are kept by path: git takes their content from
  // the index, never from the disk.
  struct Tracked {
    std::optional<IndexFile> file;
    std::string storage; // paths from libgit2
    std::vector<std::string_view> paths;
    bool sparse = false;
    std::unordered_map<std::string_view, const IndexEntry*> skipped; // skip-worktree files
    std::vector<const IndexEntry*> sparse_dirs; // a sparse index's "dir/" entries
  };

  const Tracked& tracked() const {
    if (!tracked_)
      tracked_ = std::make_unique<Tracked>(load_index());
    return *tracked_;
  }

  // Whether git sparse-checkout was ever used here ($GIT_DIR/info/sparse-checkout,
  // which git writes for every mode; core.sparseCheckout may sit in a
  // config.worktree libgit2 1.5 does not read): only then can a file be
  // missing from the disk and present for git. One stat keeps single-file
  // reads (mlrepo.yaml first of all) from parsing a large index they do not need.
  bool sparse_checkout() const {
    if (!sparse_checkout_) {
      struct stat st;
      std::string file = std::string(git_repository_path(repo_.raw())) + "info/sparse-checkout";
      sparse_checkout_ = ::lstat(file.c_str(), &st) == 0;
    }
    return *sparse_checkout_;
  }

  // The object id and mode git has for a path outside the checkout.
  std::optional<std::pair<git_oid, unsigned>> outside_checkout(std::string_view path) const {
    const Tracked& index = tracked();
    if (!index.sparse)
      return std::nullopt;
    if (auto it = index.skipped.find(path); it != index.skipped.end())
      return std::pair{(*it->second).id(), unsigned{it->second->mode}};
    for (const IndexEntry* dir : index.sparse_dirs) {
      std::string_view prefix = dir->path; // ends with '/'
      if (path.substr(0, prefix.size()) != prefix)
        continue;
      git_tree* raw = nullptr;
      git_oid id = dir->id();
      if (git_tree_lookup(&raw, repo_.raw(), &id) < 0)
        return std::nullopt;
      TreePtr tree(raw);
      git_tree_entry* entry = nullptr;
      std::string rest(path.substr(prefix.size()));
      if (git_tree_entry_bypath(&entry, tree.get(), rest.c_str()) < 0)
        return std::nullopt;
      TreeEntryPtr owned(entry);
      return std::pair{*git_tree_entry_id(owned.get()), unsigned{git_tree_entry_filemode(owned.get())}};
    }
    return std::nullopt;
  }

  // Projects outside a sparse checkout: as git sees them, present.
  void add_outside_checkout(Walk& walk, const Tracked& index) const {
    auto visible = [&](std::string_view dir) {
      for (std::string_view d = dir; !d.empty(); d = util::parent_path(d))
        if (walk.prune(d))
          return false;
      return !dir.empty();
    };
    for (const auto& [path, entry] : index.skipped)
      if (util::base_name(path) == walk.file_name && visible(util::parent_path(path)))
        walk.found.emplace_back(util::parent_path(path));
    for (const IndexEntry* dir : index.sparse_dirs) {
      std::string root(dir->path.substr(0, dir->path.size() - 1));
      if (!visible(root))
        continue;
      git_tree* raw = nullptr;
      git_oid id = dir->id();
      check(git_tree_lookup(&raw, repo_.raw(), &id), "cannot read tree '" + root + "'");
      TreePtr tree(raw);
      find_in_tree(tree.get(), root, walk);
    }
  }

  void find_in_tree(git_tree* tree, const std::string& dir, Walk& walk) const {
    for (size_t i = 0, n = git_tree_entrycount(tree); i < n; ++i) {
      const git_tree_entry* e = git_tree_entry_byindex(tree, i); // borrowed
      std::string_view name = git_tree_entry_name(e);
      if (git_tree_entry_filemode(e) == GIT_FILEMODE_TREE) {
        std::string sub = util::join_path(dir, name);
        if (walk.prune(sub))
          continue;
        git_tree* raw = nullptr;
        check(git_tree_lookup(&raw, repo_.raw(), git_tree_entry_id(e)), "cannot read tree '" + sub + "'");
        TreePtr subtree(raw);
        find_in_tree(subtree.get(), sub, walk);
      } else if (name == walk.file_name && is_regular_mode(git_tree_entry_filemode(e))) {
        walk.found.push_back(dir);
      }
    }
  }

  Tracked load_index() const {
    Tracked out;
    out.file = read_index_file(std::string(git_repository_path(repo_.raw())) + "index");
    if (out.file) {
      out.paths.reserve(out.file->entries.size());
      for (const auto& e : out.file->entries) {
        if (e.skip_worktree || e.sparse_dir()) {
          out.sparse = true;
          if (e.sparse_dir())
            out.sparse_dirs.push_back(&e);
          else if (e.stage == 0)
            out.skipped.emplace(e.path, &e);
        }
        std::string_view path = e.sparse_dir() ? e.path.substr(0, e.path.size() - 1) : e.path;
        if (out.paths.empty() || out.paths.back() != path)
          out.paths.push_back(path);
      }
      return out;
    }
    git_index* raw_index = nullptr;
    if (git_repository_index(&raw_index, repo_.raw()) < 0) {
      std::string why = last_error_message();
      if (why.find("'link'") != std::string::npos)
        throw EnvironmentError("this repository uses a split index (core.splitIndex), which mlrepo "
                               "cannot read",
                               "run 'git update-index --no-split-index' (and 'git config "
                               "core.splitIndex false')");
      throw EnvironmentError("cannot read the git index: " + why);
    }
    IndexPtr index(raw_index);
    std::vector<std::pair<size_t, size_t>> spans;
    size_t n = git_index_entrycount(index.get());
    for (size_t i = 0; i < n; ++i) {
      const git_index_entry* e = git_index_get_byindex(index.get(), i); // borrowed
      size_t len = std::strlen(e->path);
      if (!spans.empty() && out.storage.compare(spans.back().first, spans.back().second, e->path) == 0)
        continue;
      spans.emplace_back(out.storage.size(), len);
      out.storage += e->path;
    }
    for (auto [start, len] : spans)
      out.paths.emplace_back(out.storage.data() + start, len);
    return out;
  }

  bool ignored(const std::string& path) const {
    int ignored = 0;
    check(git_ignore_path_is_ignored(&ignored, repo_.raw(), path.c_str()),
          "cannot evaluate .gitignore rules for '" + path + "'");
    return ignored == 1;
  }

  void scan(Walk& walk, const std::string& rel) const {
    DirListing listing;
    if (!list_directory(walk.cache, full(rel), rel, walk.file_name, listing))
      return;
    std::vector<std::string> subdirs;
    for (const auto& name : listing.subdirs)
      subdirs.push_back(util::join_path(rel, name));
    bool found_here = false;
    if (listing.has_file) {
      std::string path = util::join_path(rel, walk.file_name);
      found_here = walk.tracked_files.count(path) || !ignored(path);
    }
    if (found_here)
      walk.found.push_back(rel);
    for (const auto& sub : subdirs) {
      if (walk.prune(sub))
        continue;
      if (!walk.tracked_dir(sub)) {
        struct stat st;
        if (::lstat(full(sub + "/.git").c_str(), &st) == 0)
          continue; // a nested repository or submodule: git does not look inside
        if (ignored(sub + "/"))
          continue;
      }
      scan(walk, sub);
    }
  }

  std::string full(std::string_view path) const {
    return path.empty() ? repo_.workdir() : repo_.workdir() + "/" + std::string(path);
  }

  bool is_regular_on_disk(std::string_view path) const {
    struct stat st;
    return ::lstat(full(path).c_str(), &st) == 0 && S_ISREG(st.st_mode);
  }

  const Repository& repo_;
  mutable std::unique_ptr<Tracked> tracked_;
  mutable std::optional<bool> sparse_checkout_;
};

} // namespace

std::unique_ptr<Snapshot> tree_snapshot(const Repository& repo, const git_oid& commit) {
  return std::make_unique<TreeSnapshot>(repo, commit);
}

std::unique_ptr<Snapshot> worktree_snapshot(const Repository& repo) {
  return std::make_unique<WorktreeSnapshot>(repo);
}

} // namespace mlrepo::git
