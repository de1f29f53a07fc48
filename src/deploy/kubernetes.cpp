#include "mlrepo/deploy/kubernetes.hpp"

#include "mlrepo/deploy/argo.hpp"
#include "mlrepo/deploy/pod.hpp"
#include "mlrepo/generated/yaml.hpp"
#include "mlrepo/util/cron.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/process.hpp"
#include "mlrepo/util/text.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace mlrepo::deploy {
namespace {

using generated::Yaml;
using generated::yaml_quote;

struct Rendered {
  std::string file; // cronjob.yaml, cronjob-2.yaml, job.yaml
  std::string text;
  bool apply = true; // in kustomization.yaml (a Job template is created, not applied)
};

void labels(Yaml& y, int indent, const project::Project& p, const config::WorkspaceConfig& ws,
            const config::KubernetesEnvironment* env) {
  pod::labels(y, indent, p.name, ws, env);
}

// The pod template's spec, at `indent`.
void pod_spec(Yaml& y, int indent, const project::Project& p, const config::WorkspaceConfig& ws,
              const PinnedImage& image, const config::KubernetesEnvironment* env) {
  const auto& job = *p.config->job;
  const auto& k = ws.kubernetes;
  y.line(indent, "restartPolicy: Never");
  if (!k.service_account.empty())
    y.line(indent, "serviceAccountName: " + yaml_quote(k.service_account));
  if (!k.image_pull_secret.empty()) {
    y.line(indent, "imagePullSecrets:");
    y.line(indent + 1, "- name: " + yaml_quote(k.image_pull_secret));
  }
  pod::gpu_placement(y, indent, pod::gpu_count(job, env), ws, env);
  y.line(indent, "containers:");
  y.line(indent + 1, "- name: " + yaml_quote(p.name));
  int c = indent + 2;
  y.line(c, "image: " + yaml_quote(image.reference));
  if (!k.image_pull_policy.empty())
    y.line(c, "imagePullPolicy: " + k.image_pull_policy);
  pod::container_run(y, c, job, ws, env);
}

// The Job's own spec (for a Job, or a CronJob's jobTemplate), at `indent`.
void job_spec(Yaml& y, int indent, const project::Project& p, const config::WorkspaceConfig& ws,
              const PinnedImage& image, const config::KubernetesEnvironment* env) {
  const auto& job = *p.config->job;
  y.line(indent, "backoffLimit: " + std::to_string(job.retries));
  if (job.timeout_seconds > 0)
    y.line(indent, "activeDeadlineSeconds: " + std::to_string(job.timeout_seconds));
  y.line(indent, "ttlSecondsAfterFinished: " + std::to_string(ws.kubernetes.ttl_seconds_after_finished));
  y.line(indent, "template:");
  y.line(indent + 1, "metadata:");
  labels(y, indent + 2, p, ws, env);
  // The pod's annotations (sidecar injection, cost allocation).
  auto annotations = pod::annotations(ws, env);
  if (!annotations.empty()) {
    y.line(indent + 2, "annotations:");
    for (const auto& [key, value] : annotations)
      y.line(indent + 3, yaml_quote(key) + ": " + yaml_quote(value));
  }
  y.line(indent + 1, "spec:");
  pod_spec(y, indent + 2, p, ws, image, env);
}

void metadata(Yaml& y, const project::Project& p, const config::WorkspaceConfig& ws, const PinnedImage& image,
              const config::KubernetesEnvironment* env, const std::string& name_line) {
  y.line(0, "metadata:");
  y.line(1, name_line);
  std::string ns = env && !env->namespace_name.empty() ? env->namespace_name : ws.kubernetes.namespace_name;
  if (!ns.empty())
    y.line(1, "namespace: " + yaml_quote(ns));
  labels(y, 1, p, ws, env);
  // Only what the objects describe: the commit that happens to be checked
  // out is not, or committing the render (or any later commit) would make
  // it stale and 'job render --check' could never pass.
  y.line(1, "annotations:");
  y.line(2, "mlrepo.dev/content-tag: " + yaml_quote(image.content_tag));
  y.line(2, "mlrepo.dev/project-path: " + yaml_quote(p.path));
  if (!image.release.empty())
    y.line(2, "mlrepo.dev/release: " + yaml_quote(image.release));
}

std::string header(const project::Project& p, const std::string& how) {
  return std::string(kManifestMarker) + " Do not edit: your changes would be overwritten.\n"
         "# Regenerate with `mlrepo job render`; from " + p.config->file + " (job:).\n" + how;
}

// The crons a project's CronJobs run on: none when the job runs on its
// schedule elsewhere (runs_on), so it never runs twice; the environment's
// for a scheduled job (or one that opts in), else the job's. An
// environment's schedule never turns an on-demand job into a CronJob by
// itself.
std::vector<config::Located> crons_of(const config::JobSpec& job, const config::WorkspaceConfig& ws,
                                      const config::KubernetesEnvironment* env) {
  if (config::job_target(job, ws) != config::JobTarget::Kubernetes)
    return {};
  bool takes_env = env && !env->schedule.empty() && (!job.schedule.empty() || job.schedule_from_environment);
  return takes_env ? env->schedule : job.schedule;
}

// Why a project gets a Job template rather than CronJobs, for its header.
std::string on_demand_reason(const config::JobSpec& job, const config::WorkspaceConfig& ws,
                             const config::KubernetesEnvironment* env) {
  auto target = config::job_target(job, ws);
  if (target == config::JobTarget::Ecs && !job.schedule.empty())
    return "# Its schedule runs on AWS ECS (job.runs_on: ecs), so no CronJob here.\n";
  if (target != config::JobTarget::Kubernetes && !job.schedule.empty())
    return "# Its schedule runs in GitHub Actions (job.runs_on: github-actions), so no CronJob here.\n";
  if (env && !env->schedule.empty() && job.schedule.empty())
    return "# The environment " + env->name + "'s schedule applies only to scheduled jobs; set\n"
           "# job.schedule_from_environment: true to run this one on it.\n";
  return "";
}

std::string cronjob_name(const project::Project& p, size_t i) {
  return i == 0 ? p.name : p.name + "-" + std::to_string(i + 1);
}

} // namespace

