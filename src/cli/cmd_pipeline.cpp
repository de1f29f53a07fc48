// `mlrepo pipeline`: steps that are projects, from the workspace's pipelines:.
#include "app.hpp"
#include "common.hpp"
#include "mlrepo/tools.hpp"

#include "mlrepo/deploy/pipeline.hpp"
#include "mlrepo/pipeline/list.hpp"
#include "mlrepo/util/fs.hpp"
#include "mlrepo/pipeline/run.hpp"
#include "mlrepo/report/pipeline.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/workspace.hpp"

#include <ctime>
#include <iostream>
#include <spdlog/spdlog.h>

namespace mlrepo::cli {
namespace {

struct PipelineListOptions {
  bool json = false;
  bool changed = false;
  changes::SelectionOptions selection;
  int count = 3;
};

struct PipelineRunCliOptions {
  pipeline::RunOptions core;
  std::vector<std::string> params; // NAME=VALUE
  bool json = false;
};

struct PipelineGraphOptions {
  std::string name;
  std::string format = "mermaid";
};

// `mlrepo pipeline list`.
void register_pipeline_list(CLI::App* pipeline, const GlobalOptions& global, Tools& tools, Action& action) {
  auto opts = std::make_shared<PipelineListOptions>();
  auto* cmd = pipeline->add_subcommand("list", "Every pipeline: its steps in order with their projects and images, "
                                               "schedule and next runs");
  cmd->footer("Steps are listed in the order they can run (each after the steps it reads from or\n"
              "runs after). With --changed, only pipelines with a step whose project changed, those\n"
              "steps marked: the pipelines a pull request touches.\n"
              "Examples:\n  mlrepo pipeline list\n  mlrepo pipeline list --json\n"
              "  mlrepo pipeline list --changed --base origin/main");
  cmd->add_flag("--json", opts->json, "Print JSON: {\"pipelines\":[...]}");
  cmd->add_flag("--changed", opts->changed, "Only pipelines with a step whose project `mlrepo changed` lists");
  add_selection_options(*cmd, opts->selection);
  cmd->add_option("-n,--count", opts->count, "How many next runs to show per pipeline")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  cmd->callback([&global, opts, &tools, &action] {
    action = [&global, opts, &tools] {
      auto repo = open_repository(global);
      auto view = open_view(repo, std::nullopt);
      std::optional<ChangesResult> changes;
      if (opts->changed)
        changes = find_changes(repo, opts->selection, tools.run());
      auto now = static_cast<util::UnixSeconds>(std::time(nullptr));
      auto pipelines = pipeline::list_pipelines(view, now, opts->count, changes ? &*changes : nullptr);
      if (opts->json) {
        std::cout << report::pipeline_list_json(pipelines, opts->changed);
        return 0;
      }
      if (view.config.pipelines.empty())
        spdlog::info("no pipelines: add a 'pipelines:' section to {} (docs/pipelines.md)", view.config.file);
      else if (pipelines.empty())
        spdlog::info("no pipeline has a step whose project changed");
      std::cout << report::pipeline_list_text(pipelines, opts->changed);
      return 0;
    };
  });
}

// `mlrepo pipeline graph`.
void register_pipeline_graph(CLI::App* pipeline, const GlobalOptions& global, Tools&, Action& action) {
  auto opts = std::make_shared<PipelineGraphOptions>();
  auto* cmd = pipeline->add_subcommand("graph", "A pipeline's steps and their edges (artifacts and after:)");
  cmd->footer("Arrows point the way data flows, from the step that writes an artifact to the step\n"
              "that reads it; dashed arrows are `after:` orders without an artifact. Mermaid renders\n"
              "in GitHub Markdown (```mermaid); dot through Graphviz.\n"
              "Examples:\n  mlrepo pipeline graph churn-nightly\n"
              "  mlrepo pipeline graph churn-nightly --format mermaid\n"
              "  mlrepo pipeline graph churn-nightly --format dot | dot -Tsvg > churn.svg");
  cmd->add_option("NAME", opts->name, "The pipeline")->required();
  cmd->add_option("--format", opts->format, "mermaid, dot or json (default: mermaid)")
      ->check(CLI::IsMember({"mermaid", "dot", "json"}));
  cmd->callback([&global, opts, &action] {
    action = [&global, opts] {
      auto repo = open_repository(global);
      auto view = open_view(repo, std::nullopt);
      auto plan = pipeline::make_plan(pipeline::find_pipeline(view.config, opts->name), view);
      if (opts->format == "json")
        std::cout << report::pipeline_graph_json(plan);
      else if (opts->format == "dot")
        std::cout << report::pipeline_graph_dot(plan);
      else
        std::cout << report::pipeline_graph_mermaid(plan);
      return 0;
    };
  });
}

// `mlrepo pipeline run`.
void register_pipeline_run(CLI::App* pipeline, const GlobalOptions& global, Tools& tools, Action& action) {
  auto opts = std::make_shared<PipelineRunCliOptions>();
  auto* cmd = pipeline->add_subcommand("run", "Run a pipeline's steps in the local engine, each as the cluster runs it, "
                                              "with a step cache");
  cmd->footer(
      "Each step is a fresh container of its project's image (built from the current content if\n"
      "needed, or with --pull the registry's by digest), run as `mlrepo job run` runs a job: env,\n"
      "secrets read from the environment variables named like them, resources, its timeout per\n"
      "attempt, retries. Dependencies first, independent steps side by side (-j). An output X is\n"
      "/mlrepo/outputs/X in the step's container; an input Y is /mlrepo/inputs/Y, read-only.\n"
      "A step whose image, command, args, env, secret names, params and input contents match an\n"
      "earlier successful run on this machine is `cached`: not run, its outputs reused. After a\n"
      "step fails its last attempt no new step starts; its dependents are blocked.\n"
      "Exit 0 when every step succeeded or was cached, 1 when one failed, 130 on Ctrl-C (every\n"
      "container stopped). The step table goes to stdout; the steps' own output to stderr.\n"
      "Examples:\n  mlrepo pipeline run churn-nightly\n"
      "  mlrepo pipeline run churn-nightly --param day=2026-03-01\n"
      "  mlrepo pipeline run churn-nightly --from train      # train and what follows it, again\n"
      "  mlrepo pipeline run churn-nightly --only evaluate   # one step, its inputs from the cache\n"
      "  mlrepo pipeline run churn-nightly --pull --json     # as scheduled CI runs it");
  cmd->add_option("NAME", opts->core.name, "The pipeline")->required();
  cmd->add_option("--param", opts->params, "NAME=VALUE over a params: default (repeatable)")->type_name("NAME=VALUE");
  cmd->add_flag("--pull", opts->core.pull, "Run the registry's images for this content, by digest; build nothing");
  cmd->add_option("-j,--jobs", opts->core.jobs, "Steps side by side")->check(CLI::Range(1, 64))->capture_default_str();
  cmd->add_option("--from", opts->core.from, "Run this step and everything downstream of it; the rest from the cache")
      ->type_name("STEP");
  cmd->add_option("--only", opts->core.only, "Run only this step (repeatable); its inputs from the cache")
      ->type_name("STEP");
  cmd->add_flag("--no-cache", opts->core.no_cache, "Run every step, cached or not (the new outputs replace the cached)");
  cmd->add_flag("--json", opts->json, "Print the result as JSON");
  cmd->callback([&global, opts, &tools, &action] {
    action = [&global, opts, &tools] {
      auto repo = open_repository(global);
      auto& c = opts->core;
      c.cwd = command_cwd(global);
      for (const auto& p : opts->params) {
        auto eq = p.find('=');
        if (eq == std::string::npos || eq == 0)
          throw UsageError("--param '" + p + "' is not NAME=VALUE", "e.g. --param day=2026-03-01");
        c.params[p.substr(0, eq)] = p.substr(eq + 1);
      }
      auto status = tools.build_status(global.quiet, !global.verbose);
      auto result = pipeline::run_pipeline(repo, c, *status, tools);
      std::cout << (opts->json ? report::pipeline_run_json(result) : report::pipeline_run_text(result));
      if (auto summary = tools.run().step_summary())
        util::append_file(*summary, report::pipeline_run_markdown(result) + "\n");
      if (result.interrupted)
        return static_cast<int>(ExitCode::Interrupted);
      return result.failed() ? 1 : 0;
    };
  });
}

// What `pipeline render` and `pipeline deploy` both choose.
void add_pipeline_choice(CLI::App& cmd, deploy::PipelineRenderOptions& opts, const std::string& all_help) {
  cmd.add_option("NAME", opts.names, "Pipeline names");
  auto* all = cmd.add_flag("--all", opts.all, all_help);
  cmd.add_flag("--changed", opts.changed,
               "Only the pipelines (of those named, or all) with a step whose project `mlrepo changed` lists, or "
               "whose own spec changed")
      ->excludes(all);
  add_selection_options(cmd, opts.selection);
  for (const char* name : {"--uncommitted", "--no-uncommitted"})
    cmd.get_option(name)->group(""); // rendered files pin images of commits
  cmd.add_option("--env", opts.env,
                 "Merge in one of kubernetes.environments (namespace, env, resources, schedule, suspend)")
      ->type_name("ENV");
}

// `mlrepo pipeline render`.
void register_pipeline_render(CLI::App* pipeline, const GlobalOptions& global, Tools& tools, Action& action) {
  auto opts = std::make_shared<deploy::PipelineRenderOptions>();
  auto* cmd = pipeline->add_subcommand("render", "Write each pipeline as an Argo WorkflowTemplate (and CronWorkflow), "
                                                 "every image pinned by digest");
  cmd->footer(
      "Reads the committed pipelines at HEAD and writes DIR/<name>/workflowtemplate.yaml (one DAG\n"
      "task per step, its artifacts at the paths `pipeline run` mounts), cronworkflow.yaml when\n"
      "the pipeline has a schedule, and kustomization.yaml, plus overlays/<env>/ for each of\n"
      "kubernetes.environments (default DIR: kubernetes.pipelines_dir, else deploy/argo). Each\n"
      "step's image is the digest the registry holds for its project at HEAD: push first\n"
      "(CI, or 'mlrepo build --push PROJECT'). Outputs go to the cluster's default artifact\n"
      "repository (docs/pipelines.md says how to configure one).\n"
      "Examples:\n"
      "  mlrepo pipeline render --all                    # deploy/argo/<name>/...\n"
      "  mlrepo pipeline render churn-nightly -o - | kubectl apply -f -\n"
      "  argo submit --from workflowtemplate/churn-nightly -p day=2026-03-01\n"
      "  mlrepo pipeline render --all --check             # in CI: are the files current?");
  add_pipeline_choice(*cmd, *opts, "Render every pipeline (and remove obsolete files)");
  cmd->add_option("-o,--output", opts->out_dir, "Directory to write to, or - for one YAML stream on stdout")
      ->type_name("DIR");
  cmd->add_flag("--check", opts->check, "Write nothing; exit 1 when the files on disk differ");
  cmd->callback([&global, opts, &tools, &action] {
    action = [&global, opts, &tools] {
      auto repo = open_repository(global);
      opts->cwd = command_cwd(global);
      opts->client.on_retry = [](const std::string& what) { spdlog::warn("registry: {}", what); };
      auto out = deploy::run_pipeline_render(repo, *opts, tools);
      for (const auto& p : out.pinned)
        for (const auto& [project, ref] : p.images)
          spdlog::info("{}: {}: {}", p.pipeline, project, ref);
      if (out.pinned.empty())
        spdlog::info("no pipelines to render: add a 'pipelines:' section to mlrepo.yaml (docs/pipelines.md)");
      if (opts->out_dir && *opts->out_dir == "-") {
        std::cout << out.stream;
        return 0;
      }
      return report_sync(out.sync, opts->check, out.files.size(), "pipeline file", "mlrepo pipeline render");
    };
  });
}

// `mlrepo pipeline deploy`.
void register_pipeline_deploy(CLI::App* pipeline, const GlobalOptions& global, Tools& tools, Action& action) {
  auto opts = std::make_shared<deploy::PipelineDeployOptions>();
  auto* cmd = pipeline->add_subcommand("deploy", "Render and kubectl apply each pipeline's WorkflowTemplate and "
                                                 "CronWorkflow");
  cmd->footer("Renders as 'mlrepo pipeline render -o -' does, then per pipeline pipes its objects to\n"
              "'kubectl apply --server-side --field-manager=mlrepo -f -'. kubectl finds the cluster as it\n"
              "always does (KUBECONFIG); mlrepo never reads credentials. Argo Workflows must be installed\n"
              "in the cluster (its CRDs and controller). The job summary lists each object and image.\n"
              "Examples:\n"
              "  mlrepo pipeline deploy --all --env prod\n"
              "  mlrepo pipeline deploy churn-nightly --dry-run");
  add_pipeline_choice(*cmd, opts->render, "Deploy every pipeline");
  cmd->add_option("--kubectl", opts->programs["kubectl"], "The kubectl to run (default: kubectl on PATH)")->type_name("PATH");
  cmd->add_flag("--dry-run", opts->dry_run, "Render and say what would be applied; run nothing");
  cmd->callback([&global, opts, &tools, &action] {
    action = [&global, opts, &tools] {
      auto repo = open_repository(global);
      opts->render.cwd = command_cwd(global);
      opts->render.client.on_retry = [](const std::string& what) { spdlog::warn("registry: {}", what); };
      auto out = deploy::run_pipeline_deploy(repo, *opts, tools);
      std::cout << report::pipeline_deploy_text(out);
      if (auto summary = tools.run().step_summary())
        util::append_file(*summary, report::pipeline_deploy_markdown(out) + "\n");
      return 0;
    };
  });
}

} // namespace

void register_pipeline(CLI::App& app, const GlobalOptions& global, Tools& tools, Action& action) {
  auto* pipeline = app.add_subcommand(
      "pipeline", "Pipelines whose steps are projects: list, graph, run locally with a step cache, render for Argo Workflows, deploy");
  pipeline->require_subcommand(1);
  pipeline->footer("A pipeline is an entry of the workspace mlrepo.yaml's `pipelines:`: steps, each a\n"
                   "project's image with its command, inputs and outputs, params, a schedule (docs/pipelines.md).");
  register_pipeline_list(pipeline, global, tools, action);
  register_pipeline_graph(pipeline, global, tools, action);
  register_pipeline_run(pipeline, global, tools, action);
  register_pipeline_render(pipeline, global, tools, action);
  register_pipeline_deploy(pipeline, global, tools, action);
}

} // namespace mlrepo::cli
