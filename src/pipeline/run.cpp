// `mlrepo pipeline run`. The passes: the plan (with --param), which steps
// must run and which may come from the cache (--from, --only, --no-cache),
// the secrets and the engine's resources (every problem at once, before
// anything builds), the images (built, or pulled by digest), the run's
// directory, then the steps as nodes of util::run_dag: each either reused
// from the step cache or run as `job run` runs a job, its outputs moved into
// the cache once it succeeded.
#include "mlrepo/pipeline/run.hpp"

#include "mlrepo/docker/engine.hpp"
#include "mlrepo/job/local.hpp"
#include "mlrepo/pipeline/cache.hpp"
#include "mlrepo/run/container.hpp"
#include "mlrepo/tools.hpp"
#include "mlrepo/util/dag.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"
#include "mlrepo/util/text.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace mlrepo::pipeline {
namespace fs = std::filesystem;
namespace {

enum class Mode {
  Run,       // runs unless its key is cached
  Force,     // runs (--from, --only, --no-cache)
  FromCache, // reused from the cache, else skipped (outside --from/--only)
};

struct Image {
  std::string ref;
  std::string digest;
};

std::string stamp() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return std::string(buf) + "-" + std::to_string(::getpid());
}

std::string did_you_mean(const std::string& word, const Plan& plan) {
  std::vector<std::string> names;
  for (const auto& s : plan.steps)
    names.push_back(s.name);
  return util::did_you_mean(word, names, "its steps: " + util::listed(names));
}

// Which steps run, which come from the cache.
std::vector<Mode> choose_modes(const Plan& plan, const RunOptions& opt) {
  if (opt.from && !opt.only.empty())
    throw UsageError("--from and --only choose the steps two ways", "use one of them");
  std::vector<Mode> modes(plan.steps.size(), opt.no_cache ? Mode::Force : Mode::Run);
  auto step = [&](const std::string& name, const char* flag) {
    auto i = plan.find(name);
    if (!i)
      throw UsageError(std::string(flag) + " " + name + ": pipeline " + plan.name + " has no step '" + name + "'",
                       did_you_mean(name, plan));
    return *i;
  };
  if (opt.from) {
    size_t from = step(*opt.from, "--from");
    modes.assign(plan.steps.size(), Mode::FromCache);
    modes[from] = Mode::Force;
    for (size_t d : plan.downstream(from))
      modes[d] = Mode::Force;
  } else if (!opt.only.empty()) {
    modes.assign(plan.steps.size(), Mode::FromCache);
    for (const auto& name : opt.only)
      modes[step(name, "--only")] = Mode::Force;
  }
  return modes;
}

// The secrets every step that may run needs, all at once.
void require_secrets(const Plan& plan, const std::vector<Mode>& modes, const context::RunContext& env) {
  std::set<std::string> missing;
  std::string which;
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    if (modes[i] == Mode::FromCache)
      continue;
    for (const auto& m : job::missing_secrets(plan.steps[i].run, env))
      if (missing.insert(m).second)
        which += "\n  export " + m + "=...   # step " + plan.steps[i].name;
  }
  if (missing.empty())
    return;
  std::string list;
  for (const auto& m : missing)
    list += (list.empty() ? "" : ", ") + m;
  throw UsageError("pipeline " + plan.name + ": " + (missing.size() == 1 ? "the secret " : "the secrets ") + list +
                       (missing.size() == 1 ? " is" : " are") + " not set in this environment",
                   "set " + std::string(missing.size() == 1 ? "it" : "them") +
                       " before running; mlrepo passes each value to the container without showing it:" + which);
}

// What the local engine cannot give a step (a GPU, more memory), all at once.
void require_resources(const Plan& plan, const std::vector<Mode>& modes, docker::Engine& engine) {
  bool asks = false;
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const auto& run = plan.steps[i].run;
    asks |= modes[i] != Mode::FromCache && (run.cpu || run.memory || run.gpu > 0);
  }
  if (!asks) // `docker info` is slow; nothing to compare it with
    return;
  auto info = engine.info();
  if (!info)
    return;
  std::string text;
  for (size_t i = 0; i < plan.steps.size(); ++i)
    if (modes[i] != Mode::FromCache)
      for (const auto& p : job::resource_problems(plan.steps[i].run, *info))
        text += "\n  step " + plan.steps[i].name + ": " + p;
  if (!text.empty())
    throw EnvironmentError("pipeline " + plan.name + ": the local engine cannot run these steps as " + plan.file +
                               " specifies them:" + text,
                           "run the others with --only, or on a machine that has what they ask for");
}

