#pragma once
// A named container that an interrupt stops and removes: its `docker stop`
// and `docker rm` command lines live here, beside the engine's others.
#include "mlrepo/util/process.hpp"

#include <string>

namespace mlrepo::docker {

// A container mlrepo started and must not leave running: its name, and on
// interrupt `docker stop` (SIGTERM, then SIGKILL after a grace period) so the
// contract's "130 means every child has stopped" holds for containers too
// (the docker CLI alone leaves a detached container running when killed).
class ContainerGuard {
public:
  ContainerGuard(util::ProcessRunner& runner, std::string docker, const std::string& project);
  ~ContainerGuard();
  ContainerGuard(const ContainerGuard&) = delete;
  ContainerGuard& operator=(const ContainerGuard&) = delete;
  const std::string& name() const { return name_; }
  void stop();
  void remove();

private:
  static std::string make_name(const std::string& project);
  std::string docker_, name_;
  util::ProcessRunner& runner_;
};

} // namespace mlrepo::docker
