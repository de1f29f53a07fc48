#include "mlrepo/git/index_reader.hpp"

#include "mlrepo/util/fs.hpp"

#include <cstring>

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
constexpr uint16_t kExtended = 0x4000;
constexpr uint16_t kSkipWorktree = 0x4000; // in the extended flags

} // namespace

std::optional<IndexPaths> read_index_paths(const std::string& index_file) {
  auto data = util::read_file(index_file);
  if (!data || data->size() < kHeader + kHashSize || data->compare(0, 4, "DIRC") != 0)
    return std::nullopt;
  IndexPaths out;
  out.storage = std::move(*data);
  const std::string& d = out.storage;
  uint32_t version = be32(d.data() + 4);
  uint32_t count = be32(d.data() + 8);
  if (version < 2 || version > 4 || count > d.size())
    return std::nullopt;
  size_t end = d.size() - kHashSize;
  size_t pos = kHeader;
  out.paths.reserve(count);
  out.modes.reserve(count);
  // Version 4 paths are stored as (strip N bytes of the previous path, suffix):
  // they are rebuilt into `rebuilt` and referenced after the loop.
  std::string rebuilt;
  std::vector<std::pair<size_t, size_t>> spans;
  std::string previous;
  for (uint32_t i = 0; i < count; ++i) {
    if (pos + kFixed > end)
      return std::nullopt;
    const char* e = d.data() + pos;
    uint32_t mode = be32(e + 24);
    uint16_t flags = be16(e + 60);
    size_t p = pos + kFixed;
    if (flags & kExtended) {
      if (version < 3 || p + 2 > end)
        return std::nullopt;
      if (be16(d.data() + p) & kSkipWorktree)
        return std::nullopt; // sparse checkouts: leave them to libgit2
      p += 2;
    }
    if ((mode & 0170000) == 0040000)
      return std::nullopt; // a sparse-index directory entry
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
      if (nul == std::string::npos || nul >= end || strip > previous.size())
        return std::nullopt;
      previous.resize(previous.size() - strip);
      previous.append(d, p, nul - p);
      spans.emplace_back(rebuilt.size(), previous.size());
      rebuilt += previous;
      pos = nul + 1;
    } else {
      size_t nul = d.find('\0', p);
      if (nul == std::string::npos || nul >= end)
        return std::nullopt;
      out.paths.emplace_back(d.data() + p, nul - p);
      // Entries are padded with 1 to 8 NULs to a multiple of 8 bytes.
      size_t len = nul - pos;
      pos += (len + 8) & ~size_t{7};
    }
    // Merge conflicts list a path up to three times; the first is enough.
    uint16_t stage = (flags >> 12) & 3;
    if (stage > 1) {
      if (version != 4)
        out.paths.pop_back();
      else
        spans.pop_back();
      continue;
    }
    out.modes.push_back(mode);
  }
  // Extensions: refuse a split index (its entries live in another file).
  while (pos + 8 <= end) {
    if (d.compare(pos, 4, "link") == 0 || d.compare(pos, 4, "sdir") == 0)
      return std::nullopt;
    pos += 8 + be32(d.data() + pos + 4);
  }
  if (version == 4) {
    out.storage.swap(rebuilt); // the file itself is no longer needed
    for (auto [start, len] : spans)
      out.paths.emplace_back(out.storage.data() + start, len);
  }
  if (out.paths.size() != out.modes.size())
    return std::nullopt;
  return out;
}

} // namespace mlrepo::git
