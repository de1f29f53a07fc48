// The discovery cache decoders: .git/mlrepo/cache files (per tree, and the
// work tree's entry) are outside input (truncated by a full disk, written by
// another version, edited).
#include "mlrepo/project/cache.hpp"
#include "mlrepo/project/worktree_cache.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // Past the checksum, which a mutated input would almost never pass.
  (void)mlrepo::project::decode_discovery_payload(in);
  (void)mlrepo::project::deserialize_discovery(in);
  // The work-tree cache entry, and the discovery it holds.
  if (auto entry = mlrepo::project::WorktreeCache::decode(in, nullptr))
    (void)mlrepo::project::decode_discovery_payload(entry->discovery);
  return 0;
}
