#pragma once
// A read-only reader for the paths and modes in git's index file (format
// versions 2 to 4, as documented in git's gitformat-index). libgit2 1.5 takes
// several times longer to load a large index, because it builds a full
// in-memory index mlrepo does not need.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlrepo::git {

struct IndexPaths {
  std::string storage;                 // the file, or rebuilt v4 paths
  std::vector<std::string_view> paths; // sorted as git sorts them
  std::vector<uint32_t> modes;
};

// nullopt when the file is missing, damaged, or uses what this reader does not
// handle (a split or sparse index): callers then ask libgit2.
std::optional<IndexPaths> read_index_paths(const std::string& index_file);

} // namespace mlrepo::git
