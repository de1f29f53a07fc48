#pragma once
// The two kinds of mlrepo.yaml. Parsing is strict: an unknown key, a wrong type
// or malformed YAML is a ConfigError naming the file, the line and the key.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mlrepo::config {

inline constexpr const char* kConfigFile = "mlrepo.yaml";

enum class NameFrom { Leaf, Path };

// A value with the 1-based line it was written on, for later error messages.
struct Located {
  std::string value;
  int line = 0;
  bool operator==(const Located&) const = default;
};

enum class CiMode { PerProject, Matrix };

// mlrepo's own action, pinned to the commit this mlrepo was built from
// (OWNER/REPO@<sha>); to its version tag when built outside a git checkout.
std::string default_mlrepo_action(bool pin_sha = true);

struct WorkspaceCi {
  CiMode mode = CiMode::PerProject;
  // The composite action that installs mlrepo on the runner, OWNER/REPO@REF.
  std::string mlrepo_action = default_mlrepo_action();
  bool mlrepo_action_default = true; // not set in mlrepo.yaml
  std::string runs_on = "ubuntu-latest";
  bool pin_sha = true; // pin first-party actions to full commit SHAs
  // ci.notify.slack_webhook_secret: the secret holding a Slack incoming
  // webhook to tell when the default branch fails; empty: no notification.
  std::string slack_webhook_secret;
  std::string registry_username_secret = "REGISTRY_USERNAME";
  std::string registry_password_secret = "REGISTRY_PASSWORD";
};

// `prune:` in the workspace config: what `mlrepo prune` keeps by default.
struct WorkspacePrune {
  int keep_last = 10;                // the newest images of each project
  std::int64_t older_than_seconds = 0; // 0: age alone keeps nothing
};

// `kubernetes.environments.<name>`: what one environment changes.
// A pod toleration (Kubernetes' core/v1 Toleration).
struct Toleration {
  std::string key;
  std::string op = "Exists"; // Exists or Equal
  std::string value;         // with Equal
  std::string effect;        // NoSchedule, PreferNoSchedule, NoExecute; empty: every effect
  bool operator==(const Toleration&) const = default;
};

struct KubernetesEnvironment {
  std::string name;
  int line = 0;
  std::string namespace_name;             // empty: the workspace's
  std::map<std::string, std::string> env; // added to every job's env
  std::optional<std::string> cpu, memory; // override every job's
  std::optional<int> gpu;
  std::vector<Located> schedule;          // replaces every scheduled job's crons
  std::optional<bool> suspend;            // CronJobs stay, but do not run
  std::optional<std::vector<Toleration>> gpu_tolerations; // replace the workspace's
  std::map<std::string, std::string> pod_annotations;    // added to the workspace's
};

// `kubernetes:` in the workspace config: how `mlrepo job render` writes
// each project's job as Kubernetes objects.
struct WorkspaceKubernetes {
  bool configured = false; // a kubernetes: section is present (--target's default)
  std::string namespace_name;
  std::string dir = "deploy/k8s";
  std::string pipelines_dir = "deploy/argo"; // where `mlrepo pipeline render` writes
  std::string service_account;
  std::string image_pull_secret;
  std::string gpu_resource = "nvidia.com/gpu";
  std::map<std::string, std::string> gpu_node_selector; // for jobs that ask for a GPU
  // For jobs that ask for a GPU: GPU node pools are usually tainted. Default:
  // tolerate the GPU resource's own taint ({key: gpu_resource, operator:
  // Exists, effect: NoSchedule}); [] tolerates nothing.
  std::optional<std::vector<Toleration>> gpu_tolerations;
  std::map<std::string, std::string> pod_annotations; // on every job's pod (sidecar injection, ...)
  std::string image_pull_policy;                      // Always, IfNotPresent, Never; empty: Kubernetes' default
  std::string secret = "mlrepo-job-secrets";             // the Secret whose keys are the job's secret names
  std::int64_t ttl_seconds_after_finished = 86400;
  // `deploy: true` (the base) or `deploy: <environment>`: generated CI
  // applies the changed projects' CronJobs after promotion and on releases.
  bool deploy = false;
  std::string deploy_environment;
  std::string kubeconfig_secret = "KUBECONFIG"; // the CI secret holding the kubeconfig
  std::vector<KubernetesEnvironment> environments;
};


// ecs.environments.NAME: what one environment changes (every key optional).
struct EcsEnvironment {
  std::string name;
  int line = 0;
  std::optional<std::string> cluster, region, log_group, alert;
  std::optional<std::vector<std::string>> subnets, security_groups;
  std::optional<bool> assign_public_ip;
  std::map<std::string, std::string> env;     // added to every job's env
  std::map<std::string, std::string> secrets; // secret name -> ARN, over the workspace's
  bool operator==(const EcsEnvironment&) const = default;
};

