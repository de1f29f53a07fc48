#pragma once
// Registry credentials found the way docker finds them: the client config
// (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`) with its
// `auths`, `credHelpers` and `credsStore`, else anonymous. Values live only in
// memory: never in argv, logs or error messages.
#include "mlrepo/util/process.hpp"

#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace mlrepo::registry {

struct Credentials {
  std::string username;
  std::string password;
  std::string identity_token; // an OAuth refresh token (docker login with a token)
  bool anonymous() const { return username.empty() && password.empty() && identity_token.empty(); }
};

class CredentialSource {
public:
  virtual ~CredentialSource() = default;
  // `registry` is a host as written in image references ("ghcr.io",
  // "localhost:5000", "docker.io" for Docker Hub).
  virtual Credentials lookup(const std::string& registry) = 0;
  // Where they came from, for messages ("~/.docker/config.json", "helper docker-credential-pass").
  virtual std::string origin(const std::string& registry) = 0;
};

class DockerConfigCredentials : public CredentialSource {
public:
  // `config_dir`: the directory holding config.json; nullopt finds it as docker does.
  DockerConfigCredentials(util::ProcessRunner& runner, std::optional<std::string> config_dir = std::nullopt);
  Credentials lookup(const std::string& registry) override;
  std::string origin(const std::string& registry) override;

  // The docker config directory: $DOCKER_CONFIG, else $HOME/.docker.
  static std::string default_config_dir();

private:
  void load();
  std::optional<std::string> helper_for(const std::string& host) const;
  Credentials from_helper(const std::string& helper, const std::string& server);

  util::ProcessRunner& runner_;
  std::string dir_;
  std::mutex mutex_;
  bool loaded_ = false;
  std::map<std::string, Credentials> auths_;   // by host
  std::map<std::string, std::string> helpers_; // host -> helper suffix
  std::string store_;                          // credsStore
  std::map<std::string, Credentials> cache_;   // helper answers, by host
};

// "https://index.docker.io/v1/" -> "docker.io"; "https://ghcr.io/x" -> "ghcr.io".
std::string normalise_registry_host(std::string key);

} // namespace mlrepo::registry
