#pragma once
// libcurl, loaded when the registry is first asked, not at start-up: linked
// directly, it and its TLS, LDAP, RTMP and compression libraries were most of
// what every mlrepo process mapped before main() (`--version` spent 93% of
// its CPU in the loader). Only http.cpp calls these.
#include <curl/curl.h>

namespace mlrepo::registry {

struct CurlApi {
  CURLcode (*global_init)(long flags);
  CURL* (*easy_init)();
  void (*easy_reset)(CURL* handle);
  void (*easy_cleanup)(CURL* handle);
  CURLcode (*easy_setopt)(CURL* handle, CURLoption option, ...);
  CURLcode (*easy_perform)(CURL* handle);
  CURLcode (*easy_getinfo)(CURL* handle, CURLINFO info, ...);
  const char* (*easy_strerror)(CURLcode code);
  curl_slist* (*slist_append)(curl_slist* list, const char* text);
  void (*slist_free_all)(curl_slist* list);
};

// Loads libcurl.so.4 once (thread-safe) and initialises it; throws
// EnvironmentError naming the package when it cannot.
const CurlApi& curl_api();

} // namespace mlrepo::registry
