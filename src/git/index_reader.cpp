#include "mlrepo/git/index_reader.hpp"

#include "mlrepo/util/fs.hpp"

#include <cstring>
#include <sys/stat.h>

namespace mlrepo::git {
namespace {

uint32_t be32(const char* p) {
  auto u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | u[3];
}

uint16_t be16(const char* p) {
  auto u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>((u[0] << 8) | u[1]);
}

constexpr size_t kHeader = 12;
constexpr size_t kFixed = 62;        // stat data, mode, ids, size, object id, flags
constexpr size_t kHashSize = 20;     // SHA-1 repositories only
constexpr size_t kIdAt = 40;         // the object id within the fixed part
constexpr uint16_t kAssumeValid = 0x8000;
constexpr uint16_t kExtended = 0x4000;
constexpr uint16_t kSkipWorktree = 0x4000; // in the extended flags
constexpr uint16_t kIntentToAdd = 0x2000;  // in the extended flags

// Parses one cache-tree node and, recursively, its subtrees (stored in
// preorder). Returns false on anything malformed.
bool parse_cache_tree(const char*& p, const char* end, std::vector<CacheTreeNode>& out, size_t& index,
                      int depth) {
  if (depth > 4096)
    return false;
  const char* nul = static_cast<const char*>(std::memchr(p, '\0', end - p));
  if (!nul)
    return false;
  CacheTreeNode node;
  node.name = std::string_view(p, nul - p);
  p = nul + 1;
  auto number = [&](char stop, long& value) {
    const char* q = static_cast<const char*>(std::memchr(p, stop, end - p));
    if (!q || q == p || q - p > 12)
      return false;
    std::string digits(p, q);
    char* tail = nullptr;
    value = std::strtol(digits.c_str(), &tail, 10);
    p = q + 1;
    return *tail == '\0';
  };
  long entries = 0, subtrees = 0;
  if (!number(' ', entries) || !number('\n', subtrees) || subtrees < 0)
    return false;
  if (entries >= 0) {
    if (end - p < static_cast<long>(kHashSize))
      return false;
    node.valid = true;
    git_oid_fromraw(&node.id, reinterpret_cast<const unsigned char*>(p));
    p += kHashSize;
  }
  index = out.size();
  out.push_back(node);
  for (long i = 0; i < subtrees; ++i) {
    size_t child = 0;
    if (!parse_cache_tree(p, end, out, child, depth + 1))
      return false;
    out[index].children.push_back(child);
  }
  return true;
}

} // namespace

git_oid IndexEntry::id() const {
  git_oid oid;
  git_oid_fromraw(&oid, fixed + kIdAt);
  return oid;
}

std::optional<IndexFile> read_index_file(const std::string& index_file) {
  auto mapped = util::MappedFile::open(index_file);
  if (!mapped)
    return std::nullopt;
  std::optional<IndexFile> result(std::in_place, std::move(*mapped));
  IndexFile& out = *result;
  out.mtime_ns = out.file.mtime_ns();
  std::string_view d = out.file.view();
  if (d.size() < kHeader + kHashSize || d.compare(0, 4, "DIRC") != 0)
    return std::nullopt;
  uint32_t version = be32(d.data() + 4);
  uint32_t count = be32(d.data() + 8);
  if (version < 2 || version > 4 || count > d.size())
    return std::nullopt;
  size_t end = d.size() - kHashSize;
  size_t pos = kHeader;
  out.entries.reserve(count);
  // Version 4 paths are stored as (strip N bytes of the previous path, suffix):
  // they are spelled out into `rebuilt` and referenced after the loop.
  std::vector<std::pair<size_t, size_t>> spans;
  // Entries view `rebuilt`: keep it on the heap (beyond the small-string
  // buffer) so that moving the IndexFile moves the characters with it.
  out.rebuilt.reserve(64);
  std::string previous;
  for (uint32_t i = 0; i < count; ++i) {
    if (pos + kFixed > end)
      return std::nullopt;
    const char* e = d.data() + pos;
    IndexEntry entry;
    entry.fixed = reinterpret_cast<const unsigned char*>(e);
    entry.mode = be32(e + 24);
    uint16_t flags = be16(e + 60);
    entry.stage = (flags >> 12) & 3;
    entry.assume_unchanged = flags & kAssumeValid;
    size_t p = pos + kFixed;
    if (flags & kExtended) {
      if (version < 3 || p + 2 > end)
        return std::nullopt;
      uint16_t extended = be16(d.data() + p);
      entry.skip_worktree = extended & kSkipWorktree;
      entry.intent_to_add = extended & kIntentToAdd;
      p += 2;
    }
    if (version == 4) {
      uint64_t strip = 0;
      unsigned char c;
      do { // git's offset varint: each continuation adds one before shifting
        if (p >= end)
          return std::nullopt;
        c = static_cast<unsigned char>(d[p++]);
        strip = (strip << 7) | (c & 0x7f);
        if (c & 0x80)
          ++strip;
      } while (c & 0x80);
      size_t nul = d.find('\0', p);
      if (nul == std::string_view::npos || nul >= end || strip > previous.size())
        return std::nullopt;
      previous.resize(previous.size() - strip);
      previous.append(d, p, nul - p);
      spans.emplace_back(out.rebuilt.size(), previous.size());
      out.rebuilt += previous;
      pos = nul + 1;
    } else {
      size_t nul = d.find('\0', p);
      if (nul == std::string_view::npos || nul >= end)
        return std::nullopt;
      entry.path = std::string_view(d.data() + p, nul - p);
      // Entries are padded with 1 to 8 NULs to a multiple of 8 bytes.
      size_t len = nul - pos;
      pos += (len + 8) & ~size_t{7};
    }
    out.entries.push_back(entry);
  }
  // Extensions: refuse a split index (its entries live in another file); keep
  // the cache-tree.
  while (pos + 8 <= end) {
    size_t size = be32(d.data() + pos + 4);
    if (d.compare(pos, 4, "link") == 0)
      return std::nullopt;
    if (pos + 8 + size > end)
      return std::nullopt;
    if (d.compare(pos, 4, "TREE") == 0 && size > 0) {
      const char* p = d.data() + pos + 8;
      size_t root = 0;
      if (!parse_cache_tree(p, p + size, out.cache_tree, root, 0))
        out.cache_tree.clear(); // only an optimisation: without it every tree is compared
    }
    pos += 8 + size;
  }
  if (version == 4)
    for (size_t k = 0; k < spans.size(); ++k)
      out.entries[k].path = std::string_view(out.rebuilt.data() + spans[k].first, spans[k].second);
  return result;
}

} // namespace mlrepo::git
