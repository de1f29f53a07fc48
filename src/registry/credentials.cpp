#include "mlrepo/registry/credentials.hpp"

#include "mlrepo/util/base64.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"

#include <cstdlib>
#include <nlohmann/json.hpp>

namespace mlrepo::registry {
namespace {

using nlohmann::json;

// Docker Hub's credentials are stored under its v1 index URL.
std::string helper_server_url(const std::string& host) {
  return host == "docker.io" ? "https://index.docker.io/v1/" : host;
}

} // namespace

std::string normalise_registry_host(std::string key) {
  for (const char* scheme : {"https://", "http://"})
    if (key.rfind(scheme, 0) == 0)
      key = key.substr(std::string(scheme).size());
  auto slash = key.find('/');
  if (slash != std::string::npos)
    key.resize(slash);
  if (key == "index.docker.io" || key == "registry-1.docker.io" || key == "registry.hub.docker.com")
    key = "docker.io";
  return key;
}

std::string DockerConfigCredentials::default_config_dir() {
  if (const char* d = std::getenv("DOCKER_CONFIG"); d && *d)
    return d;
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "") + "/.docker";
}

DockerConfigCredentials::DockerConfigCredentials(util::ProcessRunner& runner, std::optional<std::string> config_dir)
    : runner_(runner), dir_(config_dir ? *config_dir : default_config_dir()) {}

void DockerConfigCredentials::load() {
  if (loaded_)
    return;
  loaded_ = true;
  std::string file = dir_ + "/config.json";
  auto text = util::read_file(file);
  if (!text)
    return; // no config: anonymous, as docker
  json doc;
  try {
    doc = json::parse(*text);
  } catch (const json::exception& e) {
    throw EnvironmentError(file + " is not valid JSON (" + std::string(e.what()) + ")",
                           "fix or remove it; 'docker login' writes it again");
  }
  if (!doc.is_object())
    throw EnvironmentError(file + " is not a JSON object", "fix or remove it; 'docker login' writes it again");
  if (auto it = doc.find("auths"); it != doc.end() && it->is_object()) {
    for (const auto& [key, entry] : it->items()) {
      if (!entry.is_object())
        continue;
      Credentials c;
      if (auto a = entry.find("auth"); a != entry.end() && a->is_string() && !a->get<std::string>().empty()) {
        auto decoded = util::base64_decode(a->get<std::string>());
        auto colon = decoded ? decoded->find(':') : std::string::npos;
        // Never quote the value: it is a password.
        if (colon == std::string::npos)
          throw EnvironmentError(file + ": the \"auth\" entry for " + key + " is not base64 of user:password",
                                 "run 'docker login " + normalise_registry_host(key) + "' again");
        c.username = decoded->substr(0, colon);
        c.password = decoded->substr(colon + 1);
      }
      if (auto u = entry.find("username"); u != entry.end() && u->is_string())
        c.username = u->get<std::string>();
      if (auto p = entry.find("password"); p != entry.end() && p->is_string())
        c.password = p->get<std::string>();
      if (auto t = entry.find("identitytoken"); t != entry.end() && t->is_string())
        c.identity_token = t->get<std::string>();
      auths_[normalise_registry_host(key)] = c;
    }
  }
  if (auto it = doc.find("credHelpers"); it != doc.end() && it->is_object())
    for (const auto& [key, helper] : it->items())
      if (helper.is_string())
        helpers_[normalise_registry_host(key)] = helper.get<std::string>();
  if (auto it = doc.find("credsStore"); it != doc.end() && it->is_string())
    store_ = it->get<std::string>();
}

std::optional<std::string> DockerConfigCredentials::helper_for(const std::string& host) const {
  if (auto it = helpers_.find(host); it != helpers_.end())
    return it->second;
  if (!store_.empty())
    return store_;
  return std::nullopt;
}

Credentials DockerConfigCredentials::from_helper(const std::string& helper, const std::string& host) {
  // Helper names come from the user's own config; still, only a bare name.
  if (helper.empty() || helper.find('/') != std::string::npos)
    throw EnvironmentError(dir_ + "/config.json names the credential helper '" + helper + "', which is not a helper name",
                           "set credsStore/credHelpers to a name such as 'pass' or 'secretservice'");
  util::ProcessSpec spec;
  spec.argv = {"docker-credential-" + helper, "get"};
  spec.stdin_data = helper_server_url(host);
  util::ProcessResult r;
  try {
    r = runner_.run(spec);
  } catch (const Error&) {
    throw EnvironmentError("the credential helper docker-credential-" + helper + " (named in " + dir_ +
                               "/config.json for " + host + ") is not installed",
                           "install it, or remove it from credsStore/credHelpers and run 'docker login " + host + "'");
  }
  if (!r.ok()) {
    // Helpers answer "credentials not found in native keychain" for a registry
    // they hold nothing for: anonymous, as docker does.
    if ((r.out + r.err).find("not found") != std::string::npos)
      return {};
    throw EnvironmentError("the credential helper docker-credential-" + helper + " failed for " + host +
                               " (exit " + std::to_string(r.exit_code) + ")",
                           "run 'docker login " + host + "' again, or check the helper");
  }
  json doc;
  try {
    doc = json::parse(r.out);
  } catch (const json::exception&) {
    throw EnvironmentError("the credential helper docker-credential-" + helper + " gave an answer that is not JSON",
                           "check the helper: 'echo " + helper_server_url(host) + " | docker-credential-" + helper + " get'");
  }
  Credentials c;
  std::string user = doc.value("Username", "");
  std::string secret = doc.value("Secret", "");
  if (user == "<token>")
    c.identity_token = secret; // what docker stores for a token login
  else {
    c.username = user;
    c.password = secret;
  }
  return c;
}

Credentials DockerConfigCredentials::lookup(const std::string& registry) {
  std::string host = normalise_registry_host(registry);
  std::lock_guard lock(mutex_);
  load();
  if (auto it = cache_.find(host); it != cache_.end())
    return it->second;
  Credentials c;
  if (auto helper = helper_for(host))
    c = from_helper(*helper, host);
  if (c.anonymous())
    if (auto it = auths_.find(host); it != auths_.end())
      c = it->second;
  cache_[host] = c;
  return c;
}

std::string DockerConfigCredentials::origin(const std::string& registry) {
  std::string host = normalise_registry_host(registry);
  std::lock_guard lock(mutex_);
  load();
  if (auto h = helper_for(host))
    return "the credential helper docker-credential-" + *h;
  if (auths_.count(host))
    return dir_ + "/config.json";
  return "no credentials (anonymous)";
}

} // namespace mlrepo::registry
