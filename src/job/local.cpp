// `mlrepo job run`: a project's job in the local engine, the way a
// scheduler runs it: every attempt a fresh container, one deadline for them
// all, and the last attempt's exit code as the answer.
#include "mlrepo/job/local.hpp"
#include "mlrepo/docker/container.hpp"
#include "mlrepo/choose.hpp"
#include "mlrepo/tools.hpp"

#include "mlrepo/project/select.hpp"
#include "mlrepo/run/container.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"
#include "mlrepo/util/process.hpp"
#include "mlrepo/util/text.hpp"
#include "mlrepo/util/units.hpp"
#include "mlrepo/workspace.hpp"

#include <chrono>
#include <spdlog/spdlog.h>

namespace mlrepo::job {
namespace {

std::string retries_left(int n) { return std::to_string(n) + (n == 1 ? " retry" : " retries"); }

} // namespace

AttemptsResult run_attempts(util::ProcessRunner& runner, const Attempts& a) {
  const auto& spec = a.spec;
  const int max_attempts = spec.retries + 1;
  AttemptsResult result;
  auto started = std::chrono::steady_clock::now();
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (spec.timeout_seconds > 0 && !a.timeout_per_attempt)
    deadline = started + std::chrono::seconds(spec.timeout_seconds);
  std::string timeout_text = util::format_duration(spec.timeout_seconds);
  for (int attempt = 1; attempt <= max_attempts; ++attempt) {
    result.attempts = attempt;
    result.timed_out = false;
    if (spec.timeout_seconds > 0 && a.timeout_per_attempt)
      deadline = std::chrono::steady_clock::now() + std::chrono::seconds(spec.timeout_seconds);
    docker::ContainerGuard container(runner, a.docker, a.name);
    util::ProcessSpec ps;
    ps.argv = run_argv(a.docker, a.image, spec, a.args, container.name(), a.volumes);
    ps.env = a.secret_env;
    ps.capture_stdout = static_cast<bool>(a.on_line);
    ps.capture_stderr = static_cast<bool>(a.on_line);
    ps.on_line = a.on_line;
    ps.deadline = deadline;
    ps.on_interrupt = [&container] { container.stop(); };
    ps.on_deadline = [&container] { container.stop(); };
    spdlog::info("==> {}: attempt {}/{}: {}", a.name, attempt, max_attempts, util::shell_quote(ps.argv));
    auto r = runner.run(ps);
    result.exit_code = r.signal ? 128 + r.signal : r.exit_code;
    if (r.interrupted || util::interrupted()) {
      result.interrupted = true;
      container.remove();
      break;
    }
    if (r.timed_out) {
      result.timed_out = true;
      container.remove();
      spdlog::error("{}: timed out after {} ({}), on attempt {}/{}; the container was stopped", a.name, timeout_text,
                    a.where, attempt, max_attempts);
      // A job's deadline covers every attempt; a step's only this one.
      if (!a.timeout_per_attempt || attempt == max_attempts)
        break;
      spdlog::warn("{}: retrying ({} left)", a.name, retries_left(max_attempts - attempt));
      continue;
    }
    if (result.exit_code == 0)
      break;
    std::string why = result.exit_code == 125   ? " (docker could not start the container)"
                      : result.exit_code == 127 ? " (the command is not in the image)"
                      : result.exit_code == 137 ? " (killed: out of memory, or stopped)"
                                                : "";
    if (attempt < max_attempts)
      spdlog::warn("{}: attempt {}/{} failed with exit code {}{}; retrying ({} left)", a.name, attempt, max_attempts,
                   result.exit_code, why, retries_left(max_attempts - attempt));
    else
      spdlog::error("{}: attempt {}/{} failed with exit code {}{}", a.name, attempt, max_attempts, result.exit_code,
                    why);
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

RunReport run_job(const git::Repository& repo, const RunOptions& opt, build::BuildStatus& status, Tools& tools) {
  const auto& env = tools.run();
  // Everything that can be refused is refused before anything builds or runs.
  config::JobSpec spec;
  std::string name, config_file;
  std::string docker;
  {
    View view = open_view(repo, std::nullopt, ViewOptions{.skip_invalid = true});
    auto chosen = *choose_projects(repo, view, {.names = {opt.project}, .cwd = opt.cwd});
    const auto& p = view.graph.projects()[chosen.at(0)];
    name = p.name;
    config_file = util::join_path(p.path, "mlrepo.yaml");
    if (!p.config->job)
      throw UsageError(name + " has no job: nothing in " + config_file + " says how to run it",
                       "add e.g.\n  job:\n    command: [\"python\", \"-m\", \"train\"]\n    timeout: 1h\n"
                       "to " + config_file + " (docs/jobs.md), or run the container as it is: mlrepo run " + name);
    spec = *p.config->job;
    docker = view.config.docker;
  }
  if (opt.no_gpu && spec.gpu > 0) {
    spdlog::warn("{}: running without the {} GPU{} its job asks for (--no-gpu): a smoke test, not the real run",
                 name, spec.gpu, spec.gpu == 1 ? "" : "s");
    spec.gpu = 0;
  } else if (opt.no_gpu) {
    spdlog::info("{}: --no-gpu: its job asks for no GPU anyway", name);
  }
  auto missing = missing_secrets(spec, env);
  if (!missing.empty()) {
    std::string list, exports;
    for (const auto& m : missing) {
      list += (list.empty() ? "" : ", ") + m;
      exports += "\n  export " + m + "=...";
    }
    throw UsageError(name + ": the job's " + (missing.size() == 1 ? "secret " : "secrets ") + list +
                         (missing.size() == 1 ? " is" : " are") + " not set in this environment (job.secrets in " +
                         config_file + ")",
                     "set " + std::string(missing.size() == 1 ? "it" : "them") +
                         " before running; mlrepo passes each value to the container without showing it:" +
                         exports);
  }
  auto& runner = tools.runner();
  auto& engine = tools.engine(docker);
  engine.require_reachable();
  if (auto info = engine.info()) {
    auto problems = resource_problems(spec, *info);
    if (!problems.empty()) {
      std::string text;
      for (const auto& p : problems)
        text += "\n  " + p;
      throw EnvironmentError(name + ": the local engine cannot run this job as " + config_file +
                                 " specifies it (job.resources):" + text,
                             "mlrepo doctor lists this for every job");
    }
  }

  build::BuildOptions bo;
  bo.command = "job run";
  bo.projects = {opt.project};
  bo.cwd = opt.cwd;
  auto images = run::prepare_images(repo, bo, opt.pull, status, tools);
  auto built = images.built.find(name);
  if (built == images.built.end())
    throw Error(ExitCode::WorkFailed, "cannot run " + name + "'s job: " +
                                          (images.why_not.count(name) ? images.why_not.at(name)
                                           : opt.pull                 ? "its image is not in the registry"
                                                                      : "its image did not build"),
                opt.pull ? "build and push it (mlrepo build --push " + name +
                               "), or let CI on the default branch do it"
                         : "");
  RunReport report;
  report.project = name;
  report.image = built->second;
  report.max_attempts = spec.retries + 1;
  report.timeout_seconds = spec.timeout_seconds;
  if (auto at = report.image.find("@sha256:"); at != std::string::npos) {
    report.digest = report.image.substr(at + 1);
  } else {
    // The registry's digest when this image was pushed or pulled (what
    // render and promote show); else the local image ID, labelled as such.
    auto shown = engine.shown_digest(report.image);
    report.digest = shown ? shown->digest : "";
    report.digest_is_image_id = !shown || shown->is_image_id;
  }

  Attempts attempts;
  attempts.name = name;
  attempts.where = "job.timeout in " + config_file;
  attempts.docker = docker;
  attempts.image = report.image;
  attempts.spec = spec;
  attempts.args = opt.args;
  // Secret values go to docker's environment only; argv names them.
  for (const auto& [variable, secret] : spec.secrets)
    attempts.secret_env[variable] = env(secret).value_or("");
  auto r = run_attempts(runner, attempts);
  report.attempts = r.attempts;
  report.exit_code = r.exit_code;
  report.timed_out = r.timed_out;
  report.interrupted = r.interrupted;
  report.seconds = r.seconds;
  return report;
}

} // namespace mlrepo::job
