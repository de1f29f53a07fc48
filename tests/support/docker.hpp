#pragma once
// Helpers for tests against the real Docker engine and a real registry.
#include "support/repo.hpp"

#include <string>
#include <sys/types.h>

namespace mlrepo::test {

// A local image with Debian's static busybox as /bin/sh, built once per run:
// nothing can be pulled here, so test Dockerfiles build FROM it.
const std::string& busybox_image();

// A unique image-name prefix for one test; its images are removed at the end.
class ImageScope {
public:
  ImageScope();
  // Images (and their containers) whose name contains `names`, which the
  // test did not choose (the demo's localhost:5000/acme/).
  explicit ImageScope(std::string names);
  ~ImageScope();
  const std::string& prefix() const { return prefix_; }

private:
  std::string prefix_;
};

bool image_exists(const std::string& ref);
// Whether the docker on PATH has only the classic builder (a CLI from 23 on
// without the buildx plugin).
bool path_docker_is_classic_only();
// Whether no container (running or not) of an image whose name contains
// `image` is left, waiting up to `timeout_s` for one that --rm is still
// removing: the daemon removes it just after the client returns.
bool no_container_left(const std::string& image, int timeout_s = 10);
bool remote_exists(const std::string& ref);
std::string docker(const std::vector<std::string>& args);

// A process started in the background, killed (with its group) on destruction.
class Background {
public:
  Background(const std::vector<std::string>& argv, const fs::path& cwd, const Env& env = {},
             const fs::path& output = {});
  ~Background();
  pid_t pid() const { return pid_; }
  void signal(int sig) const;
  // Waits for the process; returns its exit code (128+signal when killed).
  int wait(int timeout_s = 120);
  // Its exit code if it has ended, without waiting.
  std::optional<int> poll();

private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int code_ = -1;
};

// How a test registry wants clients to authenticate.
struct RegistryAuth {
  enum class Kind { None, Basic, Token } kind = Kind::None;
  std::string user, password;
  std::string refresh_token; // Token: an identity token the token service accepts for `user`
  bool deletes = true;       // storage.delete.enabled: false makes DELETE answer 405 UNSUPPORTED
};

// Debian's docker-registry on 127.0.0.1, on a free port, with its own storage.
// Token auth runs a token service beside it (tests/fixtures/token_server.py)
// that signs real JWTs the registry verifies.
class Registry {
public:
  explicit Registry(const RegistryAuth& auth = {});
  ~Registry();
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  void start();
  // start() without REQUIRE, for another thread (a REQUIRE there would
  // terminate the whole test binary): "" when it is up, else why not.
  std::string try_start();
  void stop();
  // What the registry's own storage says a tag points at ("" when absent):
  // an oracle independent of any client.
  std::string tag_digest(const std::string& repository, const std::string& tag) const;
  // Every tag the registry's storage holds for `repository`, sorted.
  std::vector<std::string> tags(const std::string& repository) const;
  // The stored bytes of a manifest, by digest.
  std::string manifest_bytes(const std::string& digest) const;
  // Whether `repository` still links the manifest `digest` (a deleted one is unlinked).
  bool has_manifest(const std::string& repository, const std::string& digest) const;

  // Token auth: one line per token issued ("alice repository:x:pull,push [...]").
  std::string grants() const;
  int port() const { return port_; }

private:
  void write_config();
  TempDir dir_;
  int port_;
  std::string auth_;   // the config's auth: section
  std::string marker_; // a response header only this registry sends
  bool deletes_ = false;
  std::unique_ptr<Background> process_;
  std::unique_ptr<Background> token_server_;
};

// A TCP port on 127.0.0.1 that was free a moment ago: only for a server
// that cannot choose its own (docker-registry); Registry retries on a lost
// race and checks the server answering is its own.
int free_port();
bool port_open(int port);
// The port a fixture server chose (it was started with port 0) and wrote to
// `file` once listening; REQUIREs it within 10 s, naming `log` if not.
int wait_for_port_file(const fs::path& file, const fs::path& log = {});

// A proxy in front of a Registry that answers `status` to its first
// `failures` requests, then forwards (tests/fixtures/flaky_proxy.py).
class FlakyProxy {
public:
  FlakyProxy(const Registry& upstream, int failures, int status = 503);
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string log() const; // one line per request it saw

private:
  void write_config();
  TempDir dir_;
  int port_;
  std::string auth_;   // the config's auth: section
  std::string marker_; // a response header only this registry sends
  bool deletes_ = false;
  std::unique_ptr<Background> process_;
};

} // namespace mlrepo::test
