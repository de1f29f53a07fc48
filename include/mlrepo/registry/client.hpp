#pragma once
// A client of the Docker Registry HTTP API v2 (the OCI distribution spec),
// limited to what promotion and existence checks need: manifests by tag or
// digest, HEAD, GET and PUT, byte-exact. Knows nothing of projects.
#include "mlrepo/registry/credentials.hpp"
#include "mlrepo/registry/http.hpp"
#include "mlrepo/util/error.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace mlrepo::registry {

// "ghcr.io/acme/x:1" as the API addresses it.
struct ImageName {
  std::string registry;   // host as written; "docker.io" for Docker Hub
  std::string repository; // path on the registry ("acme/x", "library/python")
  std::string reference;  // tag or "sha256:…" digest
  std::string str() const; // registry/repository:tag or @digest
};
// Throws UsageError for something that is not a full reference with a tag or digest.
ImageName parse_image_name(const std::string& reference);

struct ManifestInfo {
  std::string digest;     // "sha256:…", as the registry names the bytes
  std::string media_type;
  size_t size = 0;
};

struct Manifest {
  ManifestInfo info;
  std::string bytes; // exactly as stored: the digest covers them
};

// A registry answer that is neither "present" nor "absent". exit 1.
class RegistryError : public Error {
public:
  RegistryError(std::string message, std::string hint, long status)
      : Error(ExitCode::WorkFailed, std::move(message), std::move(hint)), status_(status) {}
  long status() const { return status_; } // 0 when no HTTP answer came
private:
  long status_;
};

// The registry refuses deletes (405, or UNSUPPORTED): nothing can be pruned there.
class DeleteUnsupported : public RegistryError {
public:
  using RegistryError::RegistryError;
};

struct ClientOptions {
  int retries = 4;                             // after the first attempt, for 429, 5xx and transport errors
  std::chrono::milliseconds delay{500};        // first backoff, doubled each time
  std::chrono::milliseconds max_delay{8000};   // a Retry-After above this is capped
  long connect_timeout_s = 15;                 // per connection attempt
  int page_size = 1000;                        // entries asked per page of a tag or repository list
  // Told before each retry: what failed, e.g. "127.0.0.1:5000/x:1 (connection refused); retry 1/4 in 500 ms".
  std::function<void(const std::string&)> on_retry;
};

class Client {
public:
  explicit Client(CredentialSource& credentials, ClientOptions options = {});

  // nullopt when the registry has no such manifest.
  std::optional<ManifestInfo> head_manifest(const ImageName& image);
  // Throws RegistryError (status 404) when absent.
  Manifest get_manifest(const ImageName& image);
  // Stores `manifest` under image.reference (a tag); returns the digest the
  // registry gives it, which equals manifest.info.digest for the same bytes.
  std::string put_manifest(const ImageName& image, const Manifest& manifest);
  // Gives `manifest` (read from this registry) each tag in `refs` (full
  // references) by storing it again: a tag copy, no upload. Throws Error
  // when the registry stores it under another digest; `stored` is told of
  // each tag written, so a failure can say what was.
  void put_tags(const Manifest& manifest, const std::vector<std::string>& refs,
                const std::function<void(const std::string&)>& stored = {});
  // Every tag of image.repository (image.reference is ignored), all pages of
  // the paged list; none when the repository does not exist.
  std::vector<std::string> list_tags(const ImageName& repository);
  // Every repository of a registry (/v2/_catalog, all pages); throws
  // RegistryError when the registry does not offer the catalog.
  std::vector<std::string> list_repositories(const std::string& registry);
  // A blob's bytes (an image config, to read its labels).
  std::string get_blob(const ImageName& image, const std::string& digest);
  // Deletes the manifest image.reference names, which must be a digest: that
  // removes every tag on it. Throws DeleteUnsupported when the registry refuses deletes.
  void delete_manifest(const ImageName& image);

private:
  HttpResponse request(const ImageName& image, const std::string& method, std::vector<std::string> headers,
                       const std::string& body, bool push);
  HttpResponse request_path(const ImageName& image, const std::string& method, const std::string& path,
                            std::vector<std::string> headers, const std::string& body, const std::string& scope);
  // The names in the array `field` over every page of a paged list (the
  // `Link` header's next page). `not_ok` is told of an answer other than 200:
  // it throws, or returns true for "nothing there".
  std::vector<std::string> paged_list(const ImageName& at, std::string path, const std::string& scope,
                                      const std::string& field, const std::string& what,
                                      const std::function<bool(const HttpResponse&)>& not_ok);
  HttpResponse send_once(const std::string& registry, HttpRequest req, const std::string& scope);
  std::string authorize(const std::string& registry, const std::string& challenge, const std::string& scope);
  std::string base_url(const std::string& registry);
  [[noreturn]] void fail(const ImageName& image, const std::string& action, const HttpResponse& r, int attempts);

  CredentialSource& credentials_;
  ClientOptions options_;
  HttpClient http_;
  std::mutex mutex_;
  std::map<std::string, std::string> scheme_;   // registry -> "https" or "http" (loopback only)
  std::map<std::string, std::string> auth_;     // registry + " " + scope -> Authorization header
};

// The media types mlrepo accepts and copies: Docker v2 and OCI, single and multi-platform.
extern const char* const kManifestAccept;

// A registry host that docker would talk to over plain HTTP: localhost,
// 127.0.0.0/8 and [::1], with or without a port.
bool is_loopback(const std::string& registry);

// Parses a WWW-Authenticate value: the scheme (lower-case) and its parameters.
struct Challenge {
  std::string scheme;
  std::map<std::string, std::string> params;
};
std::optional<Challenge> parse_challenge(const std::string& header);

} // namespace mlrepo::registry
