#include "app.hpp"
#include "common.hpp"
#include "mlrepo/tools.hpp"

#include "mlrepo/build/build.hpp"
#include "mlrepo/report/build_status.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"
#include "mlrepo/util/log.hpp"
#include "mlrepo/util/process.hpp"

#include <filesystem>
#include <iostream>
#include <thread>

namespace mlrepo::cli {

struct BuildCliOptions {
  build::BuildOptions core;
  std::optional<std::string> json_report;
  std::vector<std::string> build_args_raw;
};

std::map<std::string, std::string> parse_build_args(const std::vector<std::string>& raw) {
  std::map<std::string, std::string> out;
  for (const auto& kv : raw) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError("--build-arg '" + kv + "' is not KEY=VALUE", "e.g. --build-arg PYTHON_VERSION=3.11");
    out[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return out;
}

int default_jobs() {
  unsigned cores = std::thread::hardware_concurrency();
  // docker builds are themselves parallel; half the cores, at least two.
  return static_cast<int>(std::clamp(cores / 2, 2u, 8u));
}

void register_build(CLI::App& app, const GlobalOptions& global, Tools& tools, Action& action) {
  auto opts = std::make_shared<BuildCliOptions>();
  opts->core.exec.jobs = default_jobs();
  auto* cmd = app.add_subcommand("build", "docker build (and push) the chosen projects, dependencies first");
  cmd->footer(
      "Each image is tagged <registry>/<prefix><name>:content-<hash> (everything that defines\n"
      "the image: its files, depends_on paths, base images, build settings), :<commit sha>\n"
      "(:<sha>-dirty when uncommitted work reaches it), and the workspace's extra tags.\n"
      "An image whose content tag already exists (locally; in the registry with --push) is\n"
      "not rebuilt: only missing tags are added. Logs: .git/mlrepo/logs/<name>.log.\n"
      "Examples:\n"
      "  mlrepo build churn-model            # one project (and what it builds FROM)\n"
      "  mlrepo build --changed              # what my branch and work tree touch\n"
      "  mlrepo build --all --push           # recommended in CI: builds exactly what the registry lacks\n"
      "  mlrepo build --changed --dry-run    # print the docker commands");
  cmd->add_option("PROJECT", opts->core.projects, "Project names or paths (default: the project you are in)");
  auto* changed = cmd->add_flag("--changed", opts->core.changed, "Build the projects `mlrepo changed` lists");
  add_selection_options(*cmd, opts->core.selection);
  cmd->add_flag("--all", opts->core.all, "Build every project")->excludes(changed);
  cmd->add_flag("--push", opts->core.exec.push, "Push every tag to the registry (retrying transient failures)");
  cmd->add_flag("--content-tag-only", opts->core.content_tag_only,
                "Tag and push only the content tag; 'mlrepo promote' adds the others once tests pass "
                "(what generated CI does)");
  cmd->add_option("-j,--jobs", opts->core.exec.jobs, "Builds at once (default: half the cores, at least 2)")
      ->check(CLI::Range(1, 64));
  cmd->add_flag("--keep-going", opts->core.exec.keep_going,
                "After a failure, keep building what does not depend on it");
  cmd->add_flag("--force", opts->core.exec.force, "Rebuild even when the content tag exists");
  cmd->add_flag("--dry-run", opts->core.dry_run, "Print the docker commands that would run, and run none");
  cmd->add_option("--json-report", opts->json_report, "Write a JSON report of the results to FILE")
      ->type_name("FILE");
  cmd->add_option("--build-arg", opts->build_args_raw,
                  "Override a build argument of the chosen projects (KEY=VALUE, repeatable)")
      ->type_name("KEY=VALUE");
  cmd->add_option("--log-dir", opts->core.log_dir, "Where per-project logs go (default .git/mlrepo/logs)")
      ->type_name("DIR");
  cmd->add_option("--push-retries", opts->core.exec.push_retries,
                  "Retries of a push that failed transiently (default 3; backoff 1s, 2s, 4s, ...)")
      ->check(CLI::Range(0, 10));
  cmd->callback([&global, opts, &tools, &action] {
    action = [&global, opts, &tools] {
      opts->core.build_args = parse_build_args(opts->build_args_raw);
      auto repo = open_repository(global);
      opts->core.cwd = command_cwd(global);
      auto status = tools.build_status(global.quiet, false);
      auto outcome = build::run_build(repo, opts->core, *status, tools);
      if (opts->core.dry_run) {
        for (const auto& argv : outcome.commands)
          std::cout << util::shell_quote(argv) << "\n";
        return 0;
      }
      if (opts->json_report)
        util::write_file_atomic(*opts->json_report, report::build_report_json(outcome.results));
      if (util::interrupted())
        return static_cast<int>(ExitCode::Interrupted);
      return build::any_failed(outcome.results) ? 1 : 0;
    };
  });
}

} // namespace mlrepo::cli
