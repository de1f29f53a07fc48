#include "steps.hpp"

#include "mlrepo/deploy/target.hpp"

#include "mlrepo/ci/workflow.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/units.hpp"
#include "mlrepo/version.hpp"

#include <algorithm>
#include <cctype>

namespace mlrepo::ci {

void refuse_unsafe(const std::string& path) {
  if (path.find("${{") != std::string::npos)
    throw UsageError("project path '" + path + "' contains '${{', which GitHub Actions would "
                     "evaluate as an expression in the generated workflow",
                     "rename the directory");
  for (unsigned char c : path)
    if (c < 0x20 || c == 0x7f)
      throw UsageError("project path '" + path + "' contains a control character, which cannot be "
                       "written safely into a workflow",
                       "rename the directory");
}

std::string header(const std::string& what) {
  return std::string(kGeneratedMarker) + " Do not edit: your changes would be overwritten.\n"
         "# Regenerate with `mlrepo ci generate`; CI runs `mlrepo ci generate --check`.\n"
         "# " + what + "\n";
}

void top_settings(Yaml& y, const std::string& group, const std::string& working_directory) {
  y.line(0, "permissions:");
  y.line(1, "contents: read");
  y.blank();
  y.line(0, "concurrency:");
  y.line(1, "group: " + yaml_quote(group));
  y.line(1, "cancel-in-progress: ${{ github.event_name == 'pull_request' }}");
  y.blank();
  y.line(0, "defaults:");
  y.line(1, "run:");
  y.line(2, "shell: bash");
  if (!working_directory.empty())
    y.line(2, "working-directory: " + yaml_quote(working_directory));
  y.blank();
}

std::string on_default_branch(const std::string& branch) {
  return "github.event_name == 'push' && github.ref == " + yaml_quote("refs/heads/" + branch);
}

void job_header(Yaml& y, const config::WorkspaceConfig& ws, const JobHeader& job) {
  y.line(1, job.id + ":");
  if (job.condition_first && !job.condition.empty())
    y.line(2, "if: " + job.condition);
  y.line(2, "name: " + job.name);
  if (!job.needs.empty())
    y.line(2, "needs: " + job.needs);
  if (!job.condition_first && !job.condition.empty())
    y.line(2, "if: " + job.condition);
  y.line(2, "runs-on: " + (job.runs_on.empty() ? yaml_quote(ws.ci.runs_on) : job.runs_on));
  if (!job.timeout_minutes.empty())
    y.line(2, "timeout-minutes: " + job.timeout_minutes);
  if (!job.permissions.empty()) {
    y.line(2, "permissions:");
    for (const auto& line : job.permissions)
      y.line(3, line);
  }
}

// GITHUB_TOKEN writes packages only to ghcr.io; another registry logs in
// with its own secrets, and the token needs no such right.
bool on_ghcr(const config::WorkspaceConfig& ws) { return ws.registry.substr(0, ws.registry.find('/')) == "ghcr.io"; }

std::vector<std::string> push_permissions(const config::WorkspaceConfig& ws) {
  std::vector<std::string> lines{"contents: read"};
  if (on_ghcr(ws))
    lines.emplace_back("packages: write");
  return lines;
}

void checkout_step(Yaml& y, const config::WorkspaceConfig& ws, bool full_history) {
  y.line(3, "- name: Check out");
  y.line(4, "uses: " + (ws.ci.pin_sha ? std::string("actions/checkout@") + kCheckoutSha + " # " + kCheckoutTag
                                      : std::string("actions/checkout@") + kCheckoutTag));
  y.line(4, "with:");
  if (full_history)
    y.line(5, "fetch-depth: 0 # mlrepo compares with the base commit");
  y.line(5, "persist-credentials: false");
}

void install_step(Yaml& y, const config::WorkspaceConfig& ws) {
  y.line(3, "- name: Install mlrepo");
  // The default pins the commit this mlrepo was built from; the comment says
  // which version that is, for readers and for update tools.
  bool pinned_default = ws.ci.mlrepo_action_default && ws.ci.mlrepo_action.size() > 41 &&
                        ws.ci.mlrepo_action[ws.ci.mlrepo_action.size() - 41] == '@';
  y.line(4, "uses: " + yaml_quote(ws.ci.mlrepo_action) + (pinned_default ? std::string(" # v") + kVersion : ""));
}

void login_step(Yaml& y, const config::WorkspaceConfig& ws, bool only_if_push) {
  std::string host = ws.registry.substr(0, ws.registry.find('/'));
  y.line(3, "- name: Log in to the registry");
  if (only_if_push)
    y.line(4, "if: env.PUSH == 'true'");
  y.line(4, "env:");
  y.line(5, "REGISTRY: " + yaml_quote(host));
  if (host == "ghcr.io") {
    y.line(5, "REGISTRY_USERNAME: ${{ github.actor }}");
    y.line(5, "REGISTRY_PASSWORD: ${{ secrets.GITHUB_TOKEN }}");
  } else {
    y.line(5, "REGISTRY_USERNAME: ${{ secrets." + ws.ci.registry_username_secret + " }}");
    y.line(5, "REGISTRY_PASSWORD: ${{ secrets." + ws.ci.registry_password_secret + " }}");
  }
  y.line(4, "run: printf '%s' \"$REGISTRY_PASSWORD\" | docker login \"$REGISTRY\" --username "
            "\"$REGISTRY_USERNAME\" --password-stdin");
}

void secrets_env(Yaml& y, const SecretEnv& secrets) {
  if (secrets.empty())
    return;
  y.line(4, "env:");
  for (const auto& [var, secret] : secrets)
    y.line(5, var + ": ${{ secrets." + secret + " }}");
}

void build_and_test_steps(Yaml& y, const config::WorkspaceConfig& ws, const std::string& project,
                          bool run_tests, const SecretEnv& secrets) {
  std::string arg = project.empty() ? "" : " " + project;
  if (ws.registry.empty()) {
    y.line(3, "- name: Build");
    secrets_env(y, secrets);
    y.line(4, "run: mlrepo build" + arg);
    if (run_tests) {
      y.line(3, "- name: Lint and test the image");
      y.line(4, "run: mlrepo test" + arg);
    }
    return;
  }
  login_step(y, ws, true);
  y.line(3, "- name: Build once and push the content tag");
  y.line(4, "if: env.PUSH == 'true'");
  secrets_env(y, secrets);
  y.line(4, "run: mlrepo build" + arg + " --push --content-tag-only");
  y.line(3, "- name: Build without pushing (a fork's pull request has no registry credentials)");
  y.line(4, "if: env.PUSH != 'true'");
  // A fork gets no secrets: the values are empty and mlrepo says which one
  // the build needed, for the images it really has to build.
  secrets_env(y, secrets);
  y.line(4, "run: |");
  y.line(5, "echo \"::notice title=mlrepo::built and tested on the runner, not pushed: a pull request "
            "from a fork has no registry credentials\"");
  y.line(5, "mlrepo build" + arg);
  if (!run_tests)
    return;
  y.line(3, "- name: Lint and test the pushed image (pulled by digest)");
  y.line(4, "if: env.PUSH == 'true'");
  y.line(4, "run: mlrepo test" + arg + " --pull");
  y.line(3, "- name: Lint and test the local image");
  y.line(4, "if: env.PUSH != 'true'");
  y.line(4, "run: mlrepo test" + arg);
}

std::string result_variable(const std::string& job) {
  std::string out = "RESULT_";
  for (char c : job)
    out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string failed_jobs_script(const std::vector<std::string>& jobs) {
  std::string list;
  for (const auto& j : jobs)
    list += " " + j + ":\"$" + result_variable(j) + "\"";
  return "failed=\"\"\n"
         "for job in" + list + "; do\n"
         "  case \"${job#*:}\" in\n"
         "    success|skipped) ;; # skipped: nothing of that kind changed\n"
         "    *) failed=\"$failed ${job%%:*}\" ;;\n"
         "  esac\n"
         "done";
}

void slack_step(Yaml& y, const config::WorkspaceConfig& ws, const std::string& name, const std::string& condition,
                const std::vector<std::pair<std::string, std::string>>& env, const std::string& text_script) {
  y.line(3, name);
  y.line(4, "if: " + condition);
  y.line(4, "env:");
  y.line(5, "SLACK_WEBHOOK: ${{ secrets." + ws.ci.slack_webhook_secret + " }}");
  for (const auto& [var, expr] : env)
    y.line(5, var + ": " + expr);
  y.line(4, "run: |");
  y.line(5, "if [ -z \"$SLACK_WEBHOOK\" ]; then");
  y.line(6, "echo \"no Slack webhook in the secret: not notifying\"");
  y.line(6, "exit 0");
  y.line(5, "fi");
  y.lines(5, text_script);
  y.line(5, "jq -cn --arg text \"$text\" '{text: $text}' |");
  y.line(6, "curl -fsS --retry 3 -X POST -H 'Content-Type: application/json' --data @- \"$SLACK_WEBHOOK\"");
}

// Text a pusher controls (branch, commit message) reaches the payload only
// through environment variables and jq, never through the script itself.
void notify_step(Yaml& y, const config::WorkspaceConfig& ws, const std::string& project,
                 const std::string& failed_script,
                 const std::vector<std::pair<std::string, std::string>>& extra_env) {
  if (ws.ci.slack_webhook_secret.empty())
    return;
  std::vector<std::pair<std::string, std::string>> env = {
      {"PROJECT", yaml_quote(project)},
      {"REPOSITORY", "${{ github.repository }}"},
      {"COMMIT", "${{ github.sha }}"},
      {"BRANCH", "${{ github.ref_name }}"},
      {"MESSAGE", "${{ github.event.head_commit.message }}"},
      {"RUN_URL", "${{ github.server_url }}/${{ github.repository }}/actions/runs/${{ github.run_id }}"}};
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  slack_step(y, ws, "- name: Tell Slack that the default branch failed", "failure() && github.event_name == 'push'",
             env,
             failed_script +
                 "\ntext=$(printf '%s failed on %s in %s\\ncommit %s: %s\\nfailed jobs: %s\\n%s' \\\n"
                 "  \"$PROJECT\" \"$BRANCH\" \"$REPOSITORY\" \"$COMMIT\" \"${MESSAGE%%$'\\n'*}\" \"${failed# }\" \"$RUN_URL\")");
}

void concurrency_block(Yaml& y, config::Concurrency concurrency, const std::string& group) {
  static const char* const kComment[] = {
      // Forbid, Replace, Allow (config::Concurrency order).
      "forbid: a run that starts while one is running waits for it (GitHub keeps one waiting run)",
      "replace: a run that starts while one is running cancels it",
      "allow: runs overlap (no concurrency group)",
  };
  y.line(0, "# " + std::string(kComment[static_cast<int>(concurrency)]) + ".");
  if (concurrency == config::Concurrency::Allow)
    return;
  y.line(0, "concurrency:");
  y.line(1, "group: " + yaml_quote(group));
  y.line(1, std::string("cancel-in-progress: ") + (concurrency == config::Concurrency::Replace ? "true" : "false"));
}

void scheduled_preamble(Yaml& y, config::Concurrency concurrency, const std::string& group) {
  y.line(0, "permissions:");
  y.line(1, "contents: read");
  y.blank();
  concurrency_block(y, concurrency, group);
  y.blank();
  y.line(0, "defaults:");
  y.line(1, "run:");
  y.line(2, "shell: bash");
  y.blank();
  y.line(0, "jobs:");
}

void dispatch_input(Yaml& y, int indent, const std::string& name, const std::string& description) {
  y.line(indent, name + ":");
  y.line(indent + 1, "description: " + yaml_quote(description));
  y.line(indent + 1, "type: string");
  y.line(indent + 1, "required: false");
  y.line(indent + 1, "default: ''");
}

std::string run_timeout_minutes(std::int64_t timeout_seconds, const config::JobSpec& runs_on,
                                const config::WorkspaceConfig& ws, const std::string& field) {
  if (timeout_seconds <= 0)
    return "";
  // The margin is for checkout, install, pulls and set-up; ci generate
  // refuses a timeout above what a hosted runner allows.
  auto minutes = (timeout_seconds + 59) / 60 + 15;
  bool capped = config::github_hosted(config::runner_labels(runs_on, ws)) && minutes > kHostedJobMinutes;
  if (capped)
    minutes = kHostedJobMinutes;
  return std::to_string(minutes) + " # " + field + " " + util::format_duration(timeout_seconds) +
         (capped ? ", within the hosted runner's 360" : ", and 15 minutes to set up");
}

std::string runs_on_labels(const std::vector<std::string>& labels, const std::string& field) {
  if (labels.size() == 1)
    return yaml_quote(labels[0]) + " # " + field;
  if (labels.empty())
    return "";
  std::string list;
  for (const auto& l : labels)
    list += (list.empty() ? "" : ", ") + yaml_quote(l);
  return "[" + list + "] # " + field;
}

void check_step(Yaml& y) {
  y.line(3, "- name: Check that the generated workflows are current");
  y.line(4, "run: mlrepo ci generate --check");
}

std::vector<std::string> cluster_pipelines(const config::WorkspaceConfig& ws) {
  std::vector<std::string> out;
  for (const auto& p : ws.pipelines)
    if (config::pipeline_target(p.schedule, ws) == config::JobTarget::Kubernetes)
      out.push_back(p.name);
  return out;
}

namespace {

// aws-actions/configure-aws-credentials, pinned by commit: it handles AWS
// credentials, so a moved tag must never change what runs.
constexpr const char* kAwsCredentialsAction =
    "aws-actions/configure-aws-credentials@e6de054238d6b7531b4efff3b6587d9aade6a06c # v6.2.3";

// The steps that give the deploy job the target's credentials (the target
// says which; GitHub's syntax is ours). Returns the clean-up step's file, if any.
std::string credential_steps(Yaml& y, const deploy::CiCredential& c) {
  using Kind = deploy::CiCredential::Kind;
  if (c.kind == Kind::File) {
    std::string data = c.variable + "_DATA";
    std::string file = "$RUNNER_TEMP/" + c.what;
    y.line(3, "- name: Write the " + c.what + " (mode 0600, never echoed)");
    y.line(4, "env:");
    y.line(5, data + ": ${{ secrets." + c.secret + " }}");
    y.line(4, "run: |");
    y.line(5, "if [ -z \"$" + data + "\" ]; then");
    y.line(6, "echo \"::error title=mlrepo deploy::the secret " + c.secret + " holds no " + c.what + "\"");
    y.line(6, "exit 1");
    y.line(5, "fi");
    y.line(5, "umask 077");
    y.line(5, "printf '%s' \"$" + data + "\" > \"" + file + "\"");
    y.line(5, "echo \"" + c.variable + "=" + file + "\" >> \"$GITHUB_ENV\"");
    return c.what;
  }
  y.line(3, c.kind == Kind::AwsRole ? "- name: AWS credentials from GitHub's OIDC token (no stored key)"
                                    : "- name: AWS credentials from the repository's secrets");
  y.line(4, std::string("uses: ") + kAwsCredentialsAction);
  y.line(4, "with:");
  if (c.kind == Kind::AwsRole) {
    y.line(5, "role-to-assume: " + yaml_quote(c.role_arn));
    y.line(5, "role-session-name: mlrepo-deploy");
  } else {
    y.line(5, "aws-access-key-id: ${{ secrets." + c.key_id_secret + " }}");
    y.line(5, "aws-secret-access-key: ${{ secrets." + c.secret_key_secret + " }}");
  }
  y.line(5, "aws-region: " + yaml_quote(c.region));
  return "";
}

} // namespace

void deploy_job(Yaml& y, const config::WorkspaceConfig& ws, const std::string& needs, const std::string& condition,
                const std::string& selection) {
  auto where = config::deploy_target(ws);
  const auto& target = deploy::target_named(config::job_target_name(where));
  std::string environment = config::deploy_environment(ws);
  // The target is named: with both sections configured, none is the default.
  std::string flags = " --target " + std::string(target.name) +
                      (environment.empty() ? "" : " --env " + yaml_quote(environment));
  auto credential = target.ci_credential(ws);
  y.blank();
  std::vector<std::string> permissions{"contents: read"};
  if (on_ghcr(ws))
    permissions.emplace_back("packages: read # the digest of each image, read from the registry");
  if (credential && credential->kind == deploy::CiCredential::Kind::AwsRole)
    permissions.emplace_back("id-token: write # GitHub's OIDC token, exchanged for the AWS role (this job only)");
  job_header(y, ws,
             {.id = "deploy",
              .name = "deploy the jobs" + (environment.empty() ? std::string() : " to " + environment),
              .needs = needs,
              .condition = condition,
              .permissions = permissions});
  y.line(2, "steps:");
  checkout_step(y, ws, true);
  install_step(y, ws);
  login_step(y, ws, false);
  std::string file = credential ? credential_steps(y, *credential) : "";
  y.line(3, where == config::JobTarget::Ecs
                ? "- name: Put the promoted images' ECS task definitions and schedules (pinned by digest)"
                : "- name: Apply the promoted images' CronJobs (server-side, pinned by digest)");
  y.line(4, "run: |");
  // The tag is pusher-controlled text: it reaches the script only as an
  // environment variable, split by the shell.
  y.line(5, "if [[ \"$GITHUB_REF\" == refs/tags/* ]]; then");
  y.line(6, "mlrepo job deploy \"${GITHUB_REF_NAME%/v*}\" --release \"${GITHUB_REF_NAME##*/v}\"" + flags);
  y.line(5, "else");
  y.line(6, "mlrepo job deploy " + selection + flags);
  y.line(5, "fi");
  // The workspace's pipelines on the cluster, when a change touched them
  // (a step's project, or the pipeline's spec); a release tag is one
  // project's, and deploys jobs only.
  auto pipelines = cluster_pipelines(ws);
  if (target.render_pipeline && selection == "--changed" && !pipelines.empty()) {
    std::string names;
    for (const auto& n : pipelines)
      names += " " + yaml_quote(n);
    std::string env = environment.empty() ? "" : " --env " + yaml_quote(environment);
    y.line(3, "- name: Apply the changed pipelines' WorkflowTemplates and CronWorkflows (Argo Workflows, by digest)");
    y.line(4, "if: ${{ !startsWith(github.ref, 'refs/tags/') }}");
    y.line(4, "run: mlrepo pipeline deploy --changed" + names + env);
  }
  if (!file.empty()) {
    y.line(3, "- name: Remove the " + file);
    y.line(4, "if: always()");
    y.line(4, "run: rm -f \"$RUNNER_TEMP/" + file + "\"");
  }
}

} // namespace mlrepo::ci
