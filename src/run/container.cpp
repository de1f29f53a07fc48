#include "mlrepo/run/container.hpp"
#include "mlrepo/docker/container.hpp"
#include "mlrepo/docker/run.hpp"
#include "mlrepo/choose.hpp"
#include "mlrepo/tools.hpp"

#include "mlrepo/docker/engine.hpp"
#include "mlrepo/project/select.hpp"
#include "mlrepo/registry/client.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"
#include "mlrepo/util/image_ref.hpp"
#include "mlrepo/util/process.hpp"
#include "mlrepo/util/terminal.hpp"
#include "mlrepo/util/text.hpp"
#include "mlrepo/workspace.hpp"

#include <filesystem>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace mlrepo::run {

namespace fs = std::filesystem;

std::vector<std::string> command_argv(const std::vector<std::string>& command) {
  if (command.size() == 1)
    return {"/bin/sh", "-c", command[0]};
  return command;
}

namespace {

// The commands `mlrepo test` runs for a project: lint, then test, as `only` allows.
using TestSteps = std::vector<std::pair<std::string, std::vector<std::string>>>;
TestSteps test_steps(const config::ProjectConfig& config, Only only) {
  TestSteps steps;
  if (only != Only::Test && !config.lint.empty())
    steps.emplace_back("lint", config.lint);
  if (only != Only::Lint && !config.test.empty())
    steps.emplace_back("test", config.test);
  return steps;
}

// Builds the chosen projects (and what they depend on).
Images build_images(const git::Repository& repo, const build::BuildOptions& opt,
                    build::BuildStatus& status, Tools& tools) {
  auto outcome = build::run_build(repo, opt, status, tools);
  Images out;
  out.view = std::move(outcome.view);
  for (size_t i = 0; i < outcome.plan.size(); ++i) {
    const auto& item = outcome.plan[i];
    if (!item.requested)
      continue;
    auto st = outcome.results.at(i).status;
    if (st == build::Status::Built || st == build::Status::Skipped)
      out.built.emplace(item.name, item.content_ref);
    else
      out.not_built.push_back(item.name);
  }
  return out;
}

// The chosen projects' images as the registry holds them under their content
// tags, pulled by digest: nothing is built, so a test cannot pass on an image
// that differs from the one pushed.
Images pulled_images(const git::Repository& repo, build::BuildOptions opt,
                     const std::function<bool(const project::Project&)>& needs_image,
                     build::BuildStatus& status, Tools& tools) {
  opt.plan_only = true;
  auto outcome = build::run_build(repo, opt, status, tools);
  Images out;
  out.view = std::move(outcome.view);
  if (outcome.plan.empty())
    return out;
  if (out.view->config.registry.empty())
    throw UsageError("--pull tests the images in the registry, and " + out.view->config.file +
                         " sets no 'registry:'",
                     "add e.g. 'registry: ghcr.io/<owner>' to it, or test local builds without --pull");
  registry::ClientOptions client_options;
  client_options.on_retry = [](const std::string& what) { spdlog::warn("registry check of {}", what); };
  auto& client = tools.registry(client_options);
  auto& engine = tools.engine(out.view->config.docker);
  engine.require_reachable();
  for (const auto& item : outcome.plan) {
    if (!item.requested)
      continue;
    // Nothing to run in it: no reason to pull it (the caller says so).
    if (needs_image && !needs_image(out.view->graph.projects()[item.project])) {
      out.built.emplace(item.name, item.content_ref);
      continue;
    }
    // One project's command (job run) turns the reason into its own error:
    // said here too, it would print twice.
    bool say = opt.command != "job run";
    auto found = client.head_manifest(registry::parse_image_name(item.content_ref));
    if (!found) {
      out.why_not[item.name] = "its image " + item.content_ref + " is not in the registry";
      if (say) {
        spdlog::error("{}: {}", item.name, out.why_not[item.name]);
        spdlog::info("hint: build and push it first: mlrepo build --push {}", item.name);
      }
      out.not_built.push_back(item.name);
      continue;
    }
    std::string ref = util::strip_tag(item.content_ref) + "@" + found->digest;
    spdlog::info("==> {}: pulling {}", item.name, ref);
    auto r = engine.run(engine.pull_argv(ref), [](std::string_view line) { spdlog::debug("{}", line); });
    if (!r.ok()) {
      out.why_not[item.name] = "cannot pull " + ref + ": " + util::last_line(r.err + r.out);
      if (say)
        spdlog::error("{}: {}", item.name, out.why_not[item.name]);
      out.not_built.push_back(item.name);
      continue;
    }
    out.built.emplace(item.name, ref);
  }
  return out;
}

} // namespace

