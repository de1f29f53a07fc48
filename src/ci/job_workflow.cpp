// The workflow that runs a project's job: on its schedule and by hand, with
// the image CI pushed for the default branch's current content, by digest.
#include "job_workflow.hpp"

#include "mlrepo/ci/workflow.hpp"
#include "mlrepo/util/cron.hpp"
#include "mlrepo/util/units.hpp"

namespace mlrepo::ci {

std::string job_workflow_path(const std::string& name) {
  return std::string(kWorkflowDir) + "/mlrepo-job-" + name + ".yml";
}

GeneratedFile job_workflow(const project::Project& p, const config::WorkspaceConfig& ws,
                           const GenerateOptions& opt) {
  const config::JobSpec& job = *p.config->job;
  refuse_unsafe(p.path);
  const bool pull = !ws.registry.empty();
  const std::string config_file = p.path + "/mlrepo.yaml";
  Yaml y;
  y.line(0, "name: " + yaml_quote("mlrepo job: " + p.name));
  y.blank();
  y.line(0, "on:");
  if (!job.schedule.empty()) {
    y.line(1, "schedule:");
    // GitHub reads `timezone` (an IANA name) beside each cron; without it, UTC.
    // In a daylight-saving gap a run moves to the next valid time (02:30 ->
    // 03:00); `mlrepo job list` shows the same next runs.
    y.line(2, "# In " + job.timezone + " time (GitHub's per-cron `timezone`); `mlrepo job list` shows the next runs.");
    for (const auto& s : job.schedule) {
      y.line(2, "- cron: " + yaml_quote(util::parse_cron(s.value).portable()));
      if (job.timezone != "UTC")
        y.line(3, "timezone: " + yaml_quote(job.timezone));
    }
  }
  y.line(1, "workflow_dispatch:");
  y.line(2, "inputs:");
  dispatch_input(y, 3, "args",
                 "Arguments replacing job.args (split like a shell: quotes, no expansion); empty: job.args");
  y.blank();
  scheduled_preamble(y, job.concurrency, "mlrepo-job-" + p.name);
  // job.runs_on's labels (a self-hosted GPU runner, say), else the workspace's runner.
  JobHeader run_job{.id = "run", .name = yaml_quote("run the " + p.name + " job")};
  run_job.runs_on = runs_on_labels(job.runner_labels, "job.runs_on");
  // job.timeout covers every attempt.
  run_job.timeout_minutes = run_timeout_minutes(job.timeout_seconds, job, ws, "job.timeout");
  if (pull && on_ghcr(ws))
    run_job.permissions = {"contents: read", "packages: read"};
  job_header(y, ws, run_job);
  y.line(2, "steps:");
  y.line(3, "- name: Run on the default branch only");
  y.line(4, "if: github.ref != " + yaml_quote("refs/heads/" + opt.default_branch));
  y.line(4, "env:");
  y.line(5, "REF: ${{ github.ref_name }}");
  y.line(4, "run: |");
  y.line(5, "echo \"::error title=mlrepo job::a job runs the default branch's image; run the workflow on " +
                opt.default_branch + ", not on $REF\"");
  y.line(5, "exit 1");
  checkout_step(y, ws, false);
  install_step(y, ws);
  if (pull)
    login_step(y, ws, false);
  y.line(3, pull ? "- name: Run the job with the default branch's image, by digest (nothing is built)"
                 : "- name: Run the job, building its image on the runner (no registry)");
  y.line(4, "env:");
  // The input reaches the command only through the environment, never the script.
  y.line(5, "JOB_ARGS: ${{ inputs.args }}");
  for (const auto& [variable, secret] : job.secrets)
    y.line(5, secret + ": ${{ secrets." + secret + " }}");
  y.line(4, "run: mlrepo job run " + yaml_quote(p.name) + (pull ? " --pull" : "") + " --args \"$JOB_ARGS\"");

  if (!ws.ci.slack_webhook_secret.empty()) {
    std::string schedule;
    for (const auto& s : job.schedule)
      schedule += (schedule.empty() ? "" : ", ") + s.value;
    schedule = schedule.empty() ? "on demand" : schedule + " (" + job.timezone + ")";
    slack_step(y, ws, "- name: Tell Slack that the job failed", "failure()",
               {{"PROJECT", yaml_quote(p.name)},
                {"SCHEDULE", yaml_quote(schedule)},
                {"EVENT", "${{ github.event_name }}"},
                {"REPOSITORY", "${{ github.repository }}"},
                {"RUN_URL", "${{ github.server_url }}/${{ github.repository }}/actions/runs/${{ github.run_id }}"}},
               "text=$(printf 'job %s failed (%s run; schedule %s) in %s\\n%s' \\\n"
               "  \"$PROJECT\" \"$EVENT\" \"$SCHEDULE\" \"$REPOSITORY\" \"$RUN_URL\")");
  }
  std::string what = "Runs " + p.name + "'s job (job: in " + config_file + ")";
  what += job.schedule.empty() ? " by hand (workflow_dispatch)" : " on its schedule and by hand (workflow_dispatch)";
  what += pull ? ", with the image CI pushed for the default branch's current content, by digest."
               : "; the workspace has no registry, so the image is built on the runner.";
  return {job_workflow_path(p.name), header(what) + "\n" + y.str()};
}

} // namespace mlrepo::ci
