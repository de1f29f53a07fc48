// The discovery cache decoder: .git/mlrepo/cache files are outside input
// (truncated by a full disk, written by another version, edited).
#include "mlrepo/project/cache.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)mlrepo::project::deserialize_discovery(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
