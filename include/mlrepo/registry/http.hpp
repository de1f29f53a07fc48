#pragma once
// HTTP for the registry client, on libcurl. Knows nothing of registries:
// requests in, status, headers and body out. Safe to share between threads
// (a pool of connections, each used by one request at a time).
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace mlrepo::registry {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers; // "Name: value"
  std::string body;
  long connect_timeout_s = 15;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers; // names lower-cased; a repeated header keeps its last value
  std::string body;
  std::string header(const std::string& lower_name) const;
};

// The request never got an HTTP answer (connection refused, TLS, timeout).
class TransportError : public std::runtime_error {
public:
  TransportError(std::string message, bool tls) : std::runtime_error(std::move(message)), tls_(tls) {}
  bool tls() const { return tls_; } // the TLS handshake failed: maybe a plain-HTTP server
private:
  bool tls_;
};

class HttpClient {
public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Throws TransportError; any HTTP status is a response. Bodies beyond
  // `max_body` bytes fail the request (manifests are small; a server that
  // sends more is not a registry).
  HttpResponse send(const HttpRequest& request, size_t max_body = 8u << 20);

private:
  struct Pool;
  std::unique_ptr<Pool> pool_;
};

} // namespace mlrepo::registry
