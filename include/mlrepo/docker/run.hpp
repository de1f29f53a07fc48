#pragma once
// `docker run` as mlrepo starts every container (a project's command, its
// tests, its job): removed when it ends (--rm), with an init process (--init:
// the command is not PID 1, which ignores signals it has no handler for, so
// SIGTERM and Ctrl-C end it as they would outside a container). run/ and job/
// say what they want; this file alone spells the command line. A second
// engine with another syntax would be another implementation of run_argv.
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mlrepo::docker {

struct RunRequest {
  std::string image;
  std::string name;         // --name, by which an interrupt stops it ("" for none)
  bool interactive = false; // -i: stdin reaches the command
  bool tty = false;         // -t
  std::vector<std::pair<std::string, std::string>> env; // -e NAME=VALUE
  // -e NAME: docker reads the value from its own environment, so no secret
  // value is ever in argv.
  std::vector<std::string> env_from_engine_env;
  std::vector<std::string> volumes; // -v HOST:CONTAINER[:MODE]
  std::optional<std::string> cpus, memory, gpus;
  std::vector<std::string> ports;        // -p
  std::optional<std::string> entrypoint; // replaces the image's ENTRYPOINT
  std::vector<std::string> command;      // after the image: its CMD, or the entrypoint's arguments
};

std::vector<std::string> run_argv(const std::string& program, const RunRequest& request);

} // namespace mlrepo::docker
