// The Dockerfile reader: every function that reads a Dockerfile from a repository.
#include "mlrepo/project/dockerfile.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // Build args as a project config would give them; the first line names one.
  std::map<std::string, std::string> args{{"BASE", std::string(text.substr(0, text.find('\n')))}, {"TAG", "1"}};
  try {
    (void)mlrepo::project::image_uses(text, args);
    (void)mlrepo::project::copy_sources(text, args);
  } catch (const mlrepo::project::ExpansionTooLong&) {
    // The bounded expansion's own refusal, reported with its line: expected.
  }
  (void)mlrepo::project::buildkit_features(text);
  (void)mlrepo::project::declared_args(text);
  (void)mlrepo::project::parse_reference(text.substr(0, 300));
  return 0;
}
