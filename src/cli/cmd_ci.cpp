#include "app.hpp"
#include "common.hpp"
#include "mlrepo/tools.hpp"

#include "mlrepo/util/error.hpp"
#include "mlrepo/changes/selection.hpp"
#include "mlrepo/ci/sync.hpp"
#include "mlrepo/workspace.hpp"

#include <spdlog/spdlog.h>

namespace mlrepo::cli {

struct CiGenerateOptions {
  bool check = false;
  std::optional<std::string> mode;
};

void register_ci(CLI::App& app, const GlobalOptions& global, Tools& tools, Action& action) {
  auto opts = std::make_shared<CiGenerateOptions>();
  auto* ci = app.add_subcommand("ci", "Generate GitHub Actions workflows for the projects");
  ci->require_subcommand(1);
  auto* gen = ci->add_subcommand("generate", "Write .github/workflows/mlrepo-<name>.yml for every project");
  gen->footer(
      "Per-project mode (default): one workflow per project, triggered by `paths:` filters\n"
      "covering the project, what it depends on, global triggers and mlrepo.yaml; one build job\n"
      "builds the image once, pushes its content tag, tests what it pushed, and on the default\n"
      "branch (or a release tag) promotes it.\n"
      "Matrix mode (`ci: {mode: matrix}` in mlrepo.yaml): one workflow that runs\n"
      "`mlrepo changed` and builds the changed projects by dependency depth, tests them as\n"
      "pushed and promotes them, with a gate job to require.\n"
      "Both: a scheduled workflow per job that runs in GitHub Actions (job.runs_on), and with\n"
      "kubernetes.deploy a deploy job for the jobs that run on the cluster.\n"
      "Only files starting with the generated header are ever rewritten or deleted.\n"
      "Examples:\n  mlrepo ci generate\n  mlrepo ci generate --check    # in CI: exit 1 when workflows are stale");
  gen->add_flag("--check", opts->check, "Write nothing; exit 1 naming every missing, stale or obsolete workflow");
  gen->add_option("--mode", opts->mode, "per-project or matrix: must match the workspace's ci.mode, which decides")
      ->check(CLI::IsMember({"per-project", "matrix"}));
  gen->callback([&global, opts, &tools, &action] {
    action = [&global, opts, &tools] {
      auto repo = open_repository(global);
      auto view = open_view(repo, std::nullopt);
      ci::GenerateOptions go;
      go.mode = view.config.ci.mode;
      if (opts->mode) {
        auto wanted = *opts->mode == "matrix" ? config::CiMode::Matrix : config::CiMode::PerProject;
        // The generated files must be what `ci generate --check` (run by CI)
        // expects: the mode lives in the workspace config, not in a flag.
        if (wanted != view.config.ci.mode)
          throw UsageError("--mode " + *opts->mode + " differs from the workspace's ci.mode (" +
                               (view.config.ci.mode == config::CiMode::Matrix ? "matrix" : "per-project") +
                               "), so the next 'mlrepo ci generate --check' would report drift",
                           "record it in mlrepo.yaml, then run 'mlrepo ci generate':\n  ci:\n    mode: " + *opts->mode);
        go.mode = wanted;
      }
      go.default_branch = changes::default_branch_name(repo, view.config);
      go.pipelines = pipeline::make_plans(view);
      if (view.config.ci.pin_sha && view.config.ci.mlrepo_action.size() - view.config.ci.mlrepo_action.find('@') != 41)
        spdlog::warn("ci.mlrepo_action '{}' is not pinned to a commit SHA; pin it in mlrepo.yaml "
                     "(OWNER/REPO@<40-hex sha>) so a moved tag cannot change your CI",
                     view.config.ci.mlrepo_action);
      auto files = ci::generate_workflows(view.graph, view.config, *view.snapshot, go);
      auto report = ci::sync_workflows(repo.workdir(), files, opts->check);
      return report_sync(report, opts->check, files.size(), "workflow", "mlrepo ci generate");
    };
  });
}

} // namespace mlrepo::cli
