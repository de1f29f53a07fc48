#include "mlrepo/build/build.hpp"

#include "mlrepo/choose.hpp"
#include "mlrepo/tools.hpp"

#include "mlrepo/project/dockerfile.hpp"
#include "mlrepo/project/select.hpp"
#include "mlrepo/registry/client.hpp"
#include "mlrepo/util/fs.hpp"
#include "mlrepo/util/image_ref.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/workspace.hpp"

#include <atomic>
#include <cstdlib>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <thread>

namespace mlrepo::build {
namespace {

// Where only the classic builder exists, a Dockerfile that needs BuildKit
// fails up front with every place and what to install, not halfway through.
void refuse_buildkit_only(const std::vector<PlanItem>& plan, const std::string& workdir,
                          const std::string& why) {
  std::vector<std::string> problems;
  for (const auto& item : plan) {
    if (!item.secrets.empty())
      problems.push_back("project '" + item.name + "' passes build secrets");
    if (item.dockerfile_ignore)
      problems.push_back("project '" + item.name + "' has " + item.ignore_file +
                         ", a Dockerfile's own ignore file, which only BuildKit reads (the classic builder would "
                         "send what it leaves out, and the image would not be what its content tag names)");
    if (item.platforms.size() > 1)
      problems.push_back("project '" + item.name + "' builds for " + std::to_string(item.platforms.size()) +
                         " platforms (that needs the docker-buildx plugin itself)");
    auto content = util::read_file(workdir + "/" + item.dockerfile);
    if (!content)
      continue;
    for (const auto& f : project::buildkit_features(*content))
      problems.push_back(item.dockerfile + ":" + std::to_string(f.line) + ": " + f.what);
  }
  if (problems.empty())
    return;
  std::string message = "only BuildKit can build this, and the builder here is " + why + ":";
  for (const auto& p : problems)
    message += "\n  " + p;
  throw EnvironmentError(message,
                         "install the docker-buildx plugin (Docker's apt repository), or use a docker "
                         "CLI older than 23, which has BuildKit built in: Debian 12's docker.io is one "
                         "('docker: /usr/bin/docker' in mlrepo.yaml)");
}

// Several platforms in one build need buildx: the BuildKit built into a
// pre-23 CLI takes one platform (and the classic builder none), and the
// daemon's answer ("\"amd64,linux\" is an invalid component") says nothing useful.
void refuse_multi_platform(const std::vector<PlanItem>& plan, const View& view, const docker::Builder& builder) {
  if (builder.buildx)
    return;
  std::string message;
  for (const auto& item : plan) {
    if (item.platforms.size() < 2)
      continue;
    const auto& config = *view.graph.projects()[item.project].config;
    std::string list;
    for (const auto& p : item.platforms)
      list += (list.empty() ? "" : ", ") + p;
    message += "\n  " + (config.file.empty() ? item.name : config.file) + ": platforms [" + list + "]";
  }
  if (message.empty())
    return;
  throw EnvironmentError("building for several platforms at once needs docker buildx, and the builder here is " +
                             builder.why + ":" + message,
                         "install the docker-buildx plugin with a builder that can build several platforms "
                         "('docker buildx create --use', plus QEMU emulation for foreign ones), or list one "
                         "platform per build (e.g. 'platforms: [linux/amd64]')");
}

} // namespace

namespace {

std::string source_url(const git::Repository& repo, const context::RunContext& env) {
  if (!env.source_url().empty())
    return env.source_url();
  std::string url = repo.remote_url("origin").value_or("");
  // git@host:owner/repo.git -> https://host/owner/repo
  if (url.rfind("git@", 0) == 0) {
    auto colon = url.find(':');
    if (colon != std::string::npos)
      url = "https://" + url.substr(4, colon - 4) + "/" + url.substr(colon + 1);
  }
  if (url.size() > 4 && url.substr(url.size() - 4) == ".git")
    url.resize(url.size() - 4);
  if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0)
    return {}; // a local path says nothing to the image's readers
  // Never leak credentials embedded in the URL.
  auto at = url.find('@');
  if (at != std::string::npos && at < url.find('/', 8))
    url = url.substr(0, url.find("//") + 2) + url.substr(at + 1);
  return url;
}


// Build secrets come from the environment, read by docker itself; an image
// that is already built needs none, and a dry run never asks.
void require_secrets(const std::vector<const PlanItem*>& building, const View& view, const context::RunContext& env) {
  bool github = env.github_actions();
  for (const auto* item : building)
    for (const auto& [id, var] : item->secrets) {
      auto value = env(var);
      if (value && !value->empty())
        continue;
      const auto& config = *view.graph.projects()[item->project].config;
      std::string ci_secret = config::ci_secret_for(config, var);
      std::string where = config.file.empty() ? item->name + "'s mlrepo.yaml" : config.file;
      std::string what = "project '" + item->name + "' needs the build secret '" + id +
                         "' from the environment variable " + var + ", which is " + (value ? "empty" : "not set");
      if (github && env.secrets_withheld())
        throw UsageError(what + ": a pull request from a fork (or Dependabot's) gets no repository secrets, so "
                                "it cannot have the CI secret " + ci_secret,
                         "push the branch to this repository to build it here, or let the Dockerfile build "
                         "without the secret '" + id + "' when it is absent");
      if (github)
        throw UsageError(what,
                         "add the repository secret " + ci_secret +
                             " (Settings > Secrets and variables > Actions); the generated workflow passes it "
                             "to the build as " + var + (ci_secret == var ? " (another name: ci.secrets in " +
                                                                                  where + ")" : ""));
      throw UsageError(what, "export " + var + " and run again (its value is read by docker, never shown), "
                             "or remove the secret from " + where);
    }
}

} // namespace

