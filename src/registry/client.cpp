#include "mlrepo/registry/client.hpp"

#include "mlrepo/util/base64.hpp"
#include "mlrepo/util/image_ref.hpp"
#include "mlrepo/util/process.hpp"

#include <nlohmann/json.hpp>
#include <thread>

namespace mlrepo::registry {
namespace {


std::string url_encode(const std::string& in) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
      out += static_cast<char>(c);
    else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// The registry's own explanation ({"errors":[{"code","message"}]}), if any.
std::string registry_errors(const HttpResponse& r) {
  try {
    auto doc = nlohmann::json::parse(r.body);
    std::string out;
    for (const auto& e : doc.at("errors")) {
      if (!out.empty())
        out += "; ";
      out += e.value("code", "") + (e.contains("message") ? ": " + e.value("message", "") : "");
    }
    return out;
  } catch (const std::exception&) {
    return {};
  }
}

bool transient(long status) { return status == 429 || status >= 500; }

} // namespace

const char* const kManifestAccept =
    "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

std::string ImageName::str() const {
  return registry + "/" + repository + (reference.rfind("sha256:", 0) == 0 ? "@" : ":") + reference;
}

ImageName parse_image_name(const std::string& reference) {
  std::string rest = reference;
  ImageName out;
  if (auto at = rest.find('@'); at != std::string::npos) {
    out.reference = rest.substr(at + 1);
    rest.resize(at);
  } else {
    auto colon = rest.rfind(':');
    auto slash = rest.rfind('/');
    if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
      out.reference = rest.substr(colon + 1);
      rest.resize(colon);
    }
  }
  if (out.reference.empty())
    throw UsageError("'" + reference + "' names no tag or digest", "write it as image:tag");
  if (auto problem = util::repository_problem(rest))
    throw UsageError("'" + reference + "' is not an image reference: " + *problem);
  auto split = util::split_repository(rest);
  out.registry = split.domain.empty() ? "docker.io" : split.domain;
  if (out.registry == "index.docker.io")
    out.registry = "docker.io";
  out.repository = split.path;
  if (out.registry == "docker.io" && out.repository.find('/') == std::string::npos)
    out.repository = "library/" + out.repository;
  return out;
}

bool is_loopback(const std::string& registry) {
  std::string host = registry;
  if (host.rfind("[::1]", 0) == 0)
    return true;
  if (auto colon = host.rfind(':'); colon != std::string::npos)
    host.resize(colon);
  return host == "localhost" || host.rfind("127.", 0) == 0;
}

std::optional<Challenge> parse_challenge(const std::string& header) {
  Challenge c;
  size_t i = 0;
  auto skip_space = [&] {
    while (i < header.size() && (header[i] == ' ' || header[i] == '\t'))
      ++i;
  };
  skip_space();
  while (i < header.size() && header[i] != ' ')
    c.scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(header[i++])));
  if (c.scheme.empty())
    return std::nullopt;
  while (i < header.size()) {
    skip_space();
    size_t eq = header.find('=', i);
    if (eq == std::string::npos)
      break;
    std::string key = header.substr(i, eq - i);
    for (auto& ch : key)
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    i = eq + 1;
    std::string value;
    if (i < header.size() && header[i] == '"') {
      ++i;
      while (i < header.size() && header[i] != '"') {
        if (header[i] == '\\' && i + 1 < header.size())
          ++i;
        value += header[i++];
      }
      ++i; // closing quote
    } else {
      while (i < header.size() && header[i] != ',')
        value += header[i++];
    }
    c.params[key] = value;
    skip_space();
    if (i < header.size() && header[i] == ',')
      ++i;
  }
  return c;
}

Client::Client(CredentialSource& credentials, ClientOptions options)
    : credentials_(credentials), options_(options) {}

