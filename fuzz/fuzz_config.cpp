// Both kinds of mlrepo.yaml. Bad input must be a ConfigError (exit 2, file
// and line), never another exception or a crash.
#include "mlrepo/config/config.hpp"
#include "mlrepo/util/error.hpp"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)mlrepo::config::parse_workspace_config(text, "mlrepo.yaml");
  } catch (const mlrepo::Error&) {
  }
  try {
    (void)mlrepo::config::parse_project_config(text, "app/mlrepo.yaml");
  } catch (const mlrepo::Error&) {
  }
  return 0;
}