PlanInputs plan_inputs(const git::Repository& repo, const config::WorkspaceConfig& ws,
                       const context::RunContext& env) {
  PlanInputs in;
  in.source_url = source_url(repo, env);
  if (env.provider() != "local") {
    in.branch = env.branch(); // the provider's word: its checkout may be a detached HEAD
  } else if (auto target = repo.symbolic_target("HEAD")) {
    const std::string prefix = "refs/heads/";
    if (target->rfind(prefix, 0) == 0)
      in.branch = target->substr(prefix.size());
  }
  in.on_default_branch = in.branch && *in.branch == changes::default_branch_name(repo, ws);
  return in;
}

std::vector<PlanItem> plan_commit(const git::Repository& repo, const View& view, const git_oid& commit,
                                  const std::vector<size_t>& chosen, const context::RunContext& env) {
  auto inputs = plan_inputs(repo, view.config, env);
  inputs.commit = commit;
  inputs.snapshot = view.snapshot.get();
  auto plan = make_plan(repo, view.config, view.graph, chosen, inputs);
  std::vector<PlanItem> out;
  for (auto& item : plan)
    if (item.requested)
      out.push_back(std::move(item));
  return out;
}

bool any_failed(const std::vector<Result>& results) {
  for (const auto& r : results)
    if (r.status != Status::Built && r.status != Status::Skipped)
      return true;
  return false;
}

