// The git index reader, which parses .git/index itself (versions 2-4,
// extensions, sparse directory entries).
#include "mlrepo/git/index_reader.hpp"

#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // It reads a file (mapped); one per process, rewritten each time.
  static const std::string path = "/tmp/mlrepo-fuzz-index-" + std::to_string(::getpid());
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f)
    return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  if (auto index = mlrepo::git::read_index_file(path)) {
    size_t total = 0;
    for (const auto& e : index->entries)
      total += e.path.size();
    (void)total;
  }
  return 0;
}