// Each step's project image: built from the current content, or pulled by digest.
// Every step's image, cached or not: a step's key names its image's digest.
std::map<std::string, Image> images(const git::Repository& repo, const Plan& plan, const RunOptions& opt,
                                    build::BuildStatus& status, Tools& tools, docker::Engine& engine) {
  build::BuildOptions bo;
  bo.command = "pipeline run";
  bo.cwd = opt.cwd;
  std::set<std::string> projects;
  for (size_t i = 0; i < plan.steps.size(); ++i)
    projects.insert(plan.steps[i].project_name);
  bo.projects.assign(projects.begin(), projects.end());
  auto prepared = run::prepare_images(repo, bo, opt.pull, status, tools);
  std::map<std::string, Image> out;
  std::string missing;
  for (const auto& name : projects) {
    auto it = prepared.built.find(name);
    if (it == prepared.built.end()) {
      missing += "\n  " + name + ": " +
                 (prepared.why_not.count(name) ? prepared.why_not.at(name)
                  : opt.pull                   ? "its image is not in the registry"
                                               : "its image did not build");
      continue;
    }
    Image image{it->second, ""};
    if (auto at = image.ref.find("@sha256:"); at != std::string::npos)
      image.digest = image.ref.substr(at + 1);
    else if (auto shown = engine.shown_digest(image.ref))
      image.digest = shown->digest;
    out[name] = image;
  }
  if (!missing.empty())
    throw Error(ExitCode::WorkFailed, "pipeline " + plan.name + ": cannot run without these images:" + missing,
                opt.pull ? "build and push them (mlrepo build --push PROJECT), or let CI on the default branch do it"
                         : "");
  return out;
}

class Runner {
public:
  Runner(const Plan& plan, const std::vector<Mode>& modes, const std::map<std::string, Image>& images,
         const RunOptions& opt, Tools& tools, const std::string& docker, StepCache& cache, fs::path run_dir)
      : plan_(plan), modes_(modes), images_(images), opt_(opt), tools_(tools), docker_(docker), cache_(cache),
        run_dir_(std::move(run_dir)), entries_(plan.steps.size()) {}

  // Every step the run needs from the cache is there (--from, --only):
  // else exit 2 naming it, before anything runs.
  void require_cached_inputs() {
    for (size_t i = 0; i < plan_.steps.size(); ++i) {
      if (modes_[i] != Mode::FromCache)
        continue;
      bool inputs_known = true;
      for (const auto& in : plan_.steps[i].inputs)
        inputs_known &= entries_[in.step].has_value();
      if (inputs_known)
        entries_[i] = cache_.find(key(i));
    }
    for (size_t i = 0; i < plan_.steps.size(); ++i) {
      if (modes_[i] == Mode::FromCache)
        continue;
      for (const auto& in : plan_.steps[i].inputs)
        if (modes_[in.step] == Mode::FromCache && !entries_[in.step])
          throw UsageError("step " + plan_.steps[i].name + " reads '" + in.output + "' of step " +
                               plan_.steps[in.step].name + ", which has no cached output for these inputs",
                           "run the pipeline once without --from/--only (mlrepo pipeline run " + plan_.name +
                               "), or add --only " + plan_.steps[in.step].name);
    }
  }

