#include "app.hpp"
#include "common.hpp"
#include "mlrepo/tools.hpp"

#include "mlrepo/run/container.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"
#include "mlrepo/util/log.hpp"

#include <filesystem>
#include <spdlog/spdlog.h>

namespace mlrepo::cli {

struct TestCliOptions {
  run::TestOptions core;
  std::string only = "all";
  std::vector<std::string> build_args_raw;
};

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names)
    out += (out.empty() ? "" : ", ") + n;
  return out;
}

// Which image each project's tests ran in: with --pull, the digest.
std::string step_summary(const run::TestOutcome& outcome) {
  std::string out = "### mlrepo test\n\n| project | image tested | result |\n|---|---|---|\n";
  for (const auto& [name, image] : outcome.tested) {
    bool passed = std::find(outcome.passed.begin(), outcome.passed.end(), name) != outcome.passed.end();
    out += "| " + name + " | `" + image + "` | " + (passed ? "passed" : "failed") + " |\n";
  }
  return out + "\n";
}

void register_test(CLI::App& app, const GlobalOptions& global, Tools& tools, Action& action) {
  auto opts = std::make_shared<TestCliOptions>();
  auto* cmd = app.add_subcommand("test", "Run each project's lint and test commands inside its image");
  cmd->footer("Builds each image if needed (as `mlrepo build` does), then runs the project's\n"
              "`lint:` and `test:` commands from its mlrepo.yaml in a fresh container, the way CI\n"
              "does. Exit 1 naming every project whose tests failed.\n"
              "Examples:\n  mlrepo test                 # inside a project: that project\n"
              "  mlrepo test churn-model demand-forecast\n  mlrepo test --changed\n"
              "  mlrepo test churn-model --pull  # CI: the pushed image, by digest; the job\n"
              "                                  # summary names the digest tested");
  cmd->add_option("PROJECT", opts->core.build.projects, "Project names or paths (default: the project you are in)");
  cmd->add_flag("--changed", opts->core.build.changed, "Test the projects `mlrepo changed` lists");
  add_selection_options(*cmd, opts->core.build.selection);
  cmd->add_flag("--all", opts->core.build.all, "Test every project");
  cmd->add_option("--only", opts->only, "Run only the lint or the test command")
      ->check(CLI::IsMember({"lint", "test", "all"}));
  cmd->add_option("--build-arg", opts->build_args_raw, "Override a build argument (KEY=VALUE)")
      ->type_name("KEY=VALUE");
  auto* pull = cmd->add_flag("--pull", opts->core.pull,
                             "Test the image the registry holds (its content tag, pulled by digest) "
                             "instead of building: what CI pushed is what it tests");
  cmd->add_option("-j,--jobs", opts->core.build.exec.jobs, "Image builds at once")->check(CLI::Range(1, 64));
  cmd->get_option("--build-arg")->excludes(pull);
  cmd->callback([&global, opts, &tools, &action] {
    action = [&global, opts, &tools] {
      const auto& env = tools.run();
      auto repo = open_repository(global);
      auto& b = opts->core.build;
      b.command = "test";
      b.cwd = command_cwd(global);
      b.build_args = parse_build_args(opts->build_args_raw);
      opts->core.only = opts->only == "lint" ? run::Only::Lint : opts->only == "test" ? run::Only::Test
                                                                                     : run::Only::Both;
      // A stale image rebuilds with the progress `build` shows; a current one says nothing.
      auto status = tools.build_status(global.quiet, !global.verbose);
      auto outcome = run::run_tests(repo, opts->core, *status, tools);
      if (!outcome.not_built.empty())
        spdlog::error("{}: {}", opts->core.pull ? "could not pull" : "could not build", join(outcome.not_built));
      if (!outcome.failed.empty())
        spdlog::error("tests failed: {}", join(outcome.failed));
      if (!outcome.passed.empty())
        spdlog::info("tests passed: {}", join(outcome.passed));
      if (auto summary = env.step_summary(); summary && !outcome.tested.empty())
        util::append_file(*summary, step_summary(outcome));
      bool bad = !outcome.failed.empty() || !outcome.not_built.empty();
      return bad ? 1 : 0;
    };
  });
}

} // namespace mlrepo::cli
