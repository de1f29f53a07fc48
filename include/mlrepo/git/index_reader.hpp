#pragma once
// A read-only reader for git's index file (format versions 2 to 4, as
// documented in git's gitformat-index): paths, modes, object ids, the stat
// data git recorded, and the cache-tree extension. libgit2 1.5 takes several
// times longer to load a large index, because it builds a full in-memory index
// mlrepo does not need.
#include "mlrepo/util/fs.hpp"

#include <git2.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlrepo::git {

struct IndexEntry {
  std::string_view path;
  const unsigned char* fixed = nullptr; // the entry's 62-byte header in the file
  uint32_t mode = 0;
  uint16_t stage = 0;
  bool assume_unchanged = false; // "assume valid": git does not look at the file
  bool intent_to_add = false;    // `git add -N`: in the index, no content yet
  // Sparse checkouts: git keeps this entry's content in the index only and
  // never looks at the work tree for it.
  bool skip_worktree = false;
  // A sparse index's directory entry ("dir/", mode 040000): the whole tree
  // `id()` is outside the checkout, unchanged.
  bool sparse_dir() const { return (mode & 0170000) == 0040000; }

  // Stat data as git stored it: 32-bit fields, truncated.
  uint32_t ctime_s() const { return be32(0); }
  uint32_t ctime_ns() const { return be32(4); }
  uint32_t mtime_s() const { return be32(8); }
  uint32_t mtime_ns() const { return be32(12); }
  uint32_t dev() const { return be32(16); }
  uint32_t ino() const { return be32(20); }
  uint32_t uid() const { return be32(28); }
  uint32_t gid() const { return be32(32); }
  uint32_t size() const { return be32(36); }
  git_oid id() const;

private:
  uint32_t be32(size_t at) const {
    return (uint32_t{fixed[at]} << 24) | (uint32_t{fixed[at + 1]} << 16) |
           (uint32_t{fixed[at + 2]} << 8) | fixed[at + 3];
  }
};

// One directory of the cache-tree extension: the tree id git would write for
// it, when still valid (git invalidates a directory and its parents whenever
// an entry below it changes).
struct CacheTreeNode {
  std::string_view name; // the directory's own name; "" for the root
  bool valid = false;
  git_oid id{};
  std::vector<size_t> children; // indexes into IndexFile::cache_tree
};

struct IndexFile {
  explicit IndexFile(util::MappedFile mapped) : file(std::move(mapped)) {}
  util::MappedFile file; // entries point into it
  std::string rebuilt; // version 4's prefix-compressed paths, spelled out
  std::vector<IndexEntry> entries; // sorted as git sorts them, all stages
  std::vector<CacheTreeNode> cache_tree; // [0] is the root when present
  int64_t mtime_ns = 0; // the file's, for git's "racily clean" rule
};

// nullopt when the file is missing, damaged, or uses what this reader does not
// handle (a split index): callers then ask libgit2.
std::optional<IndexFile> read_index_file(const std::string& index_file);

} // namespace mlrepo::git