  std::vector<StepResult> run() {
    std::vector<StepResult> results(plan_.steps.size());
    for (size_t i = 0; i < plan_.steps.size(); ++i) {
      results[i].name = plan_.steps[i].name;
      results[i].project = plan_.steps[i].project_name;
      results[i].digest = images_.at(plan_.steps[i].project_name).digest;
    }
    std::vector<std::vector<size_t>> deps;
    for (const auto& s : plan_.steps)
      deps.push_back(s.upstream);
    util::DagOptions dag;
    dag.jobs = opt_.jobs;
    util::DagCallbacks cb;
    cb.run = [&](size_t i) {
      // On a worker thread: nothing may escape. A step that cannot even be
      // set up (a full disk, an engine gone) fails, saying why.
      try {
        return run_step(i, results[i]);
      } catch (const std::exception& e) {
        spdlog::error("{}: {}", plan_.steps[i].name, e.what());
        results[i].status = StepStatus::Failed;
        return util::NodeState::Failed;
      }
    };
    cb.blocked = [&](size_t i, size_t cause) {
      results[i].status = StepStatus::Blocked;
      // The failed step at the root of it, not the blocked one in between.
      results[i].blocked_by =
          results[cause].blocked_by.empty() ? plan_.steps[cause].name : results[cause].blocked_by;
      spdlog::warn("{}: blocked: step {} failed", plan_.steps[i].name, results[i].blocked_by);
    };
    util::run_dag(deps, dag, cb);
    return results;
  }

private:
  std::string key(size_t i) const {
    const auto& step = plan_.steps[i];
    auto run = with_params(step.run, plan_.params);
    KeyInputs k;
    k.image_digest = images_.at(step.project_name).digest;
    k.command = run.command;
    k.args = run.args;
    k.env = run.env;
    for (const auto& [variable, secret] : run.secrets)
      k.secret_names.push_back(variable + "=" + secret);
    // Only the params it uses: another param's value cannot change its outputs.
    for (const auto& param : plan_.params)
      if (std::binary_search(step.params.begin(), step.params.end(), param.first))
        k.params.push_back(param);
    k.outputs = step.outputs;
    for (const auto& in : step.inputs)
      k.inputs[in.name] = entries_[in.step]->content.at(in.output);
    return step_key(k);
  }

  util::NodeState run_step(size_t i, StepResult& r) {
    const auto& step = plan_.steps[i];
    auto step_dir = run_dir_ / step.name;
    fs::create_directories(step_dir);
    if (modes_[i] == Mode::FromCache) {
      if (!entries_[i])
        entries_[i] = cache_.find(key(i));
      if (!entries_[i]) {
        r.status = StepStatus::Skipped;
        spdlog::info("{}: skipped (not chosen, and nothing cached for its inputs)", step.name);
        return util::NodeState::Succeeded; // its dependents are skipped too, or were refused
      }
      return reuse(i, r, step_dir);
    }
    std::string k = key(i);
    if (modes_[i] == Mode::Run)
      if ((entries_[i] = cache_.find(k)))
        return reuse(i, r, step_dir);
    return execute(i, k, r, step_dir);
  }

  util::NodeState reuse(size_t i, StepResult& r, const fs::path& step_dir) {
    r.status = StepStatus::Cached;
    r.outputs_dir = entries_[i]->outputs_dir;
    link_outputs(step_dir, r.outputs_dir);
    spdlog::info("{}: cached (outputs from an earlier run with the same image, command and inputs)",
                 plan_.steps[i].name);
    return util::NodeState::Succeeded;
  }

  // The run's directory shows every step's outputs, where they really are.
  static void link_outputs(const fs::path& step_dir, const std::string& target) {
    std::error_code ec;
    fs::remove(step_dir / "outputs", ec);
    fs::create_directory_symlink(target, step_dir / "outputs", ec);
  }

