// Globs (exclude, global_triggers, .dockerignore): pattern and path split at
// the first NUL. Matching must stay linear: libFuzzer's -timeout catches a
// blow-up as a finding.
#include "mlrepo/project/dockerignore.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/glob.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto nul = in.find('\0');
  std::string_view pattern = in.substr(0, nul);
  std::string_view path = nul == std::string_view::npos ? std::string_view("a/b/c.txt") : in.substr(nul + 1);
  (void)mlrepo::util::glob_problem(pattern);
  (void)mlrepo::util::glob_base(pattern);
  // Over the bound, the matcher and the ignore-file reader refuse (a
  // UsageError): that, not a deep recursion or a large memo, is expected.
  try {
    (void)mlrepo::util::glob_match(pattern, path);
  } catch (const mlrepo::UsageError&) {
  }
  try {
    mlrepo::project::DockerIgnore ignore{std::string(pattern)};
    (void)ignore.ignores(path);
  } catch (const mlrepo::project::PatternTooLong&) {
  }
  return 0;
}
