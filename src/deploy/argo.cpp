#include "mlrepo/deploy/argo.hpp"

#include "mlrepo/deploy/pod.hpp"
#include "mlrepo/generated/yaml.hpp"
#include "mlrepo/util/cron.hpp"

namespace mlrepo::deploy {
namespace {

using generated::Yaml;
using generated::yaml_quote;

std::string header(const pipeline::Plan& plan, const std::string& how) {
  return std::string(kPipelineMarker) + " Do not edit: your changes would be overwritten.\n"
         "# Regenerate with `mlrepo pipeline render`; from " + plan.file + " (pipelines." + plan.name + ").\n" + how;
}

void metadata(Yaml& y, const pipeline::Plan& plan, const config::WorkspaceConfig& ws,
              const config::KubernetesEnvironment* env) {
  y.line(0, "metadata:");
  y.line(1, "name: " + yaml_quote(plan.name));
  std::string ns = env && !env->namespace_name.empty() ? env->namespace_name : ws.kubernetes.namespace_name;
  if (!ns.empty())
    y.line(1, "namespace: " + yaml_quote(ns));
  pod::labels(y, 1, plan.name, ws, env);
}

// `{{params.NAME}}` becomes Argo's `{{workflow.parameters.NAME}}`: the value
// is chosen when a run is submitted (or the default), as --param does locally.
std::vector<std::pair<std::string, std::string>> argo_params(const pipeline::Plan& plan) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, value] : plan.params)
    out.emplace_back(name, "{{workflow.parameters." + name + "}}");
  return out;
}

std::string depends(const pipeline::Plan& plan, const pipeline::Step& step) {
  std::string out;
  for (size_t u : step.upstream)
    out += (out.empty() ? "" : " && ") + plan.steps[u].name;
  return out;
}

void dag(Yaml& y, const pipeline::Plan& plan) {
  y.line(2, "- name: " + yaml_quote(kEntrypoint));
  y.line(3, "dag:");
  y.line(4, "tasks:");
  for (const auto& step : plan.steps) {
    y.line(5, "- name: " + yaml_quote(step.name));
    y.line(6, "template: " + yaml_quote("step-" + step.name));
    if (!step.upstream.empty())
      y.line(6, "depends: " + yaml_quote(depends(plan, step)));
    if (step.inputs.empty())
      continue;
    y.line(6, "arguments:");
    y.line(7, "artifacts:");
    for (const auto& m : pipeline::mounts(step))
      if (m.input) {
        y.line(8, "- name: " + yaml_quote(m.artifact));
        y.line(9, "from: " + yaml_quote("{{tasks." + plan.steps[m.from_step].name + ".outputs.artifacts." +
                                        m.from_output + "}}"));
      }
  }
}