// `ecs:` in the workspace config: how `mlrepo job render --target ecs`
// writes each job as an ECS task definition and EventBridge Scheduler
// schedules. ARNs and IDs are checked for their shape only: no AWS account
// is asked.
struct WorkspaceEcs {
  bool configured = false;
  int line = 0;
  std::string cluster; // a name or a cluster ARN
  std::string region;
  std::string launch_type = "FARGATE"; // or EC2
  std::vector<std::string> subnets, security_groups;
  bool assign_public_ip = false;
  std::string execution_role_arn, task_role_arn, scheduler_role_arn;
  std::string log_group;
  std::map<std::string, std::string> secrets; // the job's secret names -> Secrets Manager or SSM ARN
  std::string alert;                          // an SNS topic ARN
  // An SQS queue ARN: where EventBridge Scheduler puts a run it could not
  // start after its retries (a failed RunTask leaves no task to alert on).
  std::string dead_letter_queue;
  std::string dir = "deploy/ecs";
  // `deploy: true` (the base) or `deploy: <environment>`: generated CI runs
  // `mlrepo job deploy --target ecs` after promotion and on releases.
  bool deploy = false;
  std::string deploy_environment;
  // CI's AWS credentials: an IAM role GitHub's OIDC token assumes (no stored
  // key), else the access key in these repository secrets.
  std::string ci_role_arn;
  std::string access_key_id_secret = "AWS_ACCESS_KEY_ID";
  std::string secret_access_key_secret = "AWS_SECRET_ACCESS_KEY";
  std::vector<EcsEnvironment> environments;
  bool operator==(const WorkspaceEcs&) const = default;
};

struct RunSettings {
  std::map<std::string, std::string> env;
  std::vector<std::string> volumes; // HOST:CONTAINER[:ro], HOST relative to the repo
  std::optional<std::string> gpus;
  std::vector<std::string> ports;
  std::vector<std::string> command;
  bool operator==(const RunSettings&) const = default;
};

enum class Concurrency { Forbid, Replace, Allow };

// Where a job runs on its schedule: one place, so it never runs twice or
// never. Default: the cluster when the workspace deploys to one
// (kubernetes.deploy) or to ECS (ecs.deploy), else GitHub Actions.
enum class JobTarget { Default, GithubActions, Kubernetes, Ecs };

// `job:` in a project's mlrepo.yaml: how its image runs as a batch job. One
// spec for every runner (the local engine, scheduled GitHub Actions,
// Kubernetes), so each field means what it means in all three.
struct JobSpec {
  int line = 0; // of 'job:', for messages
  // Replaces the image's ENTRYPOINT (as Kubernetes' command does); one
  // string runs by /bin/sh -c. Empty: the image's own.
  std::vector<std::string> command;
  std::vector<std::string> args;          // replaces the image's CMD
  std::map<std::string, std::string> env; // plain values, fine to show
  // Variable in the container -> the name of the secret holding its value
  // (a local environment variable, a GitHub secret, a Kubernetes Secret key).
  std::map<std::string, std::string> secrets;
  std::optional<std::string> cpu;    // Kubernetes quantity: "2", "500m"
  std::optional<std::string> memory; // Kubernetes quantity: "8Gi"
  int gpu = 0;
  std::int64_t timeout_seconds = 0; // 0: none; the whole job, all attempts
  int retries = 0;                  // attempts after the first failure
  std::vector<Located> schedule;    // cron expressions; empty: on demand only
  std::string timezone = "UTC";     // IANA name the schedule is read in
  Concurrency concurrency = Concurrency::Forbid;
  JobTarget runs_on = JobTarget::Default;
  int runs_on_line = 0;
  // GitHub Actions runner labels (runs_on: {github-actions: [...]}); empty:
  // GitHub's hosted ubuntu-latest.
  std::vector<std::string> runner_labels;
  // An environment's schedule: turns this job into a scheduled one even
  // when it has no schedule of its own (otherwise it stays on demand).
  bool schedule_from_environment = false;
  bool operator==(const JobSpec&) const = default;
};

// Which of a job's run fields a pipeline step wrote itself: what it leaves
// out comes from its project's job: (pipeline/plan.cpp merges them).
struct RunFieldsGiven {
  bool command = false, args = false, timeout = false, retries = false;
  bool cpu = false, memory = false, gpu = false;
  bool operator==(const RunFieldsGiven&) const = default;
};

