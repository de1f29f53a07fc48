#include "mlrepo/registry/http.hpp"

#include "mlrepo/util/process.hpp"

#include "curl_api.hpp"

#include <mutex>

namespace mlrepo::registry {
namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_api().easy_cleanup(c); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_api().slist_free_all(l); }
};
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

struct Sink {
  HttpResponse* response;
  size_t max_body;
  bool too_big = false;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t n = size * count;
  if (sink->response->body.size() + n > sink->max_body) {
    sink->too_big = true;
    return 0; // makes curl fail the transfer
  }
  sink->response->body.append(data, n);
  return n;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t n = size * count;
  std::string line(data, n);
  if (line.rfind("HTTP/", 0) == 0) {
    sink->response->headers.clear(); // a new response (after a redirect or 100)
    return n;
  }
  auto colon = line.find(':');
  if (colon == std::string::npos)
    return n;
  std::string name = line.substr(0, colon);
  for (auto& c : name)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t start = line.find_first_not_of(" \t", colon + 1);
  size_t end = line.find_last_not_of(" \t\r\n");
  sink->response->headers[name] = start == std::string::npos || end < start ? "" : line.substr(start, end - start + 1);
  return n;
}

// An interrupted mlrepo abandons the request instead of waiting out a timeout.
int on_progress(void*, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return util::interrupted() ? 1 : 0;
}

} // namespace

std::string HttpResponse::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

struct HttpClient::Pool {
  std::mutex mutex;
  std::vector<CurlPtr> idle;
};

// libcurl is loaded (and initialised) by the first transfer, not here: a
// command that never asks the registry never maps it.
HttpClient::HttpClient() : pool_(std::make_unique<Pool>()) {}

HttpClient::~HttpClient() = default;

HttpResponse HttpClient::send(const HttpRequest& request, size_t max_body) {
  const CurlApi& api = curl_api();
  CurlPtr curl;
  {
    std::lock_guard lock(pool_->mutex);
    if (!pool_->idle.empty()) {
      curl = std::move(pool_->idle.back());
      pool_->idle.pop_back();
    }
  }
  if (!curl)
    curl.reset(api.easy_init());
  if (!curl)
    throw TransportError("cannot start libcurl", false);
  CURL* c = curl.get();
  api.easy_reset(c);

  HttpResponse response;
  Sink sink{&response, max_body};
  SlistPtr headers;
  for (const auto& h : request.headers)
    headers.reset(api.slist_append(headers.release(), h.c_str()));
  // libcurl would add "Expect: 100-continue" to PUTs with a body.
  headers.reset(api.slist_append(headers.release(), "Expect:"));

  char error[CURL_ERROR_SIZE] = {0};
  api.easy_setopt(c, CURLOPT_URL, request.url.c_str());
  api.easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  api.easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  api.easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  api.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  api.easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
  // Never send our Authorization header to another host after a redirect
  // (registries redirect to object storage).
  api.easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 0L);
  api.easy_setopt(c, CURLOPT_CONNECTTIMEOUT, request.connect_timeout_s);
  api.easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  api.easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  api.easy_setopt(c, CURLOPT_USERAGENT, "mlrepo");
  api.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  api.easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  api.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  api.easy_setopt(c, CURLOPT_HEADERDATA, &sink);
  api.easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  api.easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  if (request.method == "HEAD") {
    api.easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (request.method == "GET") {
    api.easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else {
    api.easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    api.easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    api.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }

  CURLcode rc = api.easy_perform(c);
  if (rc != CURLE_OK) {
    std::string why = error[0] ? error : api.easy_strerror(rc);
    if (sink.too_big)
      why = "the answer is larger than " + std::to_string(max_body) + " bytes";
    if (rc == CURLE_ABORTED_BY_CALLBACK)
      why = "interrupted";
    bool tls = rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION ||
               rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CIPHER || rc == CURLE_SSL_CACERT_BADFILE ||
               rc == CURLE_SSL_ENGINE_INITFAILED;
    throw TransportError(why, tls);
  }
  api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  api.easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  {
    std::lock_guard lock(pool_->mutex);
    pool_->idle.push_back(std::move(curl));
  }
  return response;
}

} // namespace mlrepo::registry