// One container template per step.
void step_template(Yaml& y, const pipeline::Plan& plan, const pipeline::Step& step, const config::WorkspaceConfig& ws,
                   const StepImage& step_image, const config::KubernetesEnvironment* env) {
  const PinnedImage& image = step_image.pinned;
  auto run = pipeline::with_params(step.run, argo_params(plan));
  auto all = pipeline::mounts(step);
  y.line(2, "- name: " + yaml_quote("step-" + step.name));
  // The pod's labels name the project whose image runs; its annotations say
  // which content, as a CronJob's do.
  y.line(3, "metadata:");
  pod::labels(y, 4, step.project_name, ws, env);
  auto annotations = pod::annotations(ws, env);
  annotations["mlrepo.dev/content-tag"] = image.content_tag;
  annotations["mlrepo.dev/project-path"] = step_image.project_path;
  y.line(4, "annotations:");
  for (const auto& [key, value] : annotations)
    y.line(5, yaml_quote(key) + ": " + yaml_quote(value));
  // Each attempt is a pod of its own: its deadline is the step's timeout,
  // as each local attempt's is.
  if (run.timeout_seconds > 0)
    y.line(3, "activeDeadlineSeconds: " + std::to_string(run.timeout_seconds));
  if (run.retries > 0) {
    // Always: a pod that failed to start or hit its deadline is retried
    // too, as a local attempt that timed out is.
    y.line(3, "retryStrategy:");
    y.line(4, "limit: " + std::to_string(run.retries));
    y.line(4, "retryPolicy: Always");
  }
  pod::gpu_placement(y, 3, pod::gpu_count(run, env), ws, env);
  auto artifacts = [&](const char* side, bool input) {
    bool any = false;
    for (const auto& m : all)
      any |= m.input == input;
    if (!any)
      return;
    y.line(3, std::string(side) + ":");
    y.line(4, "artifacts:");
    for (const auto& m : all)
      if (m.input == input) {
        y.line(5, "- name: " + yaml_quote(m.artifact));
        y.line(6, "path: " + yaml_quote(m.path));
      }
  };
  artifacts("inputs", true);
  artifacts("outputs", false);
  // Each output directory exists when the step starts, as it does locally:
  // an emptyDir mounted there (a path only in the image's layers is not
  // always saved).
  std::vector<std::pair<std::string, std::string>> volumes; // name, path
  for (const auto& m : all)
    if (!m.input)
      volumes.emplace_back("outputs-" + std::to_string(volumes.size()), m.path);
  if (!volumes.empty()) {
    y.line(3, "volumes:");
    for (const auto& [name, path] : volumes) {
      y.line(4, "- name: " + yaml_quote(name));
      y.line(5, "emptyDir: {}");
    }
  }
  y.line(3, "container:");
  y.line(4, "image: " + yaml_quote(image.reference));
  if (!ws.kubernetes.image_pull_policy.empty())
    y.line(4, "imagePullPolicy: " + ws.kubernetes.image_pull_policy);
  pod::container_run(y, 4, run, ws, env);
  if (!volumes.empty()) {
    y.line(4, "volumeMounts:");
    for (const auto& [name, path] : volumes) {
      y.line(5, "- name: " + yaml_quote(name));
      y.line(6, "mountPath: " + yaml_quote(path));
    }
  }
}

std::string workflow_template(const pipeline::Plan& plan, const config::WorkspaceConfig& ws,
                              const std::map<std::string, StepImage>& images,
                              const config::KubernetesEnvironment* env) {
  const auto& k = ws.kubernetes;
  Yaml y;
  y.line(0, "apiVersion: argoproj.io/v1alpha1");
  y.line(0, "kind: WorkflowTemplate");
  metadata(y, plan, ws, env);
  y.line(0, "spec:");
  y.line(1, "entrypoint: " + yaml_quote(kEntrypoint));
  if (!k.service_account.empty())
    y.line(1, "serviceAccountName: " + yaml_quote(k.service_account));
  if (!k.image_pull_secret.empty()) {
    y.line(1, "imagePullSecrets:");
    y.line(2, "- name: " + yaml_quote(k.image_pull_secret));
  }
  if (!plan.params.empty()) {
    y.line(1, "arguments:");
    y.line(2, "parameters:");
    for (const auto& [name, value] : plan.params) {
      y.line(3, "- name: " + yaml_quote(name));
      y.line(4, "value: " + yaml_quote(value));
    }
  }
  if (plan.timeout_seconds > 0)
    y.line(1, "activeDeadlineSeconds: " + std::to_string(plan.timeout_seconds));
  // Finished pods do not pile up: a step's pod goes when it succeeds (a
  // failed one stays for its logs), the whole run after the TTL.
  y.line(1, "podGC:");
  y.line(2, "strategy: OnPodSuccess");
  y.line(1, "ttlStrategy:");
  y.line(2, "secondsAfterCompletion: " + std::to_string(k.ttl_seconds_after_finished));
  y.line(1, "workflowMetadata:");
  pod::labels(y, 2, plan.name, ws, env);
  y.line(1, "templates:");
  dag(y, plan);
  for (const auto& step : plan.steps)
    step_template(y, plan, step, ws, images.at(step.project_name), env);
  return y.str();
}