std::string Client::base_url(const std::string& registry) {
  std::string host = registry == "docker.io" ? "registry-1.docker.io" : registry;
  std::lock_guard lock(mutex_);
  auto it = scheme_.find(registry);
  return (it == scheme_.end() ? "https" : it->second) + "://" + host;
}

std::string Client::authorize(const std::string& registry, const std::string& header, const std::string& scope) {
  auto challenge = parse_challenge(header);
  if (!challenge)
    return {};
  Credentials creds = credentials_.lookup(registry);
  if (challenge->scheme == "basic") {
    if (creds.username.empty() && creds.password.empty())
      return {};
    return "Authorization: Basic " + util::base64_encode(creds.username + ":" + creds.password);
  }
  if (challenge->scheme != "bearer")
    return {};
  std::string realm = challenge->params["realm"];
  if (realm.rfind("https://", 0) != 0 && !(realm.rfind("http://", 0) == 0 && is_loopback(normalise_registry_host(realm))))
    throw RegistryError("registry " + registry + " sends its token requests to '" + realm +
                            "', which is not an https address",
                        "check the registry's auth configuration; mlrepo sends credentials only over https", 401);
  std::string service = challenge->params["service"];
  std::string want = challenge->params.count("scope") ? challenge->params["scope"] : scope;
  HttpRequest req;
  req.connect_timeout_s = options_.connect_timeout_s;
  if (!creds.identity_token.empty()) {
    // An OAuth refresh token from `docker login` with a token.
    req.method = "POST";
    req.url = realm;
    req.headers.push_back("Content-Type: application/x-www-form-urlencoded");
    req.body = "grant_type=refresh_token&client_id=mlrepo&service=" + url_encode(service) +
               "&scope=" + url_encode(want) + "&refresh_token=" + url_encode(creds.identity_token);
  } else {
    req.url = realm + (realm.find('?') == std::string::npos ? "?" : "&") + "service=" + url_encode(service) +
              (want.empty() ? "" : "&scope=" + url_encode(want));
    if (!creds.username.empty() || !creds.password.empty())
      req.headers.push_back("Authorization: Basic " + util::base64_encode(creds.username + ":" + creds.password));
  }
  HttpResponse r;
  for (int attempt = 0;; ++attempt) {
    try {
      r = http_.send(req);
      if (!transient(r.status) || attempt >= options_.retries)
        break;
    } catch (const TransportError& e) {
      if (attempt >= options_.retries || util::interrupted())
        throw RegistryError("cannot reach the token service of " + registry + " (" + normalise_registry_host(realm) +
                                "): " + e.what(),
                            "check the network and try again", 0);
    }
    util::sleep_unless_interrupted(std::min(options_.delay * (1 << attempt), options_.max_delay));
  }
  if (r.status == 401 || r.status == 403)
    throw RegistryError("registry " + registry + " refused the credentials from " + credentials_.origin(registry) +
                            " (" + std::to_string(r.status) + " from its token service)",
                        "run 'docker login " + registry + "' again", r.status);
  if (r.status != 200)
    throw RegistryError("the token service of " + registry + " answered " + std::to_string(r.status),
                        transient(r.status) ? "the registry is having trouble: try again later"
                                            : "check the registry: setting in mlrepo.yaml",
                        r.status);
  try {
    auto doc = nlohmann::json::parse(r.body);
    std::string token = doc.value("token", "");
    if (token.empty())
      token = doc.value("access_token", "");
    if (!token.empty())
      return "Authorization: Bearer " + token;
  } catch (const std::exception&) {
  }
  throw RegistryError("the token service of " + registry + " answered without a token",
                      "check the registry: setting in mlrepo.yaml", r.status);
}

