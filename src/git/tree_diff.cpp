#include "mlrepo/git/tree_diff.hpp"

#include "mlrepo/util/process.hpp"
#include "mlrepo/util/fs.hpp"

#include <algorithm>
#include <unordered_map>

namespace mlrepo::git {
namespace {

struct Leaf {
  std::string path;
  git_oid id;
};

class Differ {
public:
  explicit Differ(const Repository& repo) : repo_(repo) {}

  void trees(git_tree* a, git_tree* b, const std::string& prefix) {
    util::check_interrupted();
    size_t na = a ? git_tree_entrycount(a) : 0;
    size_t nb = b ? git_tree_entrycount(b) : 0;
    size_t i = 0, j = 0;
    while (i < na || j < nb) {
      const git_tree_entry* ea = i < na ? git_tree_entry_byindex(a, i) : nullptr; // borrowed
      const git_tree_entry* eb = j < nb ? git_tree_entry_byindex(b, j) : nullptr; // borrowed
      int cmp = !ea ? 1 : !eb ? -1 : git_tree_entry_cmp(ea, eb);
      if (cmp == 0) {
        ++i;
        ++j;
        if (git_oid_equal(git_tree_entry_id(ea), git_tree_entry_id(eb)) &&
            git_tree_entry_filemode(ea) == git_tree_entry_filemode(eb))
          continue; // identical: never opened
        std::string path = util::join_path(prefix, git_tree_entry_name(ea));
        bool ta = git_tree_entry_filemode(ea) == GIT_FILEMODE_TREE;
        bool tb = git_tree_entry_filemode(eb) == GIT_FILEMODE_TREE;
        if (ta && tb) {
          auto sa = lookup(ea, path);
          auto sb = lookup(eb, path);
          trees(sa.get(), sb.get(), path);
        } else if (!ta && !tb) {
          modified.push_back(path);
        } else {
          side(ea, prefix, deleted);
          side(eb, prefix, added);
        }
      } else if (cmp < 0) {
        side(ea, prefix, deleted);
        ++i;
      } else {
        side(eb, prefix, added);
        ++j;
      }
    }
  }

  std::vector<Leaf> added, deleted;
  std::vector<std::string> modified;

private:
  TreePtr lookup(const git_tree_entry* e, const std::string& path) {
    git_tree* raw = nullptr;
    check(git_tree_lookup(&raw, repo_.raw(), git_tree_entry_id(e)), "cannot read tree '" + path + "'");
    return TreePtr(raw);
  }

  // Every leaf below (or at) an entry present on one side only.
  void side(const git_tree_entry* e, const std::string& prefix, std::vector<Leaf>& out) {
    std::string path = util::join_path(prefix, git_tree_entry_name(e));
    if (git_tree_entry_filemode(e) != GIT_FILEMODE_TREE) {
      out.push_back({path, *git_tree_entry_id(e)});
      return;
    }
    auto sub = lookup(e, path);
    for (size_t k = 0, n = git_tree_entrycount(sub.get()); k < n; ++k)
      side(git_tree_entry_byindex(sub.get(), k), path, out);
  }

  const Repository& repo_;
};

} // namespace

std::vector<TreeChange> diff_trees(const Repository& repo, git_tree* old_tree, git_tree* new_tree) {
  Differ d(repo);
  d.trees(old_tree, new_tree, "");
  std::vector<TreeChange> out;
  for (auto& p : d.modified)
    out.push_back({TreeChange::Kind::Modified, std::move(p), {}});
  // Exact renames: a deleted and an added file with the same content.
  std::unordered_multimap<std::string, size_t> deleted_by_id;
  for (size_t k = 0; k < d.deleted.size(); ++k)
    deleted_by_id.emplace(oid_hex(d.deleted[k].id), k);
  std::vector<bool> paired(d.deleted.size(), false);
  for (auto& a : d.added) {
    auto range = deleted_by_id.equal_range(oid_hex(a.id));
    auto it = std::find_if(range.first, range.second, [&](auto& kv) { return !paired[kv.second]; });
    if (it != range.second) {
      paired[it->second] = true;
      out.push_back({TreeChange::Kind::Renamed, std::move(a.path), d.deleted[it->second].path});
    } else {
      out.push_back({TreeChange::Kind::Added, std::move(a.path), {}});
    }
  }
  for (size_t k = 0; k < d.deleted.size(); ++k)
    if (!paired[k])
      out.push_back({TreeChange::Kind::Deleted, std::move(d.deleted[k].path), {}});
  std::sort(out.begin(), out.end(), [](const TreeChange& x, const TreeChange& y) { return x.path < y.path; });
  return out;
}

} // namespace mlrepo::git