// The crons a CronWorkflow runs on (none when the pipeline runs on its
// schedule in GitHub Actions): the environment's replace a scheduled
// pipeline's, as they do a scheduled job's; an environment never schedules
// an on-demand pipeline.
std::vector<config::Located> crons_of(const pipeline::Plan& plan, const config::WorkspaceConfig& ws,
                                      const config::KubernetesEnvironment* env) {
  // Scheduled in GitHub Actions (runs_on): a CronWorkflow too would run it twice.
  if (plan.schedule.schedule.empty() || config::pipeline_target(plan.schedule, ws) != config::JobTarget::Kubernetes)
    return {};
  return env && !env->schedule.empty() ? env->schedule : plan.schedule.schedule;
}

std::string cron_workflow(const pipeline::Plan& plan, const config::WorkspaceConfig& ws,
                          const std::vector<config::Located>& crons, const config::KubernetesEnvironment* env) {
  Yaml y;
  y.line(0, "apiVersion: argoproj.io/v1alpha1");
  y.line(0, "kind: CronWorkflow");
  metadata(y, plan, ws, env);
  y.line(0, "spec:");
  y.line(1, "schedules:");
  for (const auto& c : crons)
    y.line(2, "- " + yaml_quote(util::parse_cron(c.value).portable()));
  // Always said: without it the controller reads the crons in its own
  // machine's time zone.
  y.line(1, "timezone: " + yaml_quote(plan.schedule.timezone));
  y.line(1, std::string("concurrencyPolicy: ") + pod::concurrency_policy(plan.schedule.concurrency));
  y.line(1, "startingDeadlineSeconds: " + std::to_string(kStartingDeadlineSeconds));
  y.line(1, "successfulJobsHistoryLimit: 3");
  y.line(1, "failedJobsHistoryLimit: 3");
  if (env && env->suspend)
    y.line(1, std::string("suspend: ") + (*env->suspend ? "true" : "false"));
  y.line(1, "workflowMetadata:");
  pod::labels(y, 2, plan.name, ws, env);
  y.line(1, "workflowSpec:");
  y.line(2, "workflowTemplateRef:");
  y.line(3, "name: " + yaml_quote(plan.name));
  return y.str();
}

} // namespace

std::vector<generated::File> render_argo(const pipeline::Plan& plan, const config::WorkspaceConfig& ws,
                                         const std::map<std::string, StepImage>& images,
                                         const config::KubernetesEnvironment* env, const std::string& dir) {
  std::string base = dir.empty() ? "" : dir + "/" + plan.name + "/";
  std::vector<generated::File> out;
  std::string steps;
  for (const auto& step : plan.steps)
    steps += (steps.empty() ? "" : ", ") + step.name;
  auto crons = crons_of(plan, ws, env);
  std::string elsewhere = !plan.schedule.schedule.empty() && crons.empty()
                              ? "# Its schedule runs in GitHub Actions (runs_on: github-actions), so no CronWorkflow.\n"
                              : "";
  out.push_back({base + "workflowtemplate.yaml",
                 header(plan, "# Steps: " + steps + ". Run it: argo submit --from workflowtemplate/" + plan.name +
                                  "\n" + elsewhere) +
                     workflow_template(plan, ws, images, env)});
  std::string cron_text;
  for (const auto& c : crons)
    cron_text += (cron_text.empty() ? "" : ", ") + c.value;
  if (!crons.empty())
    out.push_back({base + "cronworkflow.yaml",
                   header(plan, "# Schedule " + cron_text + " (" + plan.schedule.timezone + ").\n") +
                       cron_workflow(plan, ws, crons, env)});
  Yaml k;
  k.line(0, "apiVersion: kustomize.config.k8s.io/v1beta1");
  k.line(0, "kind: Kustomization");
  k.line(0, "resources:");
  k.line(1, "- workflowtemplate.yaml");
  if (!crons.empty())
    k.line(1, "- cronworkflow.yaml");
  out.push_back({base + "kustomization.yaml", header(plan, "") + k.str()});
  return out;
}

} // namespace mlrepo::deploy
