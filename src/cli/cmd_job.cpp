#include "app.hpp"
#include "common.hpp"
#include "mlrepo/choose.hpp"
#include "mlrepo/tools.hpp"

#include "mlrepo/deploy/deploy.hpp"
#include "mlrepo/job/local.hpp"
#include "mlrepo/report/jobs.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"
#include "mlrepo/util/log.hpp"
#include "mlrepo/util/process.hpp"
#include "mlrepo/util/text.hpp"
#include "mlrepo/workspace.hpp"

#include <ctime>
#include <iostream>
#include <spdlog/spdlog.h>

namespace mlrepo::cli {

struct JobListOptions {
  bool json = false;
  std::optional<std::string> after;
  int count = 3;
};

struct JobRunCliOptions {
  job::RunOptions core;
  std::vector<std::string> args;
  std::optional<std::string> args_string;
};

namespace {

// What `job render` and `job deploy` both choose: the projects (as build
// chooses them; committed work only), an environment and a release.
void add_render_choice(CLI::App& cmd, deploy::RenderOptions& opts, const std::string& verb,
                       const std::string& all_help) {
  cmd.add_option("PROJECT", opts.projects, "Project names or paths (default: the project you are in)");
  auto* changed = cmd.add_flag("--changed", opts.changed, verb + " the projects `mlrepo changed` lists");
  add_selection_options(cmd, opts.selection);
  for (const char* name : {"--uncommitted", "--no-uncommitted"})
    cmd.get_option(name)->group(""); // manifests pin images of commits
  cmd.add_flag("--all", opts.all, all_help)->excludes(changed);
  cmd.add_option("--env", opts.env,
                 "Merge in one environment: kubernetes.environments (namespace, env, resources, schedule, "
                 "suspend) or ecs.environments (cluster, region, network, env, secrets)")
      ->type_name("ENV");
  cmd.add_option("--target", opts.target,
                 "kubernetes or ecs (default: the one mlrepo.yaml configures; Kubernetes when neither)")
      ->type_name("TARGET")
      ->check(CLI::IsMember({"kubernetes", "ecs"}));
  cmd.add_option("--release", opts.release, "Pin the image of the release tag <name>/v<VERSION>")
      ->type_name("VERSION");
}

// `mlrepo job list`.
void register_job_list(CLI::App* job, const GlobalOptions& global, Tools& tools, Action& action) {
  auto list_opts = std::make_shared<JobListOptions>();
  auto* list = job->add_subcommand("list", "Every project with a job: schedule, next runs, resources, timeout");
  list->footer("Next runs are computed in each job's time zone and shown in UTC beside it. A wall-clock\n"
               "time that daylight saving skips runs when the gap ends (02:30 -> 03:00, as GitHub's\n"
               "scheduler does); one it repeats runs once, the first time.\n"
               "Examples:\n  mlrepo job list\n  mlrepo job list --json\n"
               "  mlrepo job list --after 2027-03-27T00:00Z   # what happens across the DST change");
  list->add_flag("--json", list_opts->json, "Print JSON: {\"jobs\":[...]}");
  list->add_option("--after", list_opts->after, "List runs after this time instead of now (ISO 8601; UTC unless "
                                                "it has an offset)")
      ->type_name("TIME");
  list->add_option("-n,--count", list_opts->count, "How many next runs to show per job")->check(CLI::Range(1, 100))
      ->capture_default_str();
  list->callback([&global, list_opts, &tools, &action] {
    action = [&global, list_opts, &tools] {
      auto repo = open_repository(global);
      auto view = open_view(repo, std::nullopt);
      util::UnixSeconds now = static_cast<util::UnixSeconds>(std::time(nullptr));
      if (list_opts->after) {
        auto t = util::parse_iso8601(*list_opts->after);
        if (!t)
          throw UsageError("--after '" + *list_opts->after + "' is not a time",
                           "write e.g. 2027-03-27, 2027-03-27T01:30 (UTC) or 2027-03-27T01:30+01:00");
        now = *t;
      }
      auto jobs = job::list_jobs(view, now, list_opts->count);
      if (list_opts->json) {
        std::cout << report::job_list_json(jobs);
        return 0;
      }
      if (jobs.empty())
        spdlog::info("no project has a job; add a 'job:' section to a project's mlrepo.yaml (docs/jobs.md)");
      std::cout << report::job_list_text(jobs);
      return 0;
    };
  });
}

// `mlrepo job run`.
void register_job_run(CLI::App* job, const GlobalOptions& global, Tools& tools, Action& action) {
  auto run_opts = std::make_shared<JobRunCliOptions>();
  auto* run = job->add_subcommand("run", "Run a project's job in the local engine exactly as it is specified");
  run->footer(
      "Builds the image of the current content if needed (as `mlrepo run`), or with --pull runs the\n"
      "registry's image for it by digest (as scheduled CI does). Each secret in job.secrets is read\n"
      "from the local environment variable named like the secret; a missing one stops the run before\n"
      "anything starts. Resources become --cpus/--memory/--gpus; the timeout covers all attempts;\n"
      "each retry is a fresh container. Exit 0 when an attempt succeeds, 1 when the last one fails or\n"
      "the job times out (its exit code is reported), 130 on Ctrl-C (the container is stopped).\n"
      "Examples:\n  CHURN_DB_PASSWORD=... mlrepo job run churn-model\n"
      "  mlrepo job run churn-model -- --epochs 1      # ARGS replace job.args\n"
      "  mlrepo job run churn-model --pull             # the pushed image, as CI runs it\n"
      "  mlrepo job run train --no-gpu -- --epochs 1   # a GPU job's smoke test on a laptop");
  run->add_option("PROJECT", run_opts->core.project, "Project name or path (default: the project you are in)");
  run->add_option("ARGS", run_opts->args, "Arguments replacing job.args")->expected(0, -1);
  run->add_flag("--pull", run_opts->core.pull, "Run the registry's image for this content, by digest; build nothing");
  run->add_flag("--no-gpu", run_opts->core.no_gpu,
                "Drop the job's GPU request (a smoke test on a machine without one); said on stderr");
  run->add_option("--args", run_opts->args_string,
                  "Arguments replacing job.args, as one string split like a shell would (quotes, no expansion); "
                  "empty: job.args")
      ->type_name("STRING");
  run->positionals_at_end(false);
  run->callback([&global, run_opts, &tools, &action] {
    action = [&global, run_opts, &tools] {
      const auto& env = tools.run();
      auto repo = open_repository(global);
      auto& c = run_opts->core;
      c.cwd = command_cwd(global);
      std::vector<std::string> args = run_opts->args;
      if (global.saw_double_dash)
        args.insert(args.end(), global.passthrough.begin(), global.passthrough.end());
      if (run_opts->args_string && !args.empty())
        throw UsageError("give job arguments either after '--' or with --args, not both");
      if (run_opts->args_string && !run_opts->args_string->empty()) {
        try {
          args = util::split_words(*run_opts->args_string);
        } catch (const std::invalid_argument& e) {
          throw UsageError(std::string("--args: ") + e.what(), "close the quote");
        }
      }
      if (!args.empty() || global.saw_double_dash)
        c.args = args;
      if (c.project.empty()) {
        View view = open_view(repo, std::nullopt, ViewOptions{.skip_invalid = true});
        ProjectChoice where;
        where.cwd = c.cwd;
        auto here = choose_projects(repo, view, where);
        if (!here)
          throw UsageError("which project? 'mlrepo job run PROJECT [-- ARGS...]'",
                           "name one, or run it inside a project directory ('mlrepo job list' shows the jobs)");
        c.project = util::join_path(repo.workdir(), view.graph.projects()[here->at(0)].path);
      }
      // A stale image rebuilds with the progress `build` shows; a current one says nothing.
      auto status = tools.build_status(global.quiet, !global.verbose);
      auto result = job::run_job(repo, c, *status, tools);
      std::string line = report::job_run_line(result);
      if (result.ok())
        spdlog::info("==> {}", line);
      else
        spdlog::error("{}", line);
      if (auto summary = env.step_summary())
        util::append_file(*summary, report::job_run_markdown(result));
      if (result.interrupted)
        return static_cast<int>(ExitCode::Interrupted);
      return result.ok() ? 0 : 1;
    };
  });
}

// `mlrepo job render`.
void register_job_render(CLI::App* job, const GlobalOptions& global, Tools& tools, Action& action) {
  auto render_opts = std::make_shared<deploy::RenderOptions>();
  auto* render = job->add_subcommand(
      "render", "Write each job for Kubernetes (CronJob or Job) or AWS ECS (task definition, schedules), pinned by digest");
  render->footer(
      "Kubernetes (--target kubernetes, the default when mlrepo.yaml has no ecs:):\n"
      "Per project with a job: a CronJob per cron of its schedule (else a Job template with\n"
      "generateName, so each 'kubectl create' is a new run) and a kustomization.yaml, under\n"
      "DIR/<name>/ (default: kubernetes.dir in mlrepo.yaml, else deploy/k8s). The image is\n"
      "repository@sha256:..., read from the registry for the project's content tag at HEAD\n"
      "(or at the release tag with --release). Secrets become secretKeyRef into the Secret\n"
      "kubernetes.secret names (never a value); timeout, retries, resources (GPU as\n"
      "kubernetes.gpu_resource), concurrency and time zone come from the job. Files mlrepo did\n"
      "not write are never touched; --check exits 1 when the files on disk differ.\n"
      "AWS ECS (--target ecs, the default when mlrepo.yaml has only ecs:): under DIR/<name>/\n"
      "(default ecs.dir, else deploy/ecs) the inputs of 'aws ... --cli-input-json':\n"
      "task-definition.json, schedule.json (and schedule-2.json, ... per cron, in the job's time\n"
      "zone) for a job scheduled on ECS (job.runs_on: ecs, or ecs.deploy), and with ecs.alert\n"
      "alert-rule.json and alert-targets.json. Secrets are valueFrom ARNs in ecs.secrets. What\n"
      "ECS cannot do is said: GPU on Fargate is refused; sizes round up to Fargate's; timeout,\n"
      "retries and concurrency: forbid are warnings (docs/ecs.md).\n"
      "Examples:\n"
      "  mlrepo job render --all                       # deploy/k8s/<name>/...\n"
      "  mlrepo job render --all --target ecs          # deploy/ecs/<name>/*.json\n"
      "  mlrepo job render --all --env prod -o deploy/prod\n"
      "  mlrepo job render churn-model -o - | kubectl create -f -\n"
      "  mlrepo job render --all --check                # in CI: are the manifests current?");
  add_render_choice(*render, *render_opts, "Render", "Render every project with a job (and remove obsolete manifests)");
  render->add_option("-o,--output", render_opts->out_dir, "Directory to write to, or - for one YAML stream on stdout")
      ->type_name("DIR");
  render->add_flag("--check", render_opts->check, "Write nothing; exit 1 when the files on disk differ");
  render->callback([&global, render_opts, &tools, &action] {
    action = [&global, render_opts, &tools] {
      auto repo = open_repository(global);
      render_opts->cwd = command_cwd(global);
      render_opts->client.on_retry = [](const std::string& what) { spdlog::warn("registry: {}", what); };
      auto out = deploy::run_render(repo, *render_opts, tools);
      for (const auto& [name, ref] : out.pinned)
        spdlog::info("{}: {}", name, ref);
      if (out.pinned.empty())
        spdlog::info("no project with a job to render");
      if (render_opts->out_dir && *render_opts->out_dir == "-") {
        std::cout << out.stream;
        return 0;
      }
      return report_sync(out.sync, render_opts->check, out.files.size(), "manifest file", "mlrepo job render");
    };
  });
}

// `mlrepo job deploy`.
void register_job_deploy(CLI::App* job, const GlobalOptions& global, Tools& tools, Action& action) {
  auto deploy_opts = std::make_shared<deploy::DeployOptions>();
  auto* dep = job->add_subcommand(
      "deploy", "Render and apply each job: kubectl apply its CronJobs, or put its ECS task and schedules with aws");
  dep->footer(
      "Renders as 'mlrepo job render -o -' does, then per project pipes its CronJobs to\n"
      "'kubectl apply --server-side --field-manager=mlrepo -f -'. kubectl finds the cluster as\n"
      "it always does (KUBECONFIG); mlrepo never reads credentials. A project without a schedule\n"
      "has nothing to apply: its Job runs on demand. The job summary lists each object and digest.\n"
      "With --target ecs, the aws CLI (credentials, profile, AWS_ENDPOINT_URL as you set them):\n"
      "each object is read back first and changed only when it differs (a new task definition\n"
      "revision, a schedule created or updated, the alert rule put); schedules mlrepo made for\n"
      "crons that are gone are deleted. A second deploy of the same spec changes nothing and\n"
      "prints 'unchanged'.\n"
      "Examples:\n"
      "  mlrepo job deploy --all --target ecs --env prod\n"
      "  mlrepo job deploy --changed --env prod        # CI on the default branch\n"
      "  mlrepo job deploy churn-model --release 1.2.0 --env prod\n"
      "  mlrepo job deploy --all --dry-run");
  add_render_choice(*dep, deploy_opts->render, "Deploy", "Deploy every project with a job");
  dep->add_option("--kubectl", deploy_opts->programs["kubectl"], "The kubectl to run (default: kubectl on PATH)")
      ->type_name("PATH");
  dep->add_option("--aws", deploy_opts->programs["aws"], "The aws CLI to run, for --target ecs (default: aws on PATH)")
      ->type_name("PATH");
  dep->add_flag("--dry-run", deploy_opts->dry_run, "Render and say what would be applied; run nothing");
  dep->callback([&global, deploy_opts, &tools, &action] {
    action = [&global, deploy_opts, &tools] {
      const auto& env = tools.run();
      auto repo = open_repository(global);
      deploy_opts->render.cwd = command_cwd(global);
      deploy_opts->render.client.on_retry = [](const std::string& what) { spdlog::warn("registry: {}", what); };
      auto out = deploy::run_deploy(repo, *deploy_opts, tools);
      std::cout << report::deploy_text(out);
      if (out.projects.empty())
        spdlog::info("no project with a job to deploy");
      if (auto summary = env.step_summary())
        util::append_file(*summary, report::deploy_markdown(out) + "\n");
      return 0;
    };
  });
}

} // namespace

void register_job(CLI::App& app, const GlobalOptions& global, Tools& tools, Action& action) {
  auto* job = app.add_subcommand(
      "job", "Run a project's image as a batch job: list, run locally, render for Kubernetes or ECS, deploy");
  job->require_subcommand(1);
  job->footer("A project's job is the `job:` section of its mlrepo.yaml: command, args, env, secrets,\n"
              "resources, timeout, retries, schedule, timezone, concurrency (docs/jobs.md).\n"
              "A job runs on its schedule in one place, job.runs_on: a workflow `mlrepo ci generate`\n"
              "writes (github-actions), a CronJob (kubernetes) or EventBridge Scheduler schedules of an\n"
              "ECS task (ecs) that `mlrepo job render` writes; by default the cluster when\n"
              "kubernetes.deploy is set, ECS when ecs.deploy is, else GitHub Actions (docs/jobs.md,\n"
              "docs/kubernetes.md, docs/ecs.md).");

  register_job_list(job, global, tools, action);
  register_job_run(job, global, tools, action);
  register_job_render(job, global, tools, action);
  register_job_deploy(job, global, tools, action);
}

} // namespace mlrepo::cli