// pipelines.NAME.steps.STEP, as written.
struct StepSpec {
  std::string name;
  int line = 0;
  Located project; // a project's name or path
  // command, args, env, secrets, resources, timeout (each attempt), retries
  JobSpec run;
  RunFieldsGiven given;
  std::vector<Located> outputs; // artifact names: /mlrepo/outputs/NAME
  struct Input {
    Located name; // mounted at /mlrepo/inputs/NAME
    Located from; // "STEP.OUTPUT"
    bool operator==(const Input&) const = default;
  };
  std::vector<Input> inputs;
  std::vector<Located> after; // steps it runs after, without an artifact
  bool operator==(const StepSpec&) const = default;
};

// pipelines.NAME: steps in document order; references between them are
// checked against the projects by pipeline/plan.cpp.
struct PipelineSpec {
  std::string name;
  int line = 0;
  std::vector<StepSpec> steps;
  std::vector<std::pair<Located, Located>> params; // name -> default, in document order
  // schedule, timezone and concurrency (the job: rules); nothing else is set
  JobSpec schedule;
  std::int64_t timeout_seconds = 0; // the whole run; 0: none
  bool operator==(const PipelineSpec&) const = default;
};

struct WorkspaceConfig {
  std::string file;                     // repo-relative, for messages
  std::string registry;                 // e.g. ghcr.io/acme (host and namespace)
  std::string image_prefix;             // prepended to every project name
  std::optional<std::string> default_branch;
  NameFrom name_from = NameFrom::Leaf;
  std::vector<Located> exclude;         // globs over directory paths
  std::vector<Located> global_triggers; // globs over file paths
  std::string docker = "docker";        // the engine's CLI (podman works too)
  std::vector<std::string> tags;        // extra tag templates: {branch}, {short_sha}
  std::vector<std::string> default_branch_tags; // extra tags on the default branch only
  bool build_cache = true; // with --push, layer cache through the registry (<image>:buildcache)
  WorkspaceCi ci;
  WorkspacePrune prune;
  WorkspaceKubernetes kubernetes;
  WorkspaceEcs ecs;
  std::vector<PipelineSpec> pipelines; // in document order
};

struct ProjectConfig {
  std::string file; // repo-relative, for messages; empty when the project has none
  std::optional<Located> name;
  std::optional<Located> dockerfile; // relative to the project directory
  std::optional<Located> context;    // relative to the project directory
  std::map<std::string, std::string> build_args;
  // BuildKit secrets: id -> the environment variable holding the value (the
  // value itself is never stored, logged or passed in argv).
  std::map<std::string, std::string> secrets;
  std::optional<std::string> target;
  std::vector<std::string> platforms;
  std::vector<Located> depends_on; // repo-relative paths or project names
  std::vector<std::string> test;   // a command: one string is run by /bin/sh -c
  std::vector<std::string> lint;
  RunSettings run;
  // CI: a version matrix (build arg -> values), whether a workflow is made.
  std::map<std::string, std::vector<std::string>> ci_matrix;
  bool ci_enabled = true;
  int ci_timeout_minutes = 60;
  // ci.secrets: a build secret's environment variable -> the GitHub Actions
  // secret generated workflows read it from (default: the same name).
  std::map<std::string, std::string> ci_secrets;
  std::optional<JobSpec> job;
  // Whole-object comparison: the discovery cache's test compares what it
  // read back with what was parsed, so a new key cannot be silently dropped.
  bool operator==(const ProjectConfig&) const = default;
};

// Where a job runs on its schedule, its default resolved against the workspace.
JobTarget job_target(const JobSpec& job, const WorkspaceConfig& ws);
const char* job_target_name(JobTarget target); // "github-actions", "kubernetes", "ecs"
// The target generated CI deploys jobs to (kubernetes.deploy or ecs.deploy;
// never both), Default when none, and the environment it names ("" the base).
JobTarget deploy_target(const WorkspaceConfig& ws);
// Where a pipeline (its schedule fields) runs: ECS runs no pipelines, so
// with ecs.deploy the default is GitHub Actions.
JobTarget pipeline_target(const JobSpec& schedule, const WorkspaceConfig& ws);
std::string deploy_environment(const WorkspaceConfig& ws);
// The GitHub Actions runner labels a job's workflow runs on: job.runs_on's,
// else the workspace's ci.runs_on.
std::vector<std::string> runner_labels(const JobSpec& job, const WorkspaceConfig& ws);
// True when `labels` name a GitHub-hosted runner (none: ubuntu-latest; or
// only ubuntu-*, windows-*, macos-* images), which has no GPU and stops a
// job after 360 minutes.
bool github_hosted(const std::vector<std::string>& labels);

// The CI secret a build secret's environment variable is read from.
std::string ci_secret_for(const ProjectConfig& config, const std::string& variable);

// `where` is appended to the file name in messages (e.g. " at commit 1a2b3c").
WorkspaceConfig parse_workspace_config(const std::string& content, const std::string& file);
ProjectConfig parse_project_config(const std::string& content, const std::string& file);

} // namespace mlrepo::config
