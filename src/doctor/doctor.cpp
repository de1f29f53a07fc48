#include "mlrepo/doctor/doctor.hpp"

#include "mlrepo/tools.hpp"
#include "mlrepo/pipeline/plan.hpp"

#include "mlrepo/changes/selection.hpp"
#include "mlrepo/ci/sync.hpp"
#include "mlrepo/project/dockerignore.hpp"
#include "mlrepo/deploy/ecs.hpp"
#include "mlrepo/docker/engine.hpp"
#include "mlrepo/util/process.hpp"
#include "mlrepo/util/text.hpp"
#include "mlrepo/job/spec.hpp"
#include "mlrepo/project/discovery.hpp"
#include "mlrepo/registry/client.hpp"
#include "mlrepo/release/promote.hpp"
#include "mlrepo/release/tags.hpp"
#include "mlrepo/report/output.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"
#include "mlrepo/workspace.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

namespace mlrepo::doctor {
namespace {

// Above this, a build context is worth a look: docker sends all of it, on
// every build, before the first step runs.
constexpr uintmax_t kLargeContext = 50u << 20;

struct ContextSize {
  uintmax_t bytes = 0;
  std::vector<std::pair<uintmax_t, std::string>> largest; // size, path relative to the context
};

// What `docker build` would send from `dir`: everything on disk (ignored by
// git or not, .git included) that the context's .dockerignore does not leave out.
ContextSize context_size(const std::string& dir, const project::DockerIgnore& ignore) {
  namespace fs = std::filesystem;
  ContextSize out;
  std::error_code ec;
  std::map<std::string, uintmax_t> by_top;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec)
      break;
    std::string rel = fs::relative(it->path(), dir, ec).generic_string();
    if (ignore.ignores(rel)) {
      if (it->is_directory(ec))
        it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec) || it->is_symlink(ec))
      continue;
    uintmax_t size = it->file_size(ec);
    out.bytes += size;
    by_top[rel.substr(0, rel.find('/'))] += size;
  }
  for (const auto& [name, size] : by_top)
    out.largest.emplace_back(size, name);
  std::sort(out.largest.rbegin(), out.largest.rend());
  if (out.largest.size() > 3)
    out.largest.resize(3);
  return out;
}

// Whether the engine answers and which builder builds.
template <typename Add> void docker_checks(docker::Engine& engine, const std::string& docker, Add& add) {
  try {
    add("docker", Level::Ok, docker + " engine " + engine.require_reachable());
    const auto& builder = engine.detect_builder();
    if (builder.buildkit)
      add("docker", Level::Ok, "builds use " + builder.why);
    else
      add("docker", Level::Warn, "builds use " + builder.why,
          "install the docker-buildx plugin, or set 'docker:' to a CLI older than 23 (Debian 12's "
          "/usr/bin/docker has BuildKit built in): the classic builder is slower and cannot build "
          "RUN --mount, heredocs or several platforms");
  } catch (const Error& e) {
    add("docker", Level::Fail, e.what(), e.hint());
  }
}

std::string plural(size_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

std::string mib(uintmax_t bytes) { return std::to_string((bytes + (1u << 19)) >> 20) + " MiB"; }

} // namespace