void refuse_unrenderable(const project::Project& p, const config::WorkspaceConfig& ws,
                         const config::KubernetesEnvironment* env) {
  std::vector<std::shared_ptr<const Error>> problems;
  unrenderable(p, ws, env, problems);
  throw_all(problems, "names Kubernetes would refuse");
}

void unrenderable(const project::Project& p, const config::WorkspaceConfig& ws, const config::KubernetesEnvironment* env,
                  std::vector<std::shared_ptr<const Error>>& problems) {
  const std::string& file = p.config->file;
  // The line that gives the name: 'name:' when the config sets one, else job:.
  int line = p.config->name ? p.config->name->line : p.config->job->line;
  std::string rename = p.config->name ? "shorten 'name:' in " + file
                                      : "give it a shorter 'name:' in " + file + " (or rename its directory)";
  if (!util::is_dns_label(p.name)) {
    problems.push_back(std::make_shared<ConfigError>(
        file, line,
        "the project name '" + p.name + "' is not a Kubernetes name (lower-case letters, digits and '-', starting "
        "and ending with a letter or digit, at most 63)",
        (p.config->name ? "change 'name:' in " + file : "give it a 'name:' in " + file) +
            " to render its job for Kubernetes"));
    return;
  }
  auto crons = crons_of(*p.config->job, ws, env);
  if (crons.empty())
    return;
  // The last CronJob's name is the longest. The controller appends 11
  // characters to a CronJob's name for each Job.
  std::string name = cronjob_name(p, crons.size() - 1);
  if (name.size() > 52)
    problems.push_back(std::make_shared<ConfigError>(
        file, line,
        "the CronJob name '" + name + "' has " + std::to_string(name.size()) +
            " characters; Kubernetes allows 52 (it adds 11 for each run's Job)",
        rename + " to at most " + std::to_string(52 - (name.size() - p.name.size())) + " characters"));
}

