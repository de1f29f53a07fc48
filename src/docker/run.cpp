#include "mlrepo/docker/run.hpp"

namespace mlrepo::docker {

std::vector<std::string> run_argv(const std::string& program, const RunRequest& r) {
  std::vector<std::string> argv{program, "run", "--rm", "--init"};
  auto add = [&](const char* flag, const std::string& value) {
    argv.push_back(flag);
    argv.push_back(value);
  };
  if (r.interactive)
    argv.push_back("-i");
  if (!r.name.empty())
    add("--name", r.name);
  if (r.tty)
    argv.push_back("-t");
  for (const auto& [k, v] : r.env)
    add("-e", k + "=" + v);
  for (const auto& name : r.env_from_engine_env)
    add("-e", name);
  for (const auto& v : r.volumes)
    add("-v", v);
  if (r.cpus)
    add("--cpus", *r.cpus);
  if (r.memory)
    add("--memory", *r.memory);
  if (r.gpus)
    add("--gpus", *r.gpus);
  for (const auto& p : r.ports)
    add("-p", p);
  if (r.entrypoint)
    add("--entrypoint", *r.entrypoint);
  argv.push_back(r.image);
  argv.insert(argv.end(), r.command.begin(), r.command.end());
  return argv;
}

} // namespace mlrepo::docker