HttpResponse Client::send_once(const std::string& registry, HttpRequest req, const std::string& scope) {
  std::string key = registry + " " + scope;
  std::string auth;
  {
    std::lock_guard lock(mutex_);
    if (auto it = auth_.find(key); it != auth_.end())
      auth = it->second;
  }
  auto attempt = [&](const std::string& a) {
    HttpRequest r = req;
    if (!a.empty())
      r.headers.push_back(a);
    try {
      return http_.send(r);
    } catch (const TransportError& e) {
      // docker talks plain HTTP to loopback registries only; try it once the
      // TLS handshake has failed.
      std::lock_guard lock(mutex_);
      if (!e.tls() || !is_loopback(registry) || r.url.rfind("https://", 0) != 0)
        throw;
      scheme_[registry] = "http";
      r.url = "http" + r.url.substr(5);
      req.url = r.url;
    }
    return http_.send(r);
  };
  HttpResponse r = attempt(auth);
  if (r.status != 401)
    return r;
  std::string header = r.header("www-authenticate");
  if (header.empty())
    return r;
  std::string fresh = authorize(registry, header, scope);
  if (fresh.empty() || fresh == auth)
    return r;
  {
    std::lock_guard lock(mutex_);
    auth_[key] = fresh;
  }
  return attempt(fresh);
}

HttpResponse Client::request(const ImageName& image, const std::string& method, std::vector<std::string> headers,
                             const std::string& body, bool push) {
  return request_path(image, method, "/v2/" + image.repository + "/manifests/" + image.reference, std::move(headers),
                      body, "repository:" + image.repository + (push ? ":pull,push" : ":pull"));
}

HttpResponse Client::request_path(const ImageName& image, const std::string& method, const std::string& path,
                                  std::vector<std::string> headers, const std::string& body,
                                  const std::string& scope) {
  for (int attempt = 0;; ++attempt) {
    HttpRequest req;
    req.connect_timeout_s = options_.connect_timeout_s;
    req.method = method;
    req.url = base_url(image.registry) + path;
    req.headers = headers;
    req.body = body;
    std::chrono::milliseconds wait = std::min(options_.delay * (1 << std::min(attempt, 10)), options_.max_delay);
    std::string why;
    try {
      HttpResponse r = send_once(image.registry, req, scope);
      if (!transient(r.status) || attempt >= options_.retries || util::interrupted())
        return r;
      if (auto after = r.header("retry-after"); !after.empty() && std::isdigit(static_cast<unsigned char>(after[0])))
        wait = std::min(std::chrono::milliseconds(std::stol(after.substr(0, 6)) * 1000), options_.max_delay);
      why = "answered " + std::to_string(r.status);
    } catch (const TransportError& e) {
      if (util::interrupted())
        throw Error(ExitCode::Interrupted, "interrupted");
      if (attempt >= options_.retries)
        throw RegistryError("cannot reach registry " + image.registry + " for " + image.str() + ": " + e.what() +
                                (attempt > 0 ? " (after " + std::to_string(attempt + 1) + " attempts)" : ""),
                            "check that the registry: setting in mlrepo.yaml is right and the registry is up", 0);
      why = e.what();
    }
    if (options_.on_retry)
      options_.on_retry(image.str() + " (" + why + "); retry " + std::to_string(attempt + 1) + "/" +
                        std::to_string(options_.retries) + " in " + std::to_string(wait.count()) + " ms");
    util::sleep_unless_interrupted(wait);
  }
}

