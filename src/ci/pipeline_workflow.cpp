// The workflow that runs a pipeline: on its schedule and by hand, the
// default branch's images by digest, the step table in the job summary and,
// on failure, in the notification.
#include "pipeline_workflow.hpp"

#include "mlrepo/util/cron.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/units.hpp"

#include <regex>
#include <set>

namespace mlrepo::ci {
namespace {

// A workflow_dispatch input's id: GitHub wants a letter or '_' first.
bool input_name(const std::string& s) {
  static const std::regex pattern("[A-Za-z_][A-Za-z0-9_-]*");
  return std::regex_match(s, pattern);
}

// The environment variable a param's input reaches the script through.
std::string param_variable(const std::string& name) {
  std::string out = "PARAM_";
  for (char c : name)
    out += c == '-' ? '_' : c;
  return out;
}

// Every secret name a step reads, once.
std::set<std::string> secret_names(const pipeline::Plan& plan) {
  std::set<std::string> out;
  for (const auto& step : plan.steps)
    for (const auto& [variable, secret] : step.run.secrets)
      out.insert(secret);
  return out;
}

} // namespace

std::string pipeline_workflow_path(const std::string& name) {
  return std::string(kWorkflowDir) + "/mlrepo-pipeline-" + name + ".yml";
}

bool has_pipeline_workflow(const pipeline::Plan& plan, const config::WorkspaceConfig& ws) {
  return !plan.schedule.schedule.empty() &&
         config::pipeline_target(plan.schedule, ws) == config::JobTarget::GithubActions;
}

void refuse_unrunnable_pipelines(const std::vector<pipeline::Plan>& plans, const config::WorkspaceConfig& ws) {
  std::string problems;
  size_t count = 0;
  for (const auto& plan : plans) {
    if (!has_pipeline_workflow(plan, ws))
      continue;
    std::string at = plan.file + ": pipelines." + plan.name;
    for (const auto& [name, value] : plan.params)
      if (!input_name(name)) {
        problems += "\n  " + at + ": the param '" + name +
                    "' cannot be a workflow_dispatch input (GitHub wants a letter or '_' first)";
        ++count;
      }
    auto labels = config::runner_labels(plan.schedule, ws);
    if (!config::github_hosted(labels))
      continue;
    for (const auto& step : plan.steps)
      if (step.run.gpu > 0) {
        problems += "\n  " + at + ".steps." + step.name + " asks for " + std::to_string(step.run.gpu) +
                    " GPU, and the pipeline would run in GitHub Actions on a hosted runner, which has none";
        ++count;
      }
    if (plan.timeout_seconds > kHostedJobMinutes * 60) {
      problems += "\n  " + at + " has timeout " + util::format_duration(plan.timeout_seconds) + ", above the " +
                  std::to_string(kHostedJobMinutes) + " minutes GitHub's hosted runner allows a job";
      ++count;
    }
  }
  if (count)
    throw UsageError(std::to_string(count) + " problem" + (count == 1 ? "" : "s") +
                         " with pipelines scheduled in GitHub Actions:" + problems,
                     "run the pipeline on your own runner ('runs_on: {github-actions: [self-hosted, gpu]}') or on the "
                     "cluster ('runs_on: kubernetes', Argo Workflows); rename such params; or shorten the timeout");
}

GeneratedFile pipeline_workflow(const pipeline::Plan& plan, const config::WorkspaceConfig& ws,
                                const GenerateOptions& opt) {
  const auto& when = plan.schedule;
  const bool pull = !ws.registry.empty();
  const std::string file = pipeline_workflow_path(plan.name);
  Yaml y;
  y.line(0, "name: " + yaml_quote("mlrepo pipeline: " + plan.name));
  y.blank();
  y.line(0, "on:");
  y.line(1, "schedule:");
  y.line(2, "# In " + when.timezone + " time (GitHub's per-cron `timezone`); `mlrepo pipeline list` shows the next runs.");
  for (const auto& s : when.schedule) {
    y.line(2, "- cron: " + yaml_quote(util::parse_cron(s.value).portable()));
    if (when.timezone != "UTC")
      y.line(3, "timezone: " + yaml_quote(when.timezone));
  }
  y.line(1, "workflow_dispatch:");
  if (!plan.params.empty()) {
    y.line(2, "inputs:");
    for (const auto& [name, value] : plan.params)
      dispatch_input(y, 3, name, "params." + name + " (empty: the default, " + value + ")");
  }
  y.blank();
  scheduled_preamble(y, when.concurrency, "mlrepo-pipeline-" + plan.name);
  JobHeader run_job{.id = "run", .name = yaml_quote("run the " + plan.name + " pipeline")};
  run_job.runs_on = runs_on_labels(when.runner_labels, "runs_on");
  // The whole run's timeout.
  run_job.timeout_minutes = run_timeout_minutes(plan.timeout_seconds, when, ws, "timeout");
  if (pull && on_ghcr(ws))
    run_job.permissions = {"contents: read", "packages: read"};
  job_header(y, ws, run_job);
  y.line(2, "steps:");
  y.line(3, "- name: Run on the default branch only");
  y.line(4, "if: github.ref != " + yaml_quote("refs/heads/" + opt.default_branch));
  y.line(4, "env:");
  y.line(5, "REF: ${{ github.ref_name }}");
  y.line(4, "run: |");
  y.line(5, "echo \"::error title=mlrepo pipeline::a pipeline runs the default branch's images; run the workflow on " +
                opt.default_branch + ", not on $REF\"");
  y.line(5, "exit 1");
  checkout_step(y, ws, false);
  install_step(y, ws);
  if (pull)
    login_step(y, ws, false);
  y.line(3, pull ? "- name: Run the pipeline with the default branch's images, by digest (nothing is built)"
                 : "- name: Run the pipeline, building its images on the runner (no registry)");
  y.line(4, "env:");
  // Inputs reach the command only through the environment, never the script.
  for (const auto& [name, value] : plan.params)
    y.line(5, param_variable(name) + ": ${{ inputs." + name + " }}");
  for (const auto& secret : secret_names(plan))
    y.line(5, secret + ": ${{ secrets." + secret + " }}");
  y.line(5, "STEPS: ${{ runner.temp }}/mlrepo-pipeline-steps.txt");
  y.line(4, "run: |");
  y.line(5, "params=()");
  for (const auto& [name, value] : plan.params)
    y.line(5, "if [ -n \"$" + param_variable(name) + "\" ]; then params+=(--param \"" + name + "=$" +
                  param_variable(name) + "\"); fi");
  // The table is kept for the notification; pipeline run writes it to the
  // job summary itself.
  y.line(5, "status=0");
  y.line(5, "mlrepo pipeline run " + yaml_quote(plan.name) + (pull ? " --pull" : "") +
                " \"${params[@]}\" > \"$STEPS\" || status=$?");
  y.line(5, "cat \"$STEPS\"");
  y.line(5, "exit \"$status\"");
  if (!ws.ci.slack_webhook_secret.empty()) {
    std::string schedule;
    for (const auto& s : when.schedule)
      schedule += (schedule.empty() ? "" : ", ") + s.value;
    schedule += " (" + when.timezone + ")";
    slack_step(y, ws, "- name: Tell Slack that the pipeline failed, with its step table", "failure()",
               {{"PIPELINE", yaml_quote(plan.name)},
                {"SCHEDULE", yaml_quote(schedule)},
                {"EVENT", "${{ github.event_name }}"},
                {"REPOSITORY", "${{ github.repository }}"},
                {"RUN_URL", "${{ github.server_url }}/${{ github.repository }}/actions/runs/${{ github.run_id }}"},
                {"STEPS", "${{ runner.temp }}/mlrepo-pipeline-steps.txt"}},
               "table=$(cat \"$STEPS\" 2>/dev/null || echo 'no step table: the pipeline did not start')\n"
               "text=$(printf 'pipeline %s failed (%s run; schedule %s) in %s\\n%s\\n%s' \\\n"
               "  \"$PIPELINE\" \"$EVENT\" \"$SCHEDULE\" \"$REPOSITORY\" \"$RUN_URL\" \"$table\")");
  }
  std::string steps;
  for (const auto& step : plan.steps)
    steps += (steps.empty() ? "" : ", ") + step.name;
  std::string what = "Runs the pipeline " + plan.name + " (pipelines: in " + plan.file + "; steps " + steps +
                     ") on its schedule and by hand (workflow_dispatch)" +
                     (pull ? ", each step with the image CI pushed for the default branch's current content, by digest."
                           : "; the workspace has no registry, so the images are built on the runner.");
  return {file, header(what) + "\n" + y.str()};
}

} // namespace mlrepo::ci
