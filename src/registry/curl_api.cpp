#include "curl_api.hpp"

#include "mlrepo/util/error.hpp"

#include <dlfcn.h>
#include <mutex>
#include <string>

namespace mlrepo::registry {
namespace {

template <typename F> void bind(void* lib, F& slot, const char* name, std::string& missing) {
  slot = reinterpret_cast<F>(::dlsym(lib, name));
  if (!slot)
    missing += std::string(missing.empty() ? "" : ", ") + name;
}

} // namespace

const CurlApi& curl_api() {
  static CurlApi api{};
  static std::string error;
  static std::once_flag once;
  std::call_once(once, [] {
    // The soname the headers were built against; the executable's RPATH
    // (a bundle's lib/) is searched as for a linked library.
    void* lib = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      const char* why = ::dlerror();
      error = std::string("cannot load libcurl, which mlrepo needs to talk to the registry: ") +
              (why ? why : "libcurl.so.4 not found");
      return;
    }
    std::string missing;
    bind(lib, api.global_init, "curl_global_init", missing);
    bind(lib, api.easy_init, "curl_easy_init", missing);
    bind(lib, api.easy_reset, "curl_easy_reset", missing);
    bind(lib, api.easy_cleanup, "curl_easy_cleanup", missing);
    bind(lib, api.easy_setopt, "curl_easy_setopt", missing);
    bind(lib, api.easy_perform, "curl_easy_perform", missing);
    bind(lib, api.easy_getinfo, "curl_easy_getinfo", missing);
    bind(lib, api.easy_strerror, "curl_easy_strerror", missing);
    bind(lib, api.slist_append, "curl_slist_append", missing);
    bind(lib, api.slist_free_all, "curl_slist_free_all", missing);
    if (!missing.empty()) {
      error = "the libcurl found lacks " + missing;
      return;
    }
    api.global_init(CURL_GLOBAL_DEFAULT);
  });
  if (!error.empty())
    throw EnvironmentError(error, "install libcurl 7.85 or later (Debian: apt-get install libcurl4)");
  return api;
}

} // namespace mlrepo::registry