std::vector<Check> run_checks(const std::filesystem::path& start, Tools& tools) {
  std::vector<Check> out;
  auto add = [&](const char* area, Level level, std::string message, std::string fix = {},
                 bool bad_input = false) {
    out.push_back({area, level, std::move(message), std::move(fix), bad_input});
  };

  // Every check runs and says what it found, whatever failed before it;
  // one that cannot run says why it was skipped.
  std::unique_ptr<git::Repository> repo;
  std::error_code ec;
  auto where = std::filesystem::absolute(start, ec).lexically_normal().string();
  if (where.size() > 1 && where.back() == '/')
    where.pop_back();
  try {
    repo = std::make_unique<git::Repository>(git::Repository::discover(start));
    add("git", Level::Ok, "repository at " + repo->workdir());
  } catch (const Error& e) {
    add("git", Level::Fail, "no git repository at " + where + " or above it", "run mlrepo inside your repository's "
        "clone, or pass -C DIR; 'git init' starts one");
    docker_checks(tools.engine("docker"), "docker", add);
    add("config", Level::Skip, "skipped: no repository to read mlrepo.yaml from");
    return out;
  }
  if (repo->head_is_unborn())
    add("git", Level::Warn, "no commits yet", "commit your projects: builds tag images by commit");
  if (repo->is_shallow())
    add("git", Level::Warn, "this clone is shallow: `mlrepo changed` may lack the base commit",
        "git fetch --unshallow, or 'fetch-depth: 0' on actions/checkout");

  // The workspace config on its own first: a broken project config must not
  // hide what the workspace sets (its registry, its docker).
  std::optional<config::WorkspaceConfig> workspace;
  try {
    workspace = project::load_workspace_config(*git::worktree_snapshot(*repo));
  } catch (const Error& e) {
    add("config", Level::Fail, e.what(), e.hint(), true);
  }
  std::unique_ptr<View> view;
  if (workspace)
  try {
    view = std::make_unique<View>(open_view(*repo, std::nullopt));
    add("config", Level::Ok, plural(view->graph.projects().size(), "project") + ", " +
                                 (view->graph.edges().size() == 1 ? std::string("1 dependency")
                                                                  : std::to_string(view->graph.edges().size()) +
                                                                        " dependencies"));
    for (const auto& miss : project::near_misses(view->graph, *view->snapshot, view->config))
      add("graph", Level::Warn, report::near_miss_text(view->graph, miss),
          miss.registry ? "if it is meant to be built here, set 'registry: " + *miss.registry +
                              "' in mlrepo.yaml; otherwise ignore this"
                        : "if it is meant to be built here, write " +
                              view->graph.projects()[miss.project].image + " instead");
  } catch (const Error& e) {
    add("config", Level::Fail, e.what(), e.hint(), true);
  }
  config::WorkspaceConfig ws = view ? view->config : workspace.value_or(config::WorkspaceConfig{});
  // 'latest' from default_branch_tags and from releases: two meanings, and
  // the next push to the default branch moves it off the newest release.
  if (auto released = release::released_versions(*repo); !released.empty() &&
      std::find(ws.default_branch_tags.begin(), ws.default_branch_tags.end(), "latest") != ws.default_branch_tags.end())
    add("config", Level::Warn,
        "'latest' has two meanings: default_branch_tags gives it to every default-branch build, and releases (" +
            released.begin()->first + "/v…) give it to the highest release",
        "drop latest from default_branch_tags in mlrepo.yaml (releases keep it), or use another name there, "
        "e.g. 'edge'");
  if (!repo->head_is_unborn()) {
    std::string branch = changes::default_branch_name(*repo, ws);
    if (auto ref = changes::default_branch_ref(*repo, branch))
      add("git", Level::Ok, "default branch " + branch + " (" + *ref + ")");
    else
      add("git", Level::Warn, "the default branch '" + branch + "' is neither local nor at origin",
          "set 'default_branch:' in mlrepo.yaml, or 'git fetch origin'");
  }

  docker_checks(tools.engine(ws.docker), ws.docker, add);

  if (!workspace) {
    add("registry", Level::Skip, "skipped: the workspace mlrepo.yaml could not be read (see above)");
  } else if (ws.registry.empty()) {
    add("registry", Level::Warn, "no 'registry:' in mlrepo.yaml: images stay local",
        "set 'registry: HOST/NAMESPACE' to push with `mlrepo build --push`");
  } else {
    std::string probe = ws.registry + "/" + ws.image_prefix +
                        (view && !view->graph.projects().empty() ? view->graph.projects()[0].name
                                                                 : std::string("mlrepo-doctor")) +
                        ":mlrepo-doctor-probe";
    try {
      // Asked as build --push and promote ask: over HTTP, with docker's credentials.
      auto& credentials = tools.credentials();
      registry::ClientOptions once;
      once.retries = 1;
      auto& client = tools.registry(once);
      auto name = registry::parse_image_name(probe);
      client.head_manifest(name);
      add("registry", Level::Ok, ws.registry + " answers (credentials: " + credentials.origin(name.registry) + ")");
    } catch (const Error& e) {
      add("registry", Level::Fail, e.what(), e.hint());
    }
  }

  if (view) {
    // Wide contexts send what git never sees: data files, .git itself.
    std::set<std::string> seen;
    for (const auto& p : view->graph.projects()) {
      if (util::path_within(p.context, p.path) || !seen.insert(p.dockerfile + '\n' + p.context).second)
        continue;
      std::string dir = p.context.empty() ? repo->workdir() : repo->workdir() + "/" + p.context;
      auto file = project::read_dockerignore(
          p, [&](const std::string& f) { return util::read_file(repo->workdir() + "/" + f); });
      auto size = context_size(dir, file.rules);
      if (size.bytes < kLargeContext)
        continue;
      std::string what;
      for (const auto& [bytes, name] : size.largest)
        what += (what.empty() ? "" : ", ") + name + " (" + mib(bytes) + ")";
      const std::string& ignore_file = file.path;
      add("docker", Level::Warn,
          "project '" + p.name + "' sends " + mib(size.bytes) + " of build context from '" +
              (p.context.empty() ? std::string(".") : p.context) + "' on every build; largest: " + what,
          "list what the image does not need in " + ignore_file + " (e.g. .git, data/)");
    }
    // Jobs the local engine cannot run as specified (a GPU, more memory).
    bool any_job = false;
    for (const auto& p : view->graph.projects())
      any_job |= p.config && p.config->job.has_value();
    if (any_job) {
      auto info = tools.engine(ws.docker).info();
      for (const auto& p : view->graph.projects()) {
        if (!p.config || !p.config->job)
          continue;
        // Where it runs on its schedule: one place, never two.
        if (!p.config->job->schedule.empty())
          add("jobs", Level::Ok, "job of '" + p.name + "' runs on its schedule in " +
                                     job::describe_runs_on(p.name, *p.config->job, view->config));
        if (!info) {
          add("jobs", Level::Skip, "job of '" + p.name + "': skipped: the engine did not say what it can give");
          continue;
        }
        auto problems = job::resource_problems(*p.config->job, *info);
        if (problems.empty())
          add("jobs", Level::Ok, "job of '" + p.name + "' can run in the local engine");
        for (const auto& problem : problems)
          add("jobs", Level::Warn, "job of '" + p.name + "' cannot run here: " + problem,
              "'mlrepo job run " + p.name + "' refuses until it can; CI or the cluster may still run it");
      }
    }
    // The ecs: section (its values' shapes were read with the config), the
    // aws CLI a deploy runs, and what ECS would refuse in each job.
    if (ws.ecs.configured) {
      const auto& e = ws.ecs;
      add("ecs", Level::Ok, "cluster " + e.cluster + " in " + e.region + ", " + e.launch_type + ", " +
                                plural(e.subnets.size(), "subnet") + ", " +
                                plural(e.environments.size(), "environment") + "; every ARN in AWS's shape");
      util::ProcessSpec version;
      version.argv = {"aws", "--version"};
      try {
        auto r = tools.runner().run(version);
        if (r.ok())
          add("ecs", Level::Ok, "aws CLI: " + util::last_line(r.out.empty() ? r.err : r.out));
        else
          add("ecs", Level::Warn, "'aws --version' failed: " + r.said(),
              "'mlrepo job deploy --target ecs' runs the aws CLI: reinstall it");
      } catch (const Error&) {
        add("ecs", Level::Warn, "the aws CLI is not on PATH: 'mlrepo job deploy --target ecs' runs it",
            "install it (AWS's installer, or 'pip install awscli'); rendering works without it");
      }
      for (const auto& p : view->graph.projects()) {
        if (!p.config || !p.config->job)
          continue;
        deploy::Problems problems;
        try {
          deploy::kEcs.refuse(p, ws, std::nullopt, problems);
        } catch (const Error& err) {
          problems.push_back(std::make_shared<Error>(err));
        }
        for (const auto& problem : problems)
          add("ecs", Level::Fail, problem->what(), problem->hint(), true);
      }
    }
    // Every pipeline's references (steps, projects, outputs, params), each
    // pipeline's problems at once.
    for (const auto& spec : view->config.pipelines) {
      try {
        auto plan = pipeline::make_plan(spec, *view);
        add("pipelines", Level::Ok, "pipeline '" + plan.name + "': " + plural(plan.steps.size(), "step") +
                                        ", " + plural(plan.edges.size(), "edge"));
      } catch (const Error& e) {
        add("pipelines", Level::Fail, e.what(), e.hint(), true);
      }
    }
    try {
      ci::GenerateOptions go;
      go.mode = ws.ci.mode;
      go.default_branch = changes::default_branch_name(*repo, ws);
      go.pipelines = pipeline::make_plans(*view);
      auto files = ci::generate_workflows(view->graph, ws, *view->snapshot, go);
      auto report = ci::sync_workflows(repo->workdir(), files, /*check=*/true);
      if (report.in_sync())
        add("ci", Level::Ok, plural(files.size(), "generated workflow") + " in sync");
      else
        add("ci", Level::Warn,
            plural(report.created.size() + report.updated.size() + report.deleted.size(), "generated workflow") +
                " missing, stale or obsolete",
            "run 'mlrepo ci generate' and commit the result");
    } catch (const Error& e) {
      add("ci", Level::Fail, e.what(), e.hint(), true);
    }
  }
  return out;
}

ExitCode exit_code(const std::vector<Check>& checks) {
  bool failed = false, bad_input = false;
  for (const auto& c : checks)
    if (c.level == Level::Fail) {
      failed = true;
      bad_input = bad_input || c.bad_input;
    }
  return !failed ? ExitCode::Success : bad_input ? ExitCode::BadInput : ExitCode::Environment;
}

} // namespace mlrepo::doctor
