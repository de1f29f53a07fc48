// What a job spec means, without running anything: its next runs, and the
// docker flags its resources, env and secrets become.
#include "mlrepo/job/spec.hpp"

#include "mlrepo/docker/run.hpp"

#include "mlrepo/run/container.hpp"
#include "mlrepo/util/cron.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/units.hpp"

#include <algorithm>
#include <cstdio>

namespace mlrepo::job {

std::vector<ScheduledRun> next_runs(const config::JobSpec& spec, util::UnixSeconds now, int count) {
  std::vector<ScheduledRun> out;
  if (spec.schedule.empty())
    return out;
  auto zone = util::TimeZone::load(spec.timezone);
  if (!zone) // config checked it; the zoneinfo went away since
    throw EnvironmentError("time zone '" + spec.timezone + "' is not in the system's zoneinfo",
                           "install tzdata (Debian: apt-get install tzdata)");
  std::vector<util::UnixSeconds> all;
  for (const auto& cron : spec.schedule)
    for (auto t : util::next_runs(util::parse_cron(cron.value), *zone, now, count))
      all.push_back(t);
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  if (static_cast<int>(all.size()) > count)
    all.resize(static_cast<size_t>(count));
  for (auto t : all) {
    auto offset = zone->at(t);
    out.push_back({t, offset.utc_offset, offset.abbreviation});
  }
  return out;
}

std::vector<JobEntry> list_jobs(const View& view, util::UnixSeconds now, int count) {
  std::vector<JobEntry> out;
  for (const auto& p : view.graph.projects()) {
    if (!p.config || !p.config->job)
      continue;
    const auto& job = *p.config->job;
    out.push_back({p.name, p.path, job, next_runs(job, now, count), config::job_target(job, view.config),
                   describe_runs_on(p.name, job, view.config)});
  }
  return out;
}

std::string describe_runs_on(const std::string& name, const config::JobSpec& spec,
                             const config::WorkspaceConfig& ws) {
  bool chosen = spec.runs_on != config::JobTarget::Default;
  if (config::job_target(spec, ws) == config::JobTarget::Kubernetes) {
    std::string ns = ws.kubernetes.namespace_name.empty() ? "" : ", namespace " + ws.kubernetes.namespace_name;
    return "Kubernetes as a CronJob" + ns +
           (chosen ? " (job.runs_on)" : " (kubernetes.deploy is set; job.runs_on chooses otherwise)");
  }
  if (config::job_target(spec, ws) == config::JobTarget::Ecs)
    return "AWS ECS on an EventBridge Scheduler schedule, cluster " + ws.ecs.cluster +
           (chosen ? " (job.runs_on)" : " (ecs.deploy is set; job.runs_on chooses otherwise)");
  std::string labels;
  for (const auto& l : config::runner_labels(spec, ws))
    labels += (labels.empty() ? "" : ", ") + l;
  return "GitHub Actions on " + labels + " (" + (chosen ? "job.runs_on" : "no cluster is deployed") +
         "; .github/workflows/mlrepo-job-" + name + ".yml)";
}

std::string docker_cpus(const std::string& quantity) {
  auto milli = util::parse_quantity(quantity).milli;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%03lld", static_cast<long long>(milli / 1000),
                static_cast<long long>(milli % 1000));
  std::string s = buf;
  while (s.back() == '0')
    s.pop_back();
  if (s.back() == '.')
    s.pop_back();
  return s;
}

std::string docker_memory(const std::string& quantity) {
  return std::to_string(util::parse_quantity(quantity).milli / 1000);
}

std::vector<std::string> resource_problems(const config::JobSpec& spec, const docker::EngineInfo& engine) {
  std::vector<std::string> out;
  if (spec.gpu > 0 && !engine.has_gpu_runtime()) {
    std::string runtimes;
    for (const auto& r : engine.runtimes)
      runtimes += (runtimes.empty() ? "" : ", ") + r;
    out.push_back("it asks for " + std::to_string(spec.gpu) + (spec.gpu == 1 ? " GPU" : " GPUs") +
                  " and the engine has no GPU runtime (its runtimes: " + (runtimes.empty() ? "none" : runtimes) +
                  "); install the NVIDIA Container Toolkit on a machine with a GPU, or run the job where it has one");
  }
  if (spec.memory) {
    auto want = util::parse_quantity(*spec.memory).milli / 1000;
    if (engine.memory_bytes > 0 && want > engine.memory_bytes)
      out.push_back("it asks for memory " + *spec.memory + " (" + std::to_string(want / (1024 * 1024)) +
                    " MiB) and the engine has " + std::to_string(engine.memory_bytes / (1024 * 1024)) +
                    " MiB in all; give the engine more memory, or run the job where it has enough");
  }
  if (spec.cpu) {
    auto want = util::parse_quantity(*spec.cpu).milli;
    if (engine.cpus > 0 && want > engine.cpus * 1000LL)
      out.push_back("it asks for cpu " + *spec.cpu + " and the engine has " + std::to_string(engine.cpus) +
                    (engine.cpus == 1 ? " CPU" : " CPUs") + "; docker cannot give a container more");
  }
  return out;
}

std::vector<std::string> missing_secrets(const config::JobSpec& spec, const context::RunContext& env) {
  std::vector<std::string> out;
  for (const auto& [variable, secret] : spec.secrets) {
    auto value = env(secret);
    // GitHub gives an undefined secret as an empty string: empty is missing.
    if (!value || value->empty())
      out.push_back(secret);
  }
  return out;
}

std::vector<std::string> run_argv(const std::string& docker, const std::string& image, const config::JobSpec& spec,
                                  const std::optional<std::vector<std::string>>& args, const std::string& name,
                                  const std::vector<std::string>& volumes) {
  // No -t and no -i: a job is a batch run.
  docker::RunRequest r;
  r.image = image;
  r.name = name;
  r.volumes = volumes;
  r.env.assign(spec.env.begin(), spec.env.end());
  for (const auto& [variable, secret] : spec.secrets)
    r.env_from_engine_env.push_back(variable);
  if (spec.cpu)
    r.cpus = docker_cpus(*spec.cpu);
  if (spec.memory)
    r.memory = docker_memory(*spec.memory);
  if (spec.gpu > 0)
    r.gpus = std::to_string(spec.gpu);
  // command replaces the image's ENTRYPOINT and args its CMD, as in
  // Kubernetes, so the job runs alike everywhere.
  if (!spec.command.empty()) {
    auto cmd = run::command_argv(spec.command);
    r.entrypoint = cmd[0];
    r.command.assign(cmd.begin() + 1, cmd.end());
  }
  const auto& a = args ? *args : spec.args;
  r.command.insert(r.command.end(), a.begin(), a.end());
  return docker::run_argv(docker, r);
}

} // namespace mlrepo::job