Images prepare_images(const git::Repository& repo, const build::BuildOptions& opt, bool pull,
                      build::BuildStatus& status, Tools& tools,
                      const std::function<bool(const project::Project&)>& needs_image) {
  return pull ? pulled_images(repo, opt, needs_image, status, tools) : build_images(repo, opt, status, tools);
}

namespace {

std::string host_path(const std::string& spec_host, const std::string& base) {
  fs::path p(spec_host);
  return (p.is_absolute() ? p : fs::path(base) / p).lexically_normal().string();
}

// HOST:CONTAINER[:MODE] with HOST made absolute against `base`. Docker
// would silently create a missing HOST directory (a typo becomes an empty
// directory, inside the repository when relative); refuse unless asked.
std::string volume_arg(const std::string& spec, const std::string& base, const std::string& what,
                       bool create_missing) {
  auto colon = spec.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size())
    throw UsageError(what + " '" + spec + "' is not HOST:CONTAINER[:ro]", "e.g. data:/app/data or data:/app/data:ro");
  std::string host = host_path(spec.substr(0, colon), base);
  std::error_code ec;
  if (!fs::exists(host, ec)) {
    if (!create_missing)
      throw UsageError(what + " '" + spec + "': the host path " + host + " does not exist",
                       "fix the path, create it ('mkdir -p " + host + "'), or pass --mkdir to create it");
    fs::create_directories(host, ec);
    if (ec)
      throw UsageError("cannot create " + host + " for " + what + " '" + spec + "': " + ec.message());
  }
  return host + spec.substr(colon);
}

// Refuses bad volumes before anything builds.
void check_volumes(const config::RunSettings& settings, const RunOptions& opt, const std::string& workdir,
                   const std::string& config_file) {
  for (const auto& v : settings.volumes)
    volume_arg(v, workdir, "run.volumes entry in " + config_file, opt.create_missing);
  for (const auto& v : opt.volumes)
    volume_arg(v, opt.cwd, "--volume", opt.create_missing);
}

} // namespace


std::vector<std::string> run_argv(const std::string& docker, const std::string& image,
                                  const config::RunSettings& settings, const RunOptions& opt,
                                  const std::string& workdir, bool tty, const std::string& name) {
  docker::RunRequest r;
  r.image = image;
  r.name = name;
  r.interactive = true;
  r.tty = tty;
  std::map<std::string, std::string> env = settings.env;
  for (const auto& kv : opt.env) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError("--env '" + kv + "' is not KEY=VALUE");
    env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  r.env.assign(env.begin(), env.end());
  for (const auto& v : settings.volumes)
    r.volumes.push_back(volume_arg(v, workdir, "run.volumes entry", opt.create_missing));
  for (const auto& v : opt.volumes)
    r.volumes.push_back(volume_arg(v, opt.cwd, "--volume", opt.create_missing));
  r.gpus = settings.gpus;
  r.ports = settings.ports;
  const auto& command = opt.args.empty() ? settings.command : opt.args;
  if (!command.empty())
    r.command = opt.args.empty() ? command_argv(command) : command;
  return docker::run_argv(docker, r);
}