void Client::fail(const ImageName& image, const std::string& action, const HttpResponse& r, int attempts) {
  std::string msg = "registry " + image.registry + " answered " + std::to_string(r.status) + " to " + action + " " +
                    image.str();
  if (auto why = registry_errors(r); !why.empty())
    msg += " (" + why + ")";
  if (transient(r.status) && attempts > 1)
    msg += " after " + std::to_string(attempts) + " attempts";
  std::string hint;
  if (r.header("content-type").find("text/html") != std::string::npos && r.status != 401 && r.status != 403)
    hint = image.registry + " does not look like a container registry: check the registry: setting in mlrepo.yaml";
  else if (r.status == 401)
    hint = credentials_.lookup(image.registry).anonymous()
               ? "log in: 'docker login " + image.registry + "'"
               : "the credentials from " + credentials_.origin(image.registry) + " were refused: run 'docker login " +
                     image.registry + "' again";
  else if (r.status == 403)
    hint = "the account cannot " + std::string(action == "store" ? "push to" : "pull from") + " " +
           image.registry + "/" + image.repository +
           ": check its permissions, or that registry: in mlrepo.yaml names your namespace";
  else if (r.status == 429)
    hint = "the registry is rate limiting: wait and try again, or log in (anonymous limits are lower)";
  else if (r.status >= 500)
    hint = "the registry is having trouble: try again later";
  else if (r.status == 404)
    hint = "check the registry: setting in mlrepo.yaml";
  throw RegistryError(msg, hint, r.status);
}

std::optional<ManifestInfo> Client::head_manifest(const ImageName& image) {
  auto r = request(image, "HEAD", {std::string("Accept: ") + kManifestAccept}, {}, false);
  if (r.status == 404)
    return std::nullopt;
  if (r.status != 200)
    fail(image, "check", r, options_.retries + 1);
  ManifestInfo info;
  info.digest = r.header("docker-content-digest");
  info.media_type = r.header("content-type");
  auto length = r.header("content-length");
  info.size = length.empty() ? 0 : std::stoul(length.substr(0, 12));
  return info;
}

Manifest Client::get_manifest(const ImageName& image) {
  auto r = request(image, "GET", {std::string("Accept: ") + kManifestAccept}, {}, false);
  if (r.status != 200)
    fail(image, "read", r, options_.retries + 1);
  Manifest m;
  m.bytes = std::move(r.body);
  m.info.digest = r.header("docker-content-digest");
  if (m.info.digest.empty() && image.reference.rfind("sha256:", 0) == 0)
    m.info.digest = image.reference;
  m.info.media_type = r.header("content-type");
  m.info.size = m.bytes.size();
  if (m.info.media_type.empty())
    try {
      m.info.media_type = nlohmann::json::parse(m.bytes).value("mediaType", "");
    } catch (const std::exception&) {
    }
  return m;
}

std::string Client::put_manifest(const ImageName& image, const Manifest& manifest) {
  auto r = request(image, "PUT", {"Content-Type: " + manifest.info.media_type}, manifest.bytes, true);
  if (r.status != 201 && r.status != 200 && r.status != 202)
    fail(image, "store", r, options_.retries + 1);
  std::string digest = r.header("docker-content-digest");
  return digest.empty() ? manifest.info.digest : digest;
}

void Client::put_tags(const Manifest& manifest, const std::vector<std::string>& refs,
                      const std::function<void(const std::string&)>& stored) {
  for (const auto& ref : refs) {
    auto target = parse_image_name(ref);
    std::string digest = put_manifest(target, manifest);
    if (!manifest.info.digest.empty() && digest != manifest.info.digest)
      throw Error(ExitCode::WorkFailed, "registry " + target.registry + " stored " + ref + " as " + digest +
                                            ", not " + manifest.info.digest + " as copied",
                  "the registry rewrote the manifest; check its settings");
    if (stored)
      stored(ref);
  }
}


namespace {

// The next page of a paged list: `Link: </v2/x/tags/list?last=a&n=100>; rel="next"`.
std::string next_page(const HttpResponse& r) {
  std::string link = r.header("link");
  auto open = link.find('<'), close = link.find('>');
  if (open == std::string::npos || close == std::string::npos || close < open ||
      link.find("rel=\"next\"", close) == std::string::npos)
    return {};
  std::string target = link.substr(open + 1, close - open - 1);
  // Registries send a path; a full URL is cut to its path, so the next page
  // goes to the same host with the same credentials.
  if (auto scheme = target.find("://"); scheme != std::string::npos) {
    auto slash = target.find('/', scheme + 3);
    target = slash == std::string::npos ? "" : target.substr(slash);
  }
  return target.rfind("/v2/", 0) == 0 ? target : "";
}

} // namespace

