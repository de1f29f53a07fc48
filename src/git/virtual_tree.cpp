#include "mlrepo/git/virtual_tree.hpp"

#include "mlrepo/git/handles.hpp"

#include <algorithm>
#include <sys/stat.h>
#include <unistd.h>

namespace mlrepo::git {
namespace {

constexpr uint32_t kTree = 0040000, kSymlink = 0120000;

} // namespace

VirtualTree::VirtualTree(const Repository& repo, git_tree* head, const std::vector<WorktreeChange>& dirty)
    : repo_(repo), head_(head) {
  for (const auto& c : dirty)
    overlay_.emplace(c.path, std::nullopt); // filled in on first use
  for (const auto& c : dirty)
    if (c.kind != WorktreeChange::Kind::Deleted)
      overlay_[c.path] = Entry{0, {}}; // mode 0: not hashed yet
}

std::optional<VirtualTree::Entry> VirtualTree::overlay_of(const std::string& path) {
  auto& slot = overlay_.at(path);
  if (!slot || slot->mode != 0)
    return slot;
  std::string full = repo_.workdir() + "/" + path;
  struct stat st;
  if (::lstat(full.c_str(), &st) != 0 || S_ISDIR(st.st_mode)) {
    slot.reset(); // gone since, or a nested repository: not content git would hold
    return slot;
  }
  Entry e{};
  if (S_ISLNK(st.st_mode)) {
    std::string target(4096, '\0');
    ssize_t len = ::readlink(full.c_str(), target.data(), target.size());
    e.mode = kSymlink;
    check(len < 0 ? -1 : git_odb_hash(&e.id, target.data(), static_cast<size_t>(len), GIT_OBJECT_BLOB),
               "cannot read the link '" + path + "'");
  } else {
    e.mode = (st.st_mode & S_IXUSR) ? 0100755 : 0100644;
    // As git would store it: through the filters its attributes name, so
    // that committing these bytes gives this very id.
    check(git_repository_hashfile(&e.id, repo_.raw(), path.c_str(), GIT_OBJECT_BLOB, nullptr),
               "cannot read '" + path + "'");
  }
  slot = e;
  return slot;
}

std::string VirtualTree::id(const std::string& path, const PathFilter* filter) {
  used_uncommitted_ = false;
  std::optional<Entry> out;
  if (overlay_.count(path)) {
    used_uncommitted_ = true;
    out = overlay_of(path);
  } else if (path.empty()) {
    out = tree_id(path, head_, filter);
  } else {
    git_tree_entry* raw = nullptr;
    if (git_tree_entry_bypath(&raw, head_, path.c_str()) == 0) {
      TreeEntryPtr entry(raw);
      if (git_tree_entry_filemode(entry.get()) == GIT_FILEMODE_TREE) {
        git_tree* sub = nullptr;
        check(git_tree_lookup(&sub, repo_.raw(), git_tree_entry_id(entry.get())),
                   "cannot read tree '" + path + "'");
        TreePtr owned(sub);
        out = tree_id(path, owned.get(), filter);
      } else {
        out = Entry{static_cast<uint32_t>(git_tree_entry_filemode(entry.get())), *git_tree_entry_id(entry.get())};
      }
    } else {
      out = tree_id(path, nullptr, filter); // a directory only in the work tree
    }
  }
  return out ? oid_hex(out->id) : "absent";
}

std::optional<VirtualTree::Entry> VirtualTree::tree_id(const std::string& path, git_tree* tree,
                                                       const PathFilter* filter) {
  std::string prefix = path.empty() ? "" : path + "/";
  auto first = overlay_.lower_bound(prefix);
  bool overlay_below = first != overlay_.end() && first->first.compare(0, prefix.size(), prefix) == 0;
  bool filter_here = filter && filter->may_apply(path);
  if (!overlay_below && !filter_here)
    return tree ? std::optional<Entry>(Entry{kTree, *git_tree_id(tree)}) : std::nullopt;

  std::map<std::string, Entry> entries; // name -> entry
  for (size_t i = 0, n = tree ? git_tree_entrycount(tree) : 0; i < n; ++i) {
    const git_tree_entry* e = git_tree_entry_byindex(tree, i); // borrowed
    std::string name = git_tree_entry_name(e);
    std::string child = prefix + name;
    uint32_t mode = static_cast<uint32_t>(git_tree_entry_filemode(e));
    if (filter_here && (mode == kTree ? filter->skip_dir(child) : filter->skip_file(child)))
      continue;
    if (mode == kTree) {
      git_tree* raw = nullptr;
      check(git_tree_lookup(&raw, repo_.raw(), git_tree_entry_id(e)), "cannot read tree '" + child + "'");
      TreePtr sub(raw);
      if (auto r = tree_id(child, sub.get(), filter))
        entries[name] = *r;
    } else if (!overlay_.count(child)) {
      entries[name] = Entry{mode, *git_tree_entry_id(e)};
    }
  }
  // Uncommitted files here, and directories that exist only in the work tree.
  for (auto it = first; it != overlay_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    std::string_view rest = std::string_view(it->first).substr(prefix.size());
    size_t slash = rest.find('/');
    std::string name(rest.substr(0, slash));
    std::string child = prefix + name;
    if (filter_here && (slash == std::string_view::npos ? filter->skip_file(child) : filter->skip_dir(child)))
      continue;
    if (slash == std::string_view::npos) {
      used_uncommitted_ = true;
      if (auto e = overlay_of(child))
        entries[name] = *e;
      else
        entries.erase(name);
    } else if (!entries.count(name) || entries[name].mode != kTree) {
      bool in_head = false;
      if (tree)
        if (const git_tree_entry* e = git_tree_entry_byname(tree, name.c_str()))
          in_head = git_tree_entry_filemode(e) == GIT_FILEMODE_TREE;
      if (!in_head)
        if (auto r = tree_id(child, nullptr, filter))
          entries[name] = *r;
    }
  }
  if (entries.empty())
    return std::nullopt;
  // Git's tree format and order: a directory sorts as if its name ended in '/'.
  std::vector<std::pair<std::string, const Entry*>> sorted;
  for (const auto& [name, e] : entries)
    sorted.emplace_back(e.mode == kTree ? name + "/" : name, &e);
  std::sort(sorted.begin(), sorted.end());
  std::string data;
  for (const auto& [key, e] : sorted) {
    char mode[16];
    std::snprintf(mode, sizeof mode, "%o", e->mode);
    data += mode;
    data += ' ';
    data += e->mode == kTree ? key.substr(0, key.size() - 1) : key;
    data += '\0';
    data.append(reinterpret_cast<const char*>(e->id.id), GIT_OID_RAWSZ);
  }
  Entry out{kTree, {}};
  check(git_odb_hash(&out.id, data.data(), data.size(), GIT_OBJECT_TREE), "cannot hash a tree");
  return out;
}

} // namespace mlrepo::git