TestOutcome run_tests(const git::Repository& repo, TestOptions opt, build::BuildStatus& status, Tools& tools) {
  TestOutcome outcome;
  auto has_steps = [&](const project::Project& p) { return !test_steps(*p.config, opt.only).empty(); };
  auto images = prepare_images(repo, opt.build, opt.pull, status, tools, has_steps);
  outcome.not_built = images.not_built;
  const View& view = *images.view;
  auto& runner = tools.runner();
  bool many = images.built.size() > 1;
  for (const auto& project : view.graph.projects()) {
    auto it = images.built.find(project.name);
    if (it == images.built.end())
      continue;
    auto steps = test_steps(*project.config, opt.only);
    if (steps.empty()) {
      // Name the file only when there is one: otherwise say where to create it.
      const char* what = opt.only == Only::Lint ? "lint:" : opt.only == Only::Test ? "test:" : "test: or lint:";
      if (project.config->file.empty())
        spdlog::warn("{}: nothing to run: it has no mlrepo.yaml; create {}/mlrepo.yaml with a {} command", project.name,
                     project.path, what);
      else
        spdlog::warn("{}: no {} command in {}; nothing to run", project.name, what, project.config->file);
      outcome.no_command.push_back(project.name);
      continue;
    }
    bool ok = true;
    for (const auto& [what, command] : steps) {
      docker::ContainerGuard container(tools.runner(), view.config.docker, project.name);
      util::ProcessSpec spec;
      auto cmd = command_argv(command);
      docker::RunRequest request;
      request.image = it->second;
      request.name = container.name();
      request.command = cmd;
      spec.argv = docker::run_argv(view.config.docker, request);
      spec.on_interrupt = [&container] { container.stop(); };
      spdlog::info("==> {}: {}: {}", project.name, what, util::shell_quote(cmd));
      std::string prefix = many ? "[" + project.name + "] " : "";
      spec.on_line = [&](std::string_view line) {
        std::fprintf(stderr, "%s%.*s\n", prefix.c_str(), static_cast<int>(line.size()), line.data());
      };
      spec.capture_stdout = false;
      spec.capture_stderr = false;
      auto r = runner.run(spec);
      if (util::interrupted())
        return outcome;
      if (!r.ok()) {
        spdlog::error("{}: {} failed (exit code {})", project.name, what,
                      r.signal ? 128 + r.signal : r.exit_code);
        ok = false;
        break;
      }
    }
    (ok ? outcome.passed : outcome.failed).push_back(project.name);
    outcome.tested.emplace(project.name, it->second);
  }
  return outcome;
}

int run_project(const git::Repository& repo, const RunOptions& opt, build::BuildStatus& status, Tools& tools) {
  {
    View before = open_view(repo, std::nullopt, ViewOptions{.skip_invalid = true});
    auto chosen = *choose_projects(repo, before, {.names = {opt.project}, .cwd = opt.cwd});
    const auto& p = before.graph.projects()[chosen.at(0)];
    check_volumes(p.config->run, opt, repo.workdir(), util::join_path(p.path, "mlrepo.yaml"));
  }
  build::BuildOptions bo;
  bo.command = "run"; // build chatter only when something builds
  bo.projects = {opt.project};
  bo.cwd = opt.cwd;
  bo.build_args = opt.build_args;
  auto images = build_images(repo, bo, status, tools);
  const View& view = *images.view;
  auto chosen = *choose_projects(repo, view, {.names = {opt.project}, .cwd = opt.cwd});
  const auto& project = view.graph.projects()[chosen.at(0)];
  auto built = images.built.find(project.name);
  if (built == images.built.end())
    throw Error(ExitCode::WorkFailed, "cannot run " + project.name + ": its image did not build");
  bool tty = ::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO);
  docker::ContainerGuard container(tools.runner(), view.config.docker, project.name);
  util::ProcessSpec spec;
  spec.argv = run_argv(view.config.docker, built->second, project.config->run, opt,
                       repo.workdir(), tty, container.name());
  spec.on_interrupt = [&container] { container.stop(); };
  spdlog::debug("$ {}", util::shell_quote(spec.argv));
  spec.capture_stdout = false;
  spec.capture_stderr = false;
  // On a terminal the keys pass through a pseudo-terminal of ours, so a
  // Ctrl-C that the container handles (and then exits 0) is still seen as
  // the interrupt it was (exit 130).
  std::optional<util::TerminalRelay> relay;
  if (tty) {
    relay.emplace();
    spec.terminal_fd = relay->child_fd();
    spec.on_started = [&relay] { relay->close_child_end(); };
    relay->start();
  } else {
    spec.inherit_stdin = true;
  }
  auto r = tools.runner().run(spec);
  if (relay) {
    relay->finish();
    auto typed = relay->last_interrupt();
    if (typed && std::chrono::steady_clock::now() - *typed < std::chrono::seconds(10)) {
      spdlog::debug("Ctrl-C was typed and the container ended within 10 s of it: interrupted");
      return static_cast<int>(ExitCode::Interrupted);
    }
  }
  if (r.signal)
    return 128 + r.signal;
  return r.exit_code;
}

} // namespace mlrepo::run