std::vector<generated::File> render_project(const project::Project& p, const config::WorkspaceConfig& ws,
                                            const PinnedImage& image, const config::KubernetesEnvironment* env,
                                            const std::string& dir) {
  refuse_unrenderable(p, ws, env);
  const auto& job = *p.config->job;
  auto crons = crons_of(job, ws, env);
  std::vector<Rendered> objects;
  for (size_t i = 0; i < crons.size(); ++i) {
    std::string name = cronjob_name(p, i);
    Yaml y;
    y.line(0, "apiVersion: batch/v1");
    y.line(0, "kind: CronJob");
    metadata(y, p, ws, image, env, "name: " + yaml_quote(name));
    y.line(0, "spec:");
    y.line(1, "schedule: " + yaml_quote(util::parse_cron(crons[i].value).portable()));
    if (job.timezone != "UTC")
      y.line(1, "timeZone: " + yaml_quote(job.timezone));
    y.line(1, std::string("concurrencyPolicy: ") + pod::concurrency_policy(job.concurrency));
    if (env && env->suspend)
      y.line(1, std::string("suspend: ") + (*env->suspend ? "true" : "false"));
    y.line(1, "successfulJobsHistoryLimit: 3");
    y.line(1, "failedJobsHistoryLimit: 3");
    y.line(1, "jobTemplate:");
    y.line(2, "metadata:");
    labels(y, 3, p, ws, env);
    y.line(2, "spec:");
    job_spec(y, 3, p, ws, image, env);
    objects.push_back({i == 0 ? "cronjob.yaml" : "cronjob-" + std::to_string(i + 1) + ".yaml",
                       header(p, "# Schedule " + crons[i].value + " (" + job.timezone + ").\n") + y.str(), true});
  }
  if (crons.empty()) {
    // generateName: each `kubectl create -f` is a new run; a fixed name
    // would fail on the Job's immutable template the second time.
    Yaml y;
    y.line(0, "apiVersion: batch/v1");
    y.line(0, "kind: Job");
    metadata(y, p, ws, image, env, "generateName: " + yaml_quote(p.name + "-"));
    y.line(0, "spec:");
    job_spec(y, 1, p, ws, image, env);
    objects.push_back({"job.yaml",
                       header(p, "# A run on demand: kubectl create -f job.yaml (apply cannot create it).\n" +
                                     on_demand_reason(job, ws, env)) +
                           y.str(),
                       false});
  }
  std::string base = dir.empty() ? "" : dir + "/" + p.name + "/";
  std::vector<generated::File> out;
  Yaml k;
  k.line(0, "apiVersion: kustomize.config.k8s.io/v1beta1");
  k.line(0, "kind: Kustomization");
  bool any = false;
  for (const auto& o : objects)
    any |= o.apply;
  if (any) {
    k.line(0, "resources:");
    for (const auto& o : objects)
      if (o.apply)
        k.line(1, "- " + o.file);
  } else {
    k.line(0, "resources: [] # job.yaml is created on demand, never applied");
  }
  for (auto& o : objects)
    out.push_back({base + o.file, std::move(o.text)});
  out.push_back({base + "kustomization.yaml", header(p, "") + k.str()});
  return out;
}

namespace {

// --- the Kubernetes row of the target table -------------------------------

const config::KubernetesEnvironment* environment_named(const config::WorkspaceConfig& ws,
                                                       const std::optional<std::string>& name) {
  return deploy::environment_named(ws.kubernetes.environments, name, "kubernetes",
                                   "{namespace: " + name.value_or("") + "}");
}

std::string k8s_default_dir(const config::WorkspaceConfig& ws) { return ws.kubernetes.dir; }

void k8s_require_env(const config::WorkspaceConfig& ws, const std::optional<std::string>& env) {
  environment_named(ws, env);
}

void k8s_refuse(const project::Project& p, const config::WorkspaceConfig& ws, const std::optional<std::string>& env,
                Problems& problems) {
  unrenderable(p, ws, environment_named(ws, env), problems);
}

// `render(environment)`'s files for the base (or the one --env) and, without
// --env, each environment's beside it in <name>/overlays/<env>/, exactly what
// --env <env> renders, so that 'kubectl apply -k <dir>/<name>/overlays/prod'
// needs nothing else. A stream is the objects themselves: no kustomizations.
template <class Render>
std::vector<generated::File> with_overlays(const config::WorkspaceConfig& ws, const std::optional<std::string>& env,
                                           const std::string& dir, const std::string& name, Render render) {
  const auto* environment = environment_named(ws, env);
  bool stream = dir == "-";
  auto files = render(environment);
  if (!environment && !stream)
    for (const auto& e : ws.kubernetes.environments) {
      std::string base = dir + "/" + name + "/";
      for (auto& f : render(&e)) {
        f.path = base + "overlays/" + e.name + "/" + f.path.substr(base.size());
        files.push_back(std::move(f));
      }
    }
  if (stream)
    std::erase_if(files, [](const generated::File& f) { return f.path.ends_with("/kustomization.yaml"); });
  return files;
}

std::vector<generated::File> k8s_render(const RenderRequest& r) {
  return with_overlays(r.ws, r.env, r.dir, r.project.name, [&](const config::KubernetesEnvironment* e) {
    return render_project(r.project, r.ws, r.image, e, r.dir);
  });
}

// kubectl's words for a cluster it never reached (no API server answered),
// as opposed to one that answered with a refusal.
bool cluster_unreachable(const std::string& said) {
  for (const char* sign : {"Unable to connect to the server", "connection refused", "no such host",
                           "i/o timeout", "the server could not be reached", "dial tcp", "connect: network is unreachable",
                           "The connection to the server"})
    if (said.find(sign) != std::string::npos)
      return true;
  return false;
}

// The object a rendered file holds, as kubectl names it: "CronJob/train".
std::string object_name(const std::string& content) {
  auto field = [&](const std::string& key) -> std::string {
    auto at = content.find(key);
    if (at == std::string::npos)
      return "";
    at += key.size();
    auto end = content.find('\n', at);
    std::string v = content.substr(at, end == std::string::npos ? std::string::npos : end - at);
    if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'')
      v = v.substr(1, v.size() - 2);
    return v;
  };
  return field("\nkind: ") + "/" + field("\nmetadata:\n  name: ");
}

