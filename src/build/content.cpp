#include "mlrepo/build/content.hpp"

#include "mlrepo/util/fs.hpp"
#include "mlrepo/util/glob.hpp"

#include <algorithm>
#include <sys/stat.h>
#include <unistd.h>

namespace mlrepo::build {
namespace {

constexpr uint32_t kTree = 0040000, kSymlink = 0120000;

} // namespace

ContentIds::ContentIds(const git::Repository& repo, git_tree* head,
                       const std::vector<git::WorktreeChange>& dirty)
    : repo_(repo), head_(head) {
  for (const auto& c : dirty)
    overlay_.emplace(c.path, std::nullopt); // filled in on first use
  for (const auto& c : dirty)
    if (c.kind != git::WorktreeChange::Kind::Deleted)
      overlay_[c.path] = Entry{0, {}}; // mode 0: not hashed yet
}

std::optional<ContentIds::Entry> ContentIds::overlay_of(const std::string& path) {
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
    git::check(len < 0 ? -1 : git_odb_hash(&e.id, target.data(), static_cast<size_t>(len), GIT_OBJECT_BLOB),
               "cannot read the link '" + path + "'");
  } else {
    e.mode = (st.st_mode & S_IXUSR) ? 0100755 : 0100644;
    // As git would store it: through the filters its attributes name, so
    // that committing these bytes gives this very id.
    git::check(git_repository_hashfile(&e.id, repo_.raw(), path.c_str(), GIT_OBJECT_BLOB, nullptr),
               "cannot read '" + path + "'");
  }
  slot = e;
  return slot;
}

bool ContentIds::ignored(const std::string& path, const DockerIgnore* ignore, const std::string& context) const {
  return ignore && project::ignored_in_context(*ignore, context, path);
}

bool ContentIds::skipped_dir(const std::string& path, const DockerIgnore* ignore, const std::string& context) const {
  return ignored(path, ignore, context) && !ignore->has_exceptions();
}

std::string ContentIds::id(const std::string& path, const DockerIgnore* ignore, const std::string& context) {
  used_uncommitted_ = false;
  std::optional<Entry> out;
  if (overlay_.count(path)) {
    used_uncommitted_ = true;
    out = overlay_of(path);
  } else if (path.empty()) {
    out = tree_id(path, head_, ignore, context);
  } else {
    git_tree_entry* raw = nullptr;
    if (git_tree_entry_bypath(&raw, head_, path.c_str()) == 0) {
      git::TreeEntryPtr entry(raw);
      if (git_tree_entry_filemode(entry.get()) == GIT_FILEMODE_TREE) {
        git_tree* sub = nullptr;
        git::check(git_tree_lookup(&sub, repo_.raw(), git_tree_entry_id(entry.get())),
                   "cannot read tree '" + path + "'");
        git::TreePtr owned(sub);
        out = tree_id(path, owned.get(), ignore, context);
      } else {
        out = Entry{static_cast<uint32_t>(git_tree_entry_filemode(entry.get())), *git_tree_entry_id(entry.get())};
      }
    } else {
      out = tree_id(path, nullptr, ignore, context); // a directory only in the work tree
    }
  }
  return out ? git::oid_hex(out->id) : "absent";
}

std::optional<ContentIds::Entry> ContentIds::tree_id(const std::string& path, git_tree* tree,
                                                     const DockerIgnore* ignore, const std::string& context) {
  std::string prefix = path.empty() ? "" : path + "/";
  auto first = overlay_.lower_bound(prefix);
  bool overlay_below = first != overlay_.end() && first->first.compare(0, prefix.size(), prefix) == 0;
  bool ignore_here = ignore && !ignore->empty() &&
                     (util::path_within(path, context) || util::path_within(context, path));
  if (!overlay_below && !ignore_here)
    return tree ? std::optional<Entry>(Entry{kTree, *git_tree_id(tree)}) : std::nullopt;

  std::map<std::string, Entry> entries; // name -> entry
  for (size_t i = 0, n = tree ? git_tree_entrycount(tree) : 0; i < n; ++i) {
    const git_tree_entry* e = git_tree_entry_byindex(tree, i); // borrowed
    std::string name = git_tree_entry_name(e);
    std::string child = prefix + name;
    uint32_t mode = static_cast<uint32_t>(git_tree_entry_filemode(e));
    if (mode == kTree ? skipped_dir(child, ignore, context) : ignored(child, ignore, context))
      continue;
    if (mode == kTree) {
      git_tree* raw = nullptr;
      git::check(git_tree_lookup(&raw, repo_.raw(), git_tree_entry_id(e)), "cannot read tree '" + child + "'");
      git::TreePtr sub(raw);
      if (auto r = tree_id(child, sub.get(), ignore, context))
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
    if (slash == std::string_view::npos ? ignored(child, ignore, context) : skipped_dir(child, ignore, context))
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
        if (auto r = tree_id(child, nullptr, ignore, context))
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
  git::check(git_odb_hash(&out.id, data.data(), data.size(), GIT_OBJECT_TREE), "cannot hash a tree");
  return out;
}

} // namespace mlrepo::build
