#include "mlrepo/docker/container.hpp"

#include "mlrepo/util/error.hpp"

#include <atomic>
#include <cctype>
#include <unistd.h>

namespace mlrepo::docker {

ContainerGuard::ContainerGuard(util::ProcessRunner& runner, std::string docker, const std::string& project)
    : docker_(std::move(docker)), name_(make_name(project)), runner_(runner) {}

ContainerGuard::~ContainerGuard() {
  if (util::interrupted())
    remove();
}

void ContainerGuard::stop() {
  util::ProcessSpec spec;
  spec.argv = {docker_, "stop", "--time", "3", name_};
  spec.ignore_interrupt = true;
  try {
    runner_.run(spec);
  } catch (const Error&) {
  }
}

void ContainerGuard::remove() {
  util::ProcessSpec spec;
  spec.argv = {docker_, "rm", "--force", name_};
  spec.ignore_interrupt = true;
  try {
    runner_.run(spec);
  } catch (const Error&) {
  }
}

std::string ContainerGuard::make_name(const std::string& project) {
  static std::atomic<int> counter{0}; // pipeline steps start containers from several threads
  std::string safe;
  for (char c : project)
    safe += std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' ? c : '-';
  return "mlrepo-" + safe + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

} // namespace mlrepo::docker
