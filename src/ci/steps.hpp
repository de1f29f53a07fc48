#pragma once
// Pieces every generated workflow shares (the YAML writer is generated/'s): the
// steps (checkout, install, login, build, test, notify) in their one spelling.
#include "mlrepo/config/config.hpp"
#include "mlrepo/generated/yaml.hpp"

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mlrepo::ci {

using generated::Yaml;

// Throws UsageError for a path that cannot be written safely into a workflow.
void refuse_unsafe(const std::string& path);

std::string header(const std::string& what);
// Top-level permissions, concurrency and defaults, the same in every workflow.
void top_settings(Yaml& y, const std::string& group, const std::string& working_directory);

// `true` (as a string) when this run may push: every event but a pull
// request from a fork or from Dependabot, which GitHub gives no secrets and
// a read-only token.
inline constexpr const char* kCanPush =
    "${{ (github.event_name != 'pull_request' || github.event.pull_request.head.repo.full_name == "
    "github.repository) && github.actor != 'dependabot[bot]' }}";
std::string on_default_branch(const std::string& branch); // an `if:` expression

// GitHub stops a job on its hosted runners after 6 hours (self-hosted: 5 days).
inline constexpr int kHostedJobMinutes = 360;

// A job's header: its id and the keys every job has, always in this order
// (name, needs, if, runs-on, timeout-minutes, permissions). What follows
// (strategy, outputs, env, steps) is the caller's. Values are written as
// given: quoting and trailing comments are the caller's.
struct JobHeader {
  std::string id{};
  std::string name{};
  std::string needs{};     // "" = no needs
  std::string condition{}; // the `if:`; "" = none
  // `if:` before `name:`: the variants job reads "skipped on tags" first.
  bool condition_first = false;
  std::string runs_on{};                  // "" = the workspace's ci.runs_on
  std::string timeout_minutes{};          // "" = GitHub's default
  std::vector<std::string> permissions{}; // lines under `permissions:`; empty = the workflow's
};
void job_header(Yaml& y, const config::WorkspaceConfig& ws, const JobHeader& job);

// Whether the registry is ghcr.io, where GITHUB_TOKEN reads and writes packages.
bool on_ghcr(const config::WorkspaceConfig& ws);
// `contents: read`, and `packages: write` where GITHUB_TOKEN pushes (ghcr.io).
std::vector<std::string> push_permissions(const config::WorkspaceConfig& ws);

void checkout_step(Yaml& y, const config::WorkspaceConfig& ws, bool full_history);
void install_step(Yaml& y, const config::WorkspaceConfig& ws);
// `only_if_push`: skipped unless env.PUSH is 'true' (jobs that also run for forks).
void login_step(Yaml& y, const config::WorkspaceConfig& ws, bool only_if_push);

// Build secrets: environment variable -> the CI secret it is read from.
using SecretEnv = std::map<std::string, std::string>;

// A step's `env:` passing each build secret from its CI secret.
void secrets_env(Yaml& y, const SecretEnv& secrets);

// Build once (pushing only the content tag when env.PUSH is 'true'), then lint
// and test that very image: pulled by digest when pushed, else the local one.
// `project` is a shell word naming it ("" inside its directory). Only the
// build steps see the build secrets.
void build_and_test_steps(Yaml& y, const config::WorkspaceConfig& ws, const std::string& project,
                          bool run_tests, const SecretEnv& secrets);

// A shell snippet that sets $failed to the jobs whose result (in the
// environment variables RESULT_<JOB>) is neither success nor skipped.
std::string failed_jobs_script(const std::vector<std::string>& jobs);
std::string result_variable(const std::string& job);

// Tells Slack when a run on the default branch fails (no-op without
// ci.notify.slack_webhook_secret). `failed_script` sets $failed.
void notify_step(Yaml& y, const config::WorkspaceConfig& ws, const std::string& project,
                 const std::string& failed_script,
                 const std::vector<std::pair<std::string, std::string>>& extra_env);

// A step posting `$text` (set by `text_script`) to Slack when `condition`
// holds; `env` (variable, expression) is how outside text reaches the script.
void slack_step(Yaml& y, const config::WorkspaceConfig& ws, const std::string& name, const std::string& condition,
                const std::vector<std::pair<std::string, std::string>>& env, const std::string& text_script);

// A scheduled workflow's concurrency (a job's or a pipeline's): the comment
// saying what the policy does, then the group GitHub keeps runs in.
void concurrency_block(Yaml& y, config::Concurrency concurrency, const std::string& group);

// A scheduled workflow's body up to its jobs: read-only contents, the
// concurrency block, bash as the shell, then `jobs:`.
void scheduled_preamble(Yaml& y, config::Concurrency concurrency, const std::string& group);

// One optional string input of `workflow_dispatch`, at `indent`.
void dispatch_input(Yaml& y, int indent, const std::string& name, const std::string& description);

// A scheduled run's `timeout-minutes`: its own timeout (`field`, every
// attempt) and 15 minutes to set up, capped at what a hosted runner allows
// (`runs_on`'s runner); "" without a timeout.
std::string run_timeout_minutes(std::int64_t timeout_seconds, const config::JobSpec& runs_on,
                                const config::WorkspaceConfig& ws, const std::string& field);

// `runs-on` from runner labels (runs_on: {github-actions: [...]}), with a
// comment naming `field`; empty without labels (the workspace's runner).
std::string runs_on_labels(const std::vector<std::string>& labels, const std::string& field);

// A stale workflow fails the run, naming the command that fixes it.
void check_step(Yaml& y);

// The pipelines that run on the cluster (runs_on), as Argo Workflows: CI's
// deploy job applies them when a change touches them.
std::vector<std::string> cluster_pipelines(const config::WorkspaceConfig& ws);

// With kubernetes.deploy: the job that applies what was promoted, running
// `mlrepo job deploy` (which knows Kubernetes; this knows only the command).
// `selection` is how a default-branch run names its projects ("--changed",
// or a quoted project name); a release tag always names its own project.
// With "--changed", it applies the changed cluster pipelines too.
void deploy_job(Yaml& y, const config::WorkspaceConfig& ws, const std::string& needs, const std::string& condition,
                const std::string& selection);

} // namespace mlrepo::ci