std::vector<std::string> Client::paged_list(const ImageName& at, std::string path, const std::string& scope,
                                            const std::string& field, const std::string& what,
                                            const std::function<bool(const HttpResponse&)>& not_ok) {
  std::vector<std::string> out;
  for (int page = 0; !path.empty(); ++page) {
    if (page >= 10000)
      throw RegistryError("registry " + at.registry + " sent more than 10000 pages of " + what,
                          "check the registry: it keeps sending a next page", 0);
    auto r = request_path(at, "GET", path, {"Accept: application/json"}, {}, scope);
    if (r.status != 200 && not_ok(r))
      return out;
    try {
      auto doc = nlohmann::json::parse(r.body);
      if (doc.contains(field) && doc[field].is_array())
        for (const auto& name : doc[field])
          out.push_back(name.get<std::string>());
    } catch (const std::exception& e) {
      throw RegistryError("registry " + at.registry + " answered the list of " + what +
                              " with something that is not its JSON: " + e.what(),
                          "check the registry: setting in mlrepo.yaml", r.status);
    }
    path = next_page(r);
  }
  return out;
}

std::vector<std::string> Client::list_tags(const ImageName& repository) {
  return paged_list(repository, "/v2/" + repository.repository + "/tags/list?n=" + std::to_string(options_.page_size),
                    "repository:" + repository.repository + ":pull", "tags", "tags of " + repository.repository,
                    [&](const HttpResponse& r) -> bool {
                      if (r.status == 404)
                        return true; // no such repository yet: no tags
                      fail(repository, "list the tags of", r, options_.retries + 1);
                    });
}

std::vector<std::string> Client::list_repositories(const std::string& registry) {
  ImageName catalog{.registry = registry, .repository = "", .reference = ""};
  return paged_list(catalog, "/v2/_catalog?n=" + std::to_string(options_.page_size), "registry:catalog:*",
                    "repositories", "repositories", [&](const HttpResponse& r) -> bool {
                      throw RegistryError("registry " + registry + " does not list its repositories (" +
                                              std::to_string(r.status) + " to /v2/_catalog" +
                                              (registry_errors(r).empty() ? "" : ", " + registry_errors(r)) + ")",
                                          "--removed needs the catalog API; without it, delete a removed "
                                          "project's images with the registry's own tools or retention rules",
                                          r.status);
                    });
}

std::string Client::get_blob(const ImageName& image, const std::string& digest) {
  auto r = request_path(image, "GET", "/v2/" + image.repository + "/blobs/" + digest, {}, {},
                        "repository:" + image.repository + ":pull");
  if (r.status != 200)
    fail(image, "read the blob " + digest + " of", r, options_.retries + 1);
  return std::move(r.body);
}

void Client::delete_manifest(const ImageName& image) {
  auto r = request_path(image, "DELETE", "/v2/" + image.repository + "/manifests/" + image.reference, {}, {},
                        "repository:" + image.repository + ":delete");
  if (r.status == 202 || r.status == 200 || r.status == 404)
    return; // 404: gone already, which is what was asked
  if (r.status == 405 || registry_errors(r).find("UNSUPPORTED") != std::string::npos)
    throw DeleteUnsupported("registry " + image.registry + " does not allow deleting manifests (" +
                                std::to_string(r.status) +
                                (registry_errors(r).empty() ? "" : ", " + registry_errors(r)) + ")",
                            "use the registry's own retention instead (GitHub: the package's settings or "
                            "actions/delete-package-versions; ECR and Artifact Registry: lifecycle or cleanup "
                            "policies; Harbor: tag retention rules; docker registry: storage.delete.enabled: true)",
                            r.status);
  fail(image, "delete", r, options_.retries + 1);
}

} // namespace mlrepo::registry
