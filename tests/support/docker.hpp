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
  ~ImageScope();
  const std::string& prefix() const { return prefix_; }

private:
  std::string prefix_;
};

bool image_exists(const std::string& ref);
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

private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

// Debian's docker-registry on 127.0.0.1, on a free port, with its own storage.
class Registry {
public:
  Registry();
  ~Registry();
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  void start();
  void stop();

private:
  TempDir dir_;
  int port_;
  std::unique_ptr<Background> process_;
};

} // namespace mlrepo::test
