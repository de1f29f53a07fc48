#include "mlrepo/build/executor.hpp"

#include "mlrepo/util/dag.hpp"

#include "mlrepo/util/error.hpp"
#include "mlrepo/util/process.hpp"
#include "mlrepo/util/text.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <spdlog/spdlog.h>
#include <thread>
#include <unordered_set>

namespace mlrepo::build {
namespace {

using Clock = std::chrono::steady_clock;

// Up to this many projects, existence checks ask about each image instead of
// listing the engine: a listing costs about 0.3 ms per local image (0.22 s
// for 700), one `docker image inspect` about 25 ms, eight run at once.
constexpr size_t kAskEachUpTo = 8;

// Runs fn(i) for i in [0, n) on up to `threads` threads.
template <typename F> void parallel_for(size_t n, size_t threads, F fn) {
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  for (size_t t = 0; t < std::min(n, threads); ++t)
    pool.emplace_back([&] {
      for (size_t i; (i = next++) < n;)
        fn(i);
    });
  for (auto& th : pool)
    th.join();
}

std::string registry_of(const std::string& ref) {
  auto slash = ref.find('/');
  if (slash == std::string::npos)
    return "docker.io";
  std::string host = ref.substr(0, slash);
  bool is_host = host.find('.') != std::string::npos || host.find(':') != std::string::npos ||
                 host == "localhost";
  return is_host ? host : "docker.io";
}

struct Presence {
  bool local = false;
  bool remote = false;
  std::string digest; // of the content-tagged image in the registry, when known
  std::vector<std::string> local_tags; // the item's tags already on the engine, when listed
  // With --push and the image in the registry: its other tags that the
  // registry lacks or that name another image (a branch tag, latest).
  std::vector<std::string> stale_remote_tags;
  std::string error; // a check that failed: never read as absent
};

// The digest docker prints after a push ("latest: digest: sha256:… size: 528").
std::string pushed_digest(const std::string& output) {
  auto at = output.rfind("digest: sha256:");
  if (at == std::string::npos)
    return {};
  at += 8;
  auto end = output.find_first_of(" \r\n", at);
  return output.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

// One project's work, logging every command and its output to its log file.
class Job {
public:
  Job(const PlanItem& item, const std::vector<PlanItem>& plan, docker::Engine& engine,
      const ExecOptions& opt, BuildStatus& status, const Presence& presence)
      : item_(item), plan_(plan), engine_(engine), opt_(opt), status_(status), presence_(presence) {
    result_.name = item.name;
    result_.log = (std::filesystem::path(opt.log_dir) / (item.name + ".log")).string();
    log_.open(result_.log, std::ios::trunc);
  }

  Result run() {
    auto start = Clock::now();
    try {
      result_.status = work();
    } catch (const Error& e) {
      result_.status = util::interrupted() ? Status::Cancelled : Status::Failed;
      result_.error = e.what();
      write_log(std::string("error: ") + e.what());
    }
    if (util::interrupted() && result_.status == Status::Failed) {
      result_.status = Status::Cancelled;
      result_.error = "interrupted";
    }
    result_.duration_s = std::chrono::duration<double>(Clock::now() - start).count();
    if (result_.status == Status::Built || result_.status == Status::Skipped)
      result_.images = item_.tags;
    return result_;
  }

private:
  Status work() {
    if (!presence_.error.empty())
      throw Error(ExitCode::WorkFailed, presence_.error);
    bool exists = !opt_.force && (presence_.local || presence_.remote);
    if (exists) {
      result_.found = presence_.local ? "found locally" : opt_.push ? "in the registry" : "pulled from the registry";
      status_.started(item_, "up to date");
      write_log("content tag " + item_.content_ref + " exists " +
                (presence_.local ? "locally" : "in the registry") + ": not building");
      if (!opt_.push) {
        tag_all();
        return Status::Skipped;
      }
      if (presence_.remote) {
        result_.digest = presence_.digest;
        push_missing_tags();
      } else {
        tag_all();
        push_all();
      }
      return Status::Skipped;
    }
    status_.started(item_, "building");
    for (const auto& [ref, dep] : item_.from_refs) {
      ensure_local(plan_[dep].content_ref);
      if (ref != plan_[dep].content_ref)
        command(engine_.tag_argv(plan_[dep].content_ref, ref), "tag " + ref);
    }
    auto r = command(engine_.build_argv(build_request(item_, plan_, opt_)), "", engine_.build_env());
    if (!r.ok()) {
      if (util::interrupted() || r.interrupted) {
        // We stopped it: its 143 or signal is our doing, not a build failure.
        result_.error = "interrupted";
        return Status::Cancelled;
      }
      result_.error = "docker build failed" + (r.signal ? " (signal " + std::to_string(r.signal) + ")"
                                                       : " with exit code " + std::to_string(r.exit_code));
      return Status::Failed;
    }
    if (opt_.push)
      push_all();
    if (opt_.push && opt_.registry_cache)
      export_cache();
    return Status::Built;
  }

  void tag_all() {
    const auto& have = presence_.local_tags;
    auto tagged = [&](const std::string& t) { return std::find(have.begin(), have.end(), t) != have.end(); };
    if (std::all_of(item_.tags.begin(), item_.tags.end(), tagged))
      return; // nothing to add: a no-op build runs no docker command here
    if (!tagged(item_.content_ref))
      ensure_local(item_.content_ref);
    for (const auto& t : item_.tags)
      if (t != item_.content_ref && !tagged(t))
        command(engine_.tag_argv(item_.content_ref, t), "tag " + t);
  }

  void ensure_local(const std::string& ref) {
    if (engine_.local_image(ref) == docker::Presence::Present)
      return;
    auto r = command(engine_.pull_argv(ref), "");
    if (!r.ok())
      throw Error(ExitCode::WorkFailed, "cannot pull " + ref + ": " + util::last_line(r.err + r.out));
  }

  void push_missing_tags() {
    const auto& missing = presence_.stale_remote_tags;
    if (missing.empty()) {
      write_log("every tag is already in the registry");
      return;
    }
    if (opt_.copy_tags) {
      // The image is in the registry: the tags are manifest copies there.
      copy(missing);
      return;
    }
    ensure_local(item_.content_ref);
    for (const auto& t : missing) {
      command(engine_.tag_argv(item_.content_ref, t), "tag " + t);
      push(t);
    }
  }

  // More tags for the pushed image, registry-side: no second upload and no
  // "Layer already exists" for every layer.
  void copy(const std::vector<std::string>& refs) {
    if (refs.empty())
      return;
    for (const auto& ref : refs)
      write_log("tag " + ref + " in the registry (manifest of " + item_.content_ref + ")");
    std::string digest = opt_.copy_tags(item_.content_ref, refs);
    if (!result_.digest.empty() && digest != result_.digest)
      throw Error(ExitCode::WorkFailed, item_.content_ref + " is " + digest + " in the registry, not " +
                                            result_.digest + " as pushed",
                  "something else wrote that tag meanwhile; build again");
    result_.pushed.insert(result_.pushed.end(), refs.begin(), refs.end());
  }

  // A registry that refuses the cache costs the next build time, not this one.
  void export_cache() {
    if (opt_.copy_tags) {
      // The inline cache travels in the image itself: the same manifest.
      try {
        opt_.copy_tags(item_.content_ref, {item_.cache_ref});
        write_log("layer cache exported to " + item_.cache_ref);
      } catch (const Error& e) {
        std::string msg = "warning: the layer cache could not be tagged " + item_.cache_ref + " (" + e.what() +
                          "); the next build on a fresh machine starts cold";
        write_log(msg);
        status_.note(item_, msg);
      }
      return;
    }
    auto tagged = command(engine_.tag_argv(item_.content_ref, item_.cache_ref), "tag " + item_.cache_ref);
    auto r = tagged.ok() ? command(engine_.push_argv(item_.cache_ref), "") : tagged;
    if (r.ok()) {
      write_log("layer cache exported to " + item_.cache_ref);
      return;
    }
    std::string msg = "warning: the layer cache could not be pushed to " + item_.cache_ref + " (" +
                      util::last_line(r.err + r.out) + "); the next build on a fresh machine starts cold";
    write_log(msg);
    status_.note(item_, msg);
  }

  // The content tag is pushed; the others follow registry-side when a
  // registry client is at hand (one upload per image, however many tags).
  void push_all() {
    push(item_.content_ref);
    std::vector<std::string> others;
    for (const auto& t : item_.tags)
      if (t != item_.content_ref)
        others.push_back(t);
    if (opt_.copy_tags)
      copy(others);
    else
      for (const auto& t : others)
        push(t);
  }

  void push(const std::string& ref) {
    auto delay = opt_.retry_delay;
    for (int attempt = 0;; ++attempt) {
      auto r = command(engine_.push_argv(ref), "");
      if (r.ok()) {
        result_.pushed.push_back(ref);
        if (ref == item_.content_ref)
          result_.digest = pushed_digest(r.out + r.err);
        return;
      }
      if (util::interrupted())
        throw Error(ExitCode::Interrupted, "interrupted");
      std::string out = r.err + r.out;
      std::string why = util::last_line(out);
      std::string registry = registry_of(ref);
      if (docker::is_auth_failure(out))
        throw Error(ExitCode::WorkFailed, "push of " + ref + " to " + registry + " was refused: " + why +
                                              " (run 'docker login " + registry + "')");
      if (!docker::is_transient_failure(out) || attempt >= opt_.push_retries)
        throw Error(ExitCode::WorkFailed, "push of " + ref + " to " + registry + " failed" +
                                              (attempt > 0 ? " after " + std::to_string(attempt + 1) + " attempts" : "") +
                                              ": " + why);
      std::string msg = "push of " + ref + " failed (" + why + "); retry " + std::to_string(attempt + 1) +
                        "/" + std::to_string(opt_.push_retries) + " in " +
                        std::to_string(delay.count()) + " ms";
      write_log(msg);
      status_.note(item_, msg);
      util::sleep_unless_interrupted(delay);
      delay *= 2;
    }
  }

  util::ProcessResult command(const std::vector<std::string>& argv, const std::string& label,
                              const std::map<std::string, std::optional<std::string>>& env = {}) {
    write_log("$ " + util::shell_quote(argv));
    bool in_banner = false;
    auto r = engine_.run(argv, [&](std::string_view l) {
      write_log(l);
      if (!label.empty())
        return;
      // The classic builder's deprecation banner, once per run, not per project.
      if (l.rfind("DEPRECATED: The legacy builder is deprecated", 0) == 0) {
        in_banner = true;
        static std::atomic<bool> said{false};
        if (!said.exchange(true))
          status_.note(item_, "docker's classic builder is in use (deprecated by docker; BuildKit builds faster: "
                              "'mlrepo doctor' says how to get it)");
        return;
      }
      if (in_banner && (l.empty() || l.rfind("            ", 0) == 0))
        return;
      in_banner = false;
      // A first build has no layer cache in the registry yet: BuildKit says
      // "ERROR: …:buildcache: not found", which is no failure.
      if (l.find(":buildcache") != std::string_view::npos && l.find("not found") != std::string_view::npos) {
        status_.line(item_, "no layer cache in the registry yet (" + item_.cache_ref +
                                "): building without it; this build exports one");
        return;
      }
      status_.line(item_, l);
    }, env);
    if (!r.ok() && !label.empty() && !util::interrupted())
      throw Error(ExitCode::WorkFailed, "cannot " + label + ": " + util::last_line(r.err + r.out));
    return r;
  }

  void write_log(std::string_view line) {
    log_ << line << '\n';
    log_.flush();
  }

  const PlanItem& item_;
  const std::vector<PlanItem>& plan_;
  docker::Engine& engine_;
  const ExecOptions& opt_;
  BuildStatus& status_;
  const Presence& presence_;
  Result result_;
  std::ofstream log_;
};

// Asks the registry, retrying transient failures like a push does.
docker::Presence remote_with_retries(const PlanItem& item, const std::string& ref, docker::Engine& engine,
                                     const ExecOptions& opt, BuildStatus* status) {
  auto delay = opt.retry_delay;
  for (int attempt = 0;; ++attempt) {
    try {
      return engine.remote_image(ref);
    } catch (const Error& e) {
      if (util::interrupted() || !docker::is_transient_failure(e.what()) || attempt >= opt.push_retries)
        throw Error(ExitCode::WorkFailed, std::string(e.what()) +
                                              (attempt > 0 ? " (after " + std::to_string(attempt + 1) + " attempts)" : ""));
      if (status)
        status->note(item, "registry check failed (" + util::last_line(e.what()) + "); retry " +
                               std::to_string(attempt + 1) + "/" + std::to_string(opt.push_retries) +
                               " in " + std::to_string(delay.count()) + " ms");
      util::sleep_unless_interrupted(delay);
      delay *= 2;
    }
  }
}

// The registry's digest for `ref` ("" when unknown), nullopt when absent.
std::optional<std::string> remote_lookup(const PlanItem& item, const std::string& ref, docker::Engine& engine,
                                         const ExecOptions& opt, BuildStatus* status) {
  if (opt.remote_digest)
    return opt.remote_digest(ref); // the registry client retries on its own
  if (remote_with_retries(item, ref, engine, opt, status) == docker::Presence::Present)
    return std::string();
  return std::nullopt;
}

std::vector<Presence> check_presence(const std::vector<PlanItem>& plan, docker::Engine& engine,
                                     const ExecOptions& opt, BuildStatus* status) {
  std::vector<Presence> presence(plan.size());
  if (opt.force)
    return presence;
  // One listing answers for every project, where a process per image costs
  // most of a no-op build; for a few projects, asking about each (at once)
  // is cheaper than listing an engine that holds thousands of images.
  std::optional<std::map<std::string, std::string>> local;
  if (plan.size() > kAskEachUpTo)
    local = engine.local_images();
  std::exception_ptr environment;
  std::mutex environment_mutex;
  // Registry round trips dominate for large up-to-date repositories: check
  // them many at a time, independent of -j.
  parallel_for(plan.size(), std::max<size_t>(8, static_cast<size_t>(opt.jobs)), [&](size_t i) {
    if (util::interrupted())
      return;
    auto& p = presence[i];
    const auto& item = plan[i];
    try {
      std::string local_digest;
      if (local) {
        auto it = local->find(item.content_ref);
        p.local = it != local->end();
        if (p.local)
          local_digest = it->second;
        for (const auto& t : item.tags)
          if (local->count(t))
            p.local_tags.push_back(t);
      } else if (auto digest = engine.local_image_digest(item.content_ref)) {
        p.local = true;
        local_digest = *digest;
      }
      if (!opt.push) {
        // A dependency the engine lacks is pulled when the registry has it
        // (a laptop, a fork's CI run): building it again gives the same
        // image, slower. A registry that cannot answer means building it.
        if (item.requested || p.local || !opt.remote_digest)
          return;
        try {
          if (auto d = opt.remote_digest(item.content_ref)) {
            p.remote = true;
            p.digest = *d;
          }
        } catch (const Error&) {
        }
        return;
      }
      // The engine's record of a push is not proof: registries are wiped,
      // garbage-collected and recreated (a local registry on a fixed port),
      // so the registry itself is asked, over HTTP, many at a time.
      if (auto d = remote_lookup(item, item.content_ref, engine, opt, status)) {
        p.remote = true;
        p.digest = d->empty() ? local_digest : *d;
      }
      if (!p.remote)
        return;
      // Tags that move (the branch, latest) may name an older image.
      for (const auto& t : item.tags) {
        if (t == item.content_ref)
          continue;
        auto d = remote_lookup(item, t, engine, opt, status);
        if (!d || (!d->empty() && !p.digest.empty() && *d != p.digest))
          p.stale_remote_tags.push_back(t);
      }
    } catch (const Error& e) {
      if (e.code() == ExitCode::Environment) {
        std::lock_guard lock(environment_mutex);
        if (!environment)
          environment = std::current_exception();
      }
      p.error = e.what() + (e.hint().empty() ? "" : " (" + e.hint() + ")");
    }
  });
  // Missing credential helpers and broken docker configs are the machine's
  // problem, not one project's (exit 3).
  if (environment)
    std::rethrow_exception(environment);
  return presence;
}

} // namespace

const char* status_name(Status s) {
  switch (s) {
  case Status::Built: return "built";
  case Status::Skipped: return "skipped";
  case Status::Failed: return "failed";
  case Status::Blocked: return "blocked";
  case Status::Cancelled: return "cancelled";
  }
  return "?";
}

docker::BuildRequest build_request(const PlanItem& item, const std::vector<PlanItem>& plan,
                                   const ExecOptions& opt) {
  docker::BuildRequest req;
  auto abs = [&](const std::string& rel) { return rel.empty() ? opt.workdir : opt.workdir + "/" + rel; };
  req.dockerfile = abs(item.dockerfile);
  req.context = abs(item.context);
  req.tags = item.tags;
  req.build_args = item.build_args;
  req.labels = item.labels;
  req.target = item.target;
  req.platforms = item.platforms;
  req.secrets = item.secrets;
  if (opt.registry_cache) {
    // The image carries its own cache metadata (BuildKit's inline cache), so
    // pushing it as :buildcache exports the cache, and --cache-from imports
    // it on a machine that has none of its layers. Not a build argument of
    // the image's content: the content tag does not change.
    req.build_args["BUILDKIT_INLINE_CACHE"] = "1";
    req.cache_from.push_back(item.cache_ref);
    for (size_t d : item.deps)
      req.cache_from.push_back(plan[d].cache_ref);
  }
  return req;
}

std::vector<Result> execute(const std::vector<PlanItem>& plan, docker::Engine& engine,
                            const ExecOptions& opt, BuildStatus& status) {
  std::filesystem::create_directories(opt.log_dir);
  auto presence = check_presence(plan, engine, opt, &status);
  if (opt.before_building) {
    // Only what will really build: a skipped image needs no build secret.
    std::vector<const PlanItem*> building;
    for (size_t i = 0; i < plan.size(); ++i)
      if (opt.force || !(presence[i].local || presence[i].remote) || !presence[i].error.empty())
        building.push_back(&plan[i]);
    opt.before_building(building);
  }

  std::vector<Result> results(plan.size());
  std::vector<std::vector<size_t>> deps(plan.size());
  for (size_t i = 0; i < plan.size(); ++i) {
    results[i].item = i;
    results[i].name = plan[i].name;
    deps[i] = plan[i].deps;
  }
  util::DagOptions dag;
  dag.jobs = opt.jobs;
  dag.keep_going = opt.keep_going;
  util::DagCallbacks cb;
  cb.run = [&](size_t i) {
    Job job(plan[i], plan, engine, opt, status, presence[i]);
    Result r = job.run();
    r.item = i;
    status.finished(plan[i], r);
    results[i] = std::move(r);
    switch (results[i].status) {
    case Status::Built:
    case Status::Skipped: return util::NodeState::Succeeded;
    case Status::Failed: return util::NodeState::Failed;
    default: return util::NodeState::Stopped;
    }
  };
  cb.blocked = [&](size_t i, size_t cause) {
    const Result& bad = results[cause];
    results[i].status = Status::Blocked;
    results[i].error = "depends on " + bad.name + ", which " + (bad.status == Status::Failed ? "failed" : "is blocked");
    status.finished(plan[i], results[i]);
  };
  auto states = util::run_dag(deps, dag, cb);
  for (size_t i = 0; i < plan.size(); ++i)
    if (states[i] == util::NodeState::NotStarted) {
      results[i].status = Status::Cancelled;
      results[i].error = util::interrupted() ? "interrupted" : "not started after an earlier failure";
      status.finished(plan[i], results[i]);
    }
  status.summary(results);
  return results;
}

std::vector<std::vector<std::string>> dry_run(const std::vector<PlanItem>& plan,
                                              docker::Engine& engine, const ExecOptions& opt,
                                              bool engine_reachable) {
  std::vector<Presence> presence(plan.size());
  if (engine_reachable)
    presence = check_presence(plan, engine, opt, nullptr);
  // A check that could not answer is planned as absent, said once.
  for (const auto& p : presence)
    if (!p.error.empty()) {
      spdlog::warn(p.error + "; the dry run plans as if the images it could not check were absent");
      break;
    }
  std::vector<std::vector<std::string>> out;
  // Pushes as the real run makes them: the content tag uploaded, the other
  // tags copied registry-side (said on stderr: they are no docker command).
  auto pushes = [&](const PlanItem& item, const std::vector<std::string>& tags) {
    std::string copies;
    for (const auto& t : tags) {
      if (opt.copy_tags && t != item.content_ref)
        copies += (copies.empty() ? "" : ", ") + t;
      else
        out.push_back(engine.push_argv(t));
    }
    if (!copies.empty())
      spdlog::info("{}: then tagged in the registry by manifest copy, no second upload: {}", item.name, copies);
  };
  for (size_t i = 0; i < plan.size(); ++i) {
    const auto& item = plan[i];
    bool exists = !opt.force && (presence[i].local || presence[i].remote);
    if (exists) {
      const auto& have = presence[i].local_tags;
      auto tagged = [&](const std::string& t) { return std::find(have.begin(), have.end(), t) != have.end(); };
      if (opt.push && presence[i].remote) {
        if (opt.copy_tags) {
          pushes(item, presence[i].stale_remote_tags);
          continue;
        }
        if (!presence[i].stale_remote_tags.empty() && !presence[i].local)
          out.push_back(engine.pull_argv(item.content_ref));
        for (const auto& t : presence[i].stale_remote_tags) {
          out.push_back(engine.tag_argv(item.content_ref, t));
          out.push_back(engine.push_argv(t));
        }
        continue;
      }
      for (const auto& t : item.tags)
        if (t != item.content_ref && !tagged(t))
          out.push_back(engine.tag_argv(item.content_ref, t));
      if (opt.push)
        pushes(item, item.tags);
      continue;
    }
    for (const auto& [ref, dep] : item.from_refs)
      if (ref != plan[dep].content_ref)
        out.push_back(engine.tag_argv(plan[dep].content_ref, ref));
    // Runnable as printed: the builder choice travels in the environment
    // (DOCKER_BUILDKIT), so the line starts with that assignment.
    std::vector<std::string> build;
    for (const auto& [name, value] : engine.build_env())
      if (value)
        build.push_back(name + "=" + *value);
    auto argv = engine.build_argv(build_request(item, plan, opt));
    build.insert(build.end(), argv.begin(), argv.end());
    out.push_back(std::move(build));
    if (opt.push)
      pushes(item, item.tags);
    if (opt.push && opt.registry_cache && opt.copy_tags) {
      spdlog::info("{}: its layer cache tagged {} in the registry by manifest copy", item.name, item.cache_ref);
    } else if (opt.push && opt.registry_cache) {
      out.push_back(engine.tag_argv(item.content_ref, item.cache_ref));
      out.push_back(engine.push_argv(item.cache_ref));
    }
  }
  return out;
}

} // namespace mlrepo::build
