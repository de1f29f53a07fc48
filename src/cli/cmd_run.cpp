#include "app.hpp"
#include "common.hpp"
#include "mlrepo/choose.hpp"
#include "mlrepo/tools.hpp"

#include "mlrepo/run/container.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"
#include "mlrepo/util/log.hpp"
#include "mlrepo/workspace.hpp"

#include <filesystem>

namespace mlrepo::cli {

struct RunCliOptions {
  run::RunOptions core;
  std::vector<std::string> build_args_raw;
};

void register_run(CLI::App& app, const GlobalOptions& global, Tools& tools, Action& action) {
  auto opts = std::make_shared<RunCliOptions>();
  auto* cmd = app.add_subcommand("run", "Build if needed, then run a project's container locally");
  cmd->footer("Runs `docker run --rm` with a TTY when stdin is one, the project's `run:` settings\n"
              "(env, volumes relative to the repository, gpus, ports) and your overrides. ARGS after\n"
              "`--` replace the command. The container's exit code is mlrepo's.\n"
              "Examples:\n  mlrepo run churn-model\n  mlrepo run churn-model -- python -m pytest -q\n"
              "  mlrepo run notebook --env DEBUG=1 --volume ~/datasets:/data:ro");
  cmd->add_option("PROJECT", opts->core.project, "Project name or path (default: the project you are in)");
  cmd->add_option("ARGS", opts->core.args, "The command to run instead of the default")->expected(0, -1);
  cmd->add_option("-e,--env", opts->core.env, "Set an environment variable (KEY=VALUE)")->type_name("KEY=VALUE");
  cmd->add_option("--volume", opts->core.volumes, "Mount HOST:CONTAINER[:ro] (HOST relative to here)")
      ->type_name("SPEC");
  cmd->add_flag("--mkdir", opts->core.create_missing,
                "Create volume host directories that do not exist (otherwise a missing one is an error)");
  cmd->add_option("--build-arg", opts->build_args_raw, "Override a build argument (KEY=VALUE)")
      ->type_name("KEY=VALUE");
  cmd->positionals_at_end(false);
  cmd->callback([&global, opts, &tools, &action] {
    action = [&global, opts, &tools] {
      auto repo = open_repository(global);
      auto& c = opts->core;
      if (global.saw_double_dash)
        c.args.insert(c.args.end(), global.passthrough.begin(), global.passthrough.end());
      c.cwd = command_cwd(global);
      c.build_args = parse_build_args(opts->build_args_raw);
      if (c.project.empty()) {
        View view = open_view(repo, std::nullopt, ViewOptions{.skip_invalid = true});
        ProjectChoice where;
        where.cwd = c.cwd;
        auto here = choose_projects(repo, view, where);
        if (!here)
          throw UsageError("which project? 'mlrepo run PROJECT [-- ARGS...]'",
                           "name one, or run it inside a project directory");
        // Named by its absolute path: cwd stays where the user is, since
        // --volume host paths are relative to it.
        c.project = util::join_path(repo.workdir(), view.graph.projects()[here->at(0)].path);
      }
      // A stale image rebuilds with the progress `build` shows; a current one says nothing.
      auto status = tools.build_status(global.quiet, !global.verbose);
      return run::run_project(repo, c, *status, tools);
    };
  });
}

} // namespace mlrepo::cli