  util::NodeState execute(size_t i, const std::string& k, StepResult& r, const fs::path& step_dir) {
    const auto& step = plan_.steps[i];
    auto outputs = step_dir / "outputs";
    fs::remove_all(outputs);
    fs::create_directories(outputs);
    job::Attempts a;
    a.name = step.name;
    a.where = "pipelines." + plan_.name + ".steps." + step.name + ".timeout in " + plan_.file;
    a.docker = docker_;
    a.image = images_.at(step.project_name).ref;
    a.spec = with_params(step.run, plan_.params);
    a.timeout_per_attempt = true;
    // Created by mlrepo, not by the engine: owned by the user, not by root.
    for (const auto& m : mounts(step)) {
      if (m.input) {
        a.volumes.push_back(entries_[m.from_step]->outputs_dir + "/" + m.from_output + ":" + m.path + ":ro");
        continue;
      }
      fs::create_directories(outputs / m.artifact);
      a.volumes.push_back((outputs / m.artifact).string() + ":" + m.path);
    }
    for (const auto& [variable, secret] : a.spec.secrets)
      a.secret_env[variable] = tools_.run()(secret).value_or("");
    a.on_line = [this, name = step.name](std::string_view line) { output(name, line); };
    auto result = job::run_attempts(tools_.runner(), a);
    r.attempts = result.attempts;
    r.exit_code = result.exit_code;
    r.timed_out = result.timed_out;
    r.seconds = result.seconds;
    if (result.interrupted) {
      r.status = StepStatus::Failed;
      r.outputs_dir = outputs.string();
      return util::NodeState::Stopped;
    }
    if (!result.ok()) {
      r.status = StepStatus::Failed;
      r.outputs_dir = outputs.string(); // kept for a look, never cached
      return util::NodeState::Failed;
    }
    entries_[i] = cache_.store(k, outputs, step.outputs,
                               "pipeline " + plan_.name + ", step " + step.name + ", image " + a.image);
    r.status = StepStatus::Succeeded;
    r.outputs_dir = entries_[i]->outputs_dir;
    link_outputs(step_dir, r.outputs_dir);
    return util::NodeState::Succeeded;
  }

  void output(const std::string& step, std::string_view line) {
    if (opt_.on_output) {
      std::lock_guard lock(output_mutex_);
      opt_.on_output(step, line);
      return;
    }
    std::string text = step + " | " + std::string(line) + "\n";
    std::lock_guard lock(output_mutex_);
    std::fwrite(text.data(), 1, text.size(), stderr);
  }

  const Plan& plan_;
  const std::vector<Mode>& modes_;
  const std::map<std::string, Image>& images_;
  const RunOptions& opt_;
  Tools& tools_;
  std::string docker_;
  StepCache& cache_;
  fs::path run_dir_;
  // Each step's outputs once known (ran or cached): written by the step's
  // own thread before its dependents start, read by them after.
  std::vector<std::optional<CacheEntry>> entries_;
  std::mutex output_mutex_;
};

} // namespace

const char* status_name(StepStatus s) {
  switch (s) {
  case StepStatus::Succeeded: return "succeeded";
  case StepStatus::Failed: return "failed";
  case StepStatus::Blocked: return "blocked";
  case StepStatus::Cached: return "cached";
  case StepStatus::Skipped: return "skipped";
  }
  return "?";
}

bool RunReport::failed() const {
  for (const auto& s : steps)
    if (s.status == StepStatus::Failed || s.status == StepStatus::Blocked)
      return true;
  return false;
}

const char* RunReport::status() const { return interrupted ? "interrupted" : failed() ? "failed" : "succeeded"; }

std::string pipelines_dir(const git::Repository& repo) { return repo.git_dir() + "mlrepo/pipelines"; }

RunReport run_pipeline(const git::Repository& repo, const RunOptions& opt, build::BuildStatus& status, Tools& tools) {
  View view = open_view(repo, std::nullopt, ViewOptions{.skip_invalid = true});
  const Plan plan = make_plan(find_pipeline(view.config, opt.name), view, opt.params);
  const auto modes = choose_modes(plan, opt);
  require_secrets(plan, modes, tools.run());
  auto& engine = tools.engine(view.config.docker);
  engine.require_reachable();
  require_resources(plan, modes, engine);
  const auto imgs = images(repo, plan, opt, status, tools, engine);

  StepCache cache(fs::path(pipelines_dir(repo)) / "cache");
  RunReport report;
  report.pipeline = plan.name;
  auto run_dir = fs::path(pipelines_dir(repo)) / "runs" / plan.name / stamp();
  Runner runner(plan, modes, imgs, opt, tools, view.config.docker, cache, run_dir);
  runner.require_cached_inputs();
  fs::create_directories(run_dir);
  report.run_dir = run_dir.string();
  spdlog::info("pipeline {}: {} steps, run directory {}", plan.name, plan.steps.size(), report.run_dir);
  report.steps = runner.run();
  report.interrupted = util::interrupted();
  return report;
}

} // namespace mlrepo::pipeline