// A project's CronJobs (or a pipeline's WorkflowTemplate and CronWorkflow)
// as one stream on `kubectl apply --server-side`'s stdin; a Job template is
// created on demand, never applied.
ApplyResult k8s_apply(const ApplyRequest& r, util::ProcessRunner& runner) {
  ApplyResult out;
  std::string stream;
  for (const auto* f : r.files) {
    if (f->path.ends_with("/job.yaml") || f->path.ends_with("/kustomization.yaml"))
      continue;
    out.objects.push_back(object_name(f->content));
    stream += (stream.empty() ? "" : "---\n") + f->content;
  }
  if (stream.empty() && !r.scheduled_elsewhere.empty()) {
    out.note = std::string("its schedule runs ") +
               (r.scheduled_elsewhere == "ecs" ? "on AWS ECS" : "in GitHub Actions") + " (job.runs_on: " +
               r.scheduled_elsewhere + "), so nothing to apply here; set 'runs_on: kubernetes' in its job: to run it "
               "on the cluster instead";
    return out;
  }
  if (stream.empty()) {
    out.note = "no schedule, so nothing to apply: its Job runs on demand ('mlrepo job render " + r.project +
               " -o - | kubectl create -f -')";
    return out;
  }
  util::ProcessSpec spec;
  spec.argv = {r.tool, "apply", "--server-side", "--field-manager=mlrepo", "--force-conflicts", "-f", "-"};
  spec.cwd = r.workdir;
  spec.stdin_data = stream;
  spdlog::info("==> {}: {} {}", r.project, util::shell_quote(spec.argv), r.image);
  if (r.dry_run)
    return out;
  auto res = runner.run(spec);
  if (!res.ok()) {
    std::string err = res.said();
    if (cluster_unreachable(err))
      throw EnvironmentError("kubectl cannot reach the cluster (" + err + ")",
                             "check KUBECONFIG and 'kubectl cluster-info', then deploy again");
    throw Error(ExitCode::WorkFailed, "kubectl could not apply " + r.what + " " + r.project + ": " + err,
                std::string("check the cluster access (KUBECONFIG) and 'mlrepo ") + (r.what == "the pipeline" ? "pipeline" : "job") +
                    " render " + r.project + " -o -'");
  }
  if (!res.out.empty())
    spdlog::info("{}", util::last_line(res.out));
  out.applied = true;
  return out;
}

// The deploy job's credentials: the kubeconfig, from a CI secret, in a file
// whose path kubectl reads from KUBECONFIG (ci/ writes the steps).
std::optional<CiCredential> k8s_ci_credential(const config::WorkspaceConfig& ws) {
  CiCredential c;
  c.secret = ws.kubernetes.kubeconfig_secret;
  c.variable = "KUBECONFIG";
  c.what = "kubeconfig";
  return c;
}

std::string k8s_pipelines_dir(const config::WorkspaceConfig& ws) { return ws.kubernetes.pipelines_dir; }

// Argo Workflows on the cluster: as k8s_render, each environment's variant
// in <name>/overlays/<env>/ beside the base.
std::vector<generated::File> k8s_render_pipeline(const PipelineRenderRequest& r) {
  return with_overlays(r.ws, r.env, r.dir, r.plan.name, [&](const config::KubernetesEnvironment* e) {
    return render_argo(r.plan, r.ws, r.images, e, r.dir);
  });
}

// YAML documents, one stream.
std::string yaml_stream(const std::vector<generated::File>& files) {
  std::string out;
  for (const auto& f : files)
    out += (out.empty() ? "" : "---\n") + f.content;
  return out;
}

bool k8s_configured(const config::WorkspaceConfig& ws) { return ws.kubernetes.configured; }

} // namespace

extern const Target kKubernetes{"kubernetes",
                                "Kubernetes",
                                k8s_configured,
                                config::JobTarget::Kubernetes,
                                kManifestMarker,
                                false,
                                "kubectl",
                                "move it, or render to another directory with -o DIR (kubernetes.dir in mlrepo.yaml)",
                                k8s_default_dir,
                                k8s_require_env,
                                k8s_refuse,
                                k8s_render,
                                yaml_stream,
                                k8s_apply,
                                k8s_ci_credential,
                                kPipelineMarker,
                                k8s_pipelines_dir,
                                k8s_render_pipeline};

} // namespace mlrepo::deploy