BuildOutcome run_build(const git::Repository& repo, BuildOptions opt, BuildStatus& status, Tools& tools) {
  const auto& env = tools.run();
  require_one_way({opt.changed, opt.all, !opt.projects.empty()}, "PROJECT..., --changed or --all");
  BuildOutcome out;
  std::optional<ChangesResult> changes;
  if (opt.changed)
    changes = find_changes(repo, opt.selection, env);
  // Builds read the work tree; `changed` already looked at it when it counted
  // uncommitted work.
  // Named projects (or the one you are in) build despite an invalid project
  // directory elsewhere; --all and --changed need every project sound.
  ViewOptions view_options{.skip_invalid = !opt.all && !opt.changed};
  out.view = changes && changes->selection.uncommitted
                 ? std::make_unique<View>(std::move(changes->view))
                 : std::make_unique<View>(open_view(repo, std::nullopt, view_options));
  const View& view = *out.view;
  const auto& graph = view.graph;
  // Without a registry the image names are bare, and docker would push them
  // to Docker Hub (retrying for seconds before it is refused): say so first.
  if (opt.exec.push && view.config.registry.empty())
    throw UsageError("--push needs a registry to push to, and " + std::string(config::kConfigFile) +
                         " at the repository's root sets no 'registry:'",
                     "add e.g. 'registry: ghcr.io/<owner>' to it, or build without --push");

  // Its view moved into ours when it counted uncommitted work.
  auto picked = choose_projects(
      repo, view,
      options_choice(opt.projects, opt.all, opt.cwd, changes ? &*changes : nullptr,
                     changes && changes->selection.uncommitted ? &graph : nullptr));
  if (!picked) {
    // The example names a project of this repository, with the command the user ran.
    std::string example = graph.projects().empty() ? "NAME" : graph.projects()[0].name;
    throw UsageError("which projects? Name them, or use --changed or --all",
                     graph.projects().empty()
                         ? "this repository has no projects yet: 'mlrepo new NAME' starts one"
                         : "e.g. 'mlrepo " + opt.command + " " + example + "', 'mlrepo " + opt.command +
                               " --changed', or run it inside a project directory ('mlrepo list' shows them)");
  }
  std::vector<size_t> chosen = std::move(*picked);
  if (changes && chosen.empty())
      spdlog::info("no project changed: nothing to build{}",
                   changes->set.base == changes->set.head && opt.exec.push
                       ? " (on the default branch --changed compares HEAD with itself; 'mlrepo build --all --push' "
                         "builds and pushes whatever the registry lacks)"
                       : "");

  out.nothing_to_do = chosen.empty();
  if (chosen.empty())
    return out;
  auto inputs = plan_inputs(repo, view.config, env);
  inputs.build_arg_overrides = opt.build_args;
  out.plan = make_plan(repo, view.config, graph, chosen, inputs);
  if (opt.content_tag_only)
    for (auto& item : out.plan)
      item.tags = {item.content_ref};
  for (const auto& item : out.plan)
    if (!item.withheld_tags.empty() && item.requested && !opt.content_tag_only)
      spdlog::log(opt.exec.push ? spdlog::level::warn : spdlog::level::debug, "{}: uncommitted changes reach its image, so it gets only its content tag and {}, never {} "
                   "(they name commits and branches, which do not hold these changes)",
                   item.name, item.tags.back().substr(util::strip_tag(item.tags.back()).size() + 1),
                   fmt::format("{}", fmt::join(item.withheld_tags, ", ")));
  if (opt.plan_only)
    return out;

  opt.exec.before_building = [&view, &env](const std::vector<const PlanItem*>& building) {
    require_secrets(building, view, env);
  };

  auto& engine = tools.engine(view.config.docker);
  // Existence checks ask the registry over HTTP: no docker process per image.
  registry::ClientOptions client_options;
  client_options.retries = opt.exec.push_retries;
  client_options.delay = opt.exec.retry_delay;
  client_options.on_retry = [](const std::string& what) { spdlog::warn("registry check of {}", what); };
  if (!opt.exec.push || opt.dry_run) {
    // Only to pull a dependency instead of building it, or to plan: never
    // wait long for a registry that a laptop offline cannot reach.
    client_options.retries = 0;
    client_options.connect_timeout_s = 3;
    client_options.on_retry = nullptr;
  }
  auto& client = tools.registry(client_options);
  // A dry run asks an unreachable registry once, not once per image.
  std::atomic<bool> unreachable{false};
  if (opt.exec.push || !view.config.registry.empty())
    opt.exec.remote_digest = [&client, &unreachable, dry = opt.dry_run](const std::string& ref) -> std::optional<std::string> {
      if (dry && unreachable)
        throw EnvironmentError("the registry did not answer a moment ago");
      try {
        auto found = client.head_manifest(registry::parse_image_name(ref));
        return found ? std::optional<std::string>(found->digest) : std::nullopt;
      } catch (const EnvironmentError&) {
        unreachable = true;
        throw;
      }
    };
  if (opt.exec.push)
    opt.exec.copy_tags = [&client](const std::string& from, const std::vector<std::string>& to) {
      auto manifest = client.get_manifest(registry::parse_image_name(from));
      client.put_tags(manifest, to);
      return manifest.info.digest;
    };
  opt.exec.workdir = repo.workdir();
  opt.exec.log_dir = opt.log_dir.value_or(repo.git_dir() + "mlrepo/logs");
  bool reachable = true;
  try {
    engine.require_reachable();
  } catch (const EnvironmentError& e) {
    if (!opt.dry_run)
      throw;
    reachable = false;
    spdlog::warn("{}; the dry run assumes no image exists yet", e.what());
  }
  if (reachable) {
    const auto& builder = engine.detect_builder();
    spdlog::debug("builder: {}", builder.why);
    if (builder.buildkit)
      refuse_multi_platform(out.plan, view, builder);
    else
      refuse_buildkit_only(out.plan, repo.workdir(), builder.why);
    opt.exec.registry_cache = opt.exec.push && view.config.build_cache && builder.buildkit;
    if (opt.exec.push && view.config.build_cache && !builder.buildkit)
      spdlog::info("no registry layer cache: it needs BuildKit, and the builder here is {}", builder.why);
  }
  if (opt.dry_run) {
    out.commands = dry_run(out.plan, engine, opt.exec, reachable);
    return out;
  }
  size_t to_check = out.plan.size();
  spdlog::log(opt.command == "build" ? spdlog::level::info : spdlog::level::debug, "{} project{} to build or check ({} chosen, {} -j {})", to_check,
               to_check == 1 ? "" : "s", chosen.size(), opt.exec.push ? "pushing," : "not pushing,",
               opt.exec.jobs);
  out.results = execute(out.plan, engine, opt.exec, status);
  return out;
}

} // namespace mlrepo::build
