// The discovery cache decoder: .git/mlrepo/cache files are outside input
// (truncated by a full disk, written by another version, edited).
#include "mlrepo/project/cache.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // Past the checksum, which a mutated input would almost never pass.
  (void)mlrepo::project::decode_discovery_payload(in);
  (void)mlrepo::project::deserialize_discovery(in);
  return 0;
}
