#include "mlrepo/ci/workflow.hpp"

#include "mlrepo/project/dockerfile.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"
#include "mlrepo/version.hpp"

#include <algorithm>
#include <optional>
#include <set>

namespace mlrepo::ci {
namespace {

// Builds YAML text line by line; every scalar from the outside is quoted.
class Yaml {
public:
  Yaml& line(int indent, std::string_view text) {
    out_.append(static_cast<size_t>(indent) * 2, ' ');
    out_.append(text);
    out_ += '\n';
    return *this;
  }
  Yaml& blank() {
    out_ += '\n';
    return *this;
  }
  std::string str() const { return out_; }

private:
  std::string out_;
};

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

std::string checkout_ref(const config::WorkspaceConfig& ws) {
  return ws.ci.pin_sha ? std::string("actions/checkout@") + kCheckoutSha + " # " + kCheckoutTag
                       : std::string("actions/checkout@") + kCheckoutTag;
}

void checkout_step(Yaml& y, const config::WorkspaceConfig& ws, bool full_history) {
  y.line(3, "- name: Check out");
  y.line(4, "uses: " + checkout_ref(ws));
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

std::string registry_host(const config::WorkspaceConfig& ws) {
  return ws.registry.substr(0, ws.registry.find('/'));
}

void login_step(Yaml& y, const config::WorkspaceConfig& ws) {
  std::string host = registry_host(ws);
  y.line(3, "- name: Log in to the registry");
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

// Tells Slack when a run on the default branch fails. Skipped, not failed,
// without the secret (forks have none). Text a pusher controls (branch,
// commit message) reaches the payload only through environment variables
// and jq, never through the script itself. `failed` is a shell expression
// naming the failed jobs.
void notify_step(Yaml& y, const config::WorkspaceConfig& ws, const std::string& project, const std::string& failed,
                 const std::vector<std::pair<std::string, std::string>>& results) {
  if (ws.ci.slack_webhook_secret.empty())
    return;
  y.line(3, "- name: Tell Slack that the default branch failed");
  y.line(4, "if: failure() && github.event_name == 'push'");
  y.line(4, "env:");
  y.line(5, "SLACK_WEBHOOK: ${{ secrets." + ws.ci.slack_webhook_secret + " }}");
  y.line(5, "PROJECT: " + yaml_quote(project));
  y.line(5, "REPOSITORY: ${{ github.repository }}");
  y.line(5, "COMMIT: ${{ github.sha }}");
  y.line(5, "BRANCH: ${{ github.ref_name }}");
  y.line(5, "MESSAGE: ${{ github.event.head_commit.message }}");
  y.line(5, "RUN_URL: ${{ github.server_url }}/${{ github.repository }}/actions/runs/${{ github.run_id }}");
  for (const auto& [var, expr] : results)
    y.line(5, var + ": " + expr);
  y.line(4, "run: |");
  y.line(5, "if [ -z \"$SLACK_WEBHOOK\" ]; then");
  y.line(6, "echo \"no Slack webhook in the secret: not notifying\"");
  y.line(6, "exit 0");
  y.line(5, "fi");
  y.line(5, "failed=" + failed);
  y.line(5, "text=$(printf '%s failed on %s in %s\\ncommit %s: %s\\nfailed jobs: %s\\n%s' \\");
  y.line(6, "\"$PROJECT\" \"$BRANCH\" \"$REPOSITORY\" \"$COMMIT\" \"${MESSAGE%%$'\\n'*}\" \"$failed\" \"$RUN_URL\")");
  y.line(5, "jq -cn --arg text \"$text\" '{text: $text}' |");
  y.line(6, "curl -fsS --retry 3 -X POST -H 'Content-Type: application/json' --data @- \"$SLACK_WEBHOOK\"");
}

// A stale workflow fails the run, naming the command that fixes it (the
// header promises this step).
void check_step(Yaml& y) {
  y.line(3, "- name: Check that the generated workflows are current");
  y.line(4, "run: mlrepo ci generate --check");
}

// Top-level permissions, concurrency and defaults, the same in every workflow.
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

struct PushJob {
  std::string name;      // already YAML-safe
  std::string needs;
  std::string condition; // appended to "push to the default branch"
  std::optional<int> timeout_minutes;
  std::string step;
  std::string command;
  std::string project = "mlrepo"; // for the failure notification
};

// The only job with packages: write, on pushes to the default branch only.
void push_job(Yaml& y, const config::WorkspaceConfig& ws, const GenerateOptions& opt, const PushJob& job) {
  y.blank();
  y.line(1, "push:");
  y.line(2, "name: " + job.name);
  y.line(2, "needs: " + job.needs);
  y.line(2, "if: github.event_name == 'push' && github.ref == " +
                yaml_quote("refs/heads/" + opt.default_branch) + job.condition);
  y.line(2, "runs-on: " + yaml_quote(ws.ci.runs_on));
  if (job.timeout_minutes)
    y.line(2, "timeout-minutes: " + std::to_string(*job.timeout_minutes));
  y.line(2, "permissions:");
  y.line(3, "contents: read");
  y.line(3, "packages: write");
  y.line(2, "steps:");
  checkout_step(y, ws, false);
  install_step(y, ws);
  login_step(y, ws);
  y.line(3, "- name: " + job.step);
  y.line(4, "run: " + job.command);
  notify_step(y, ws, job.project, "\"push\"", {});
}

std::string triggers_comment(const project::Project& p) {
  return "Project " + p.name + " (" + p.path + "): tests on every push and pull request that "
         "touches it, builds and pushes its image from the default branch.";
}

// A matrix key becomes `--build-arg KEY=…`: one the Dockerfile does not
// declare changes nothing but the job's name, silently.
void check_matrix_keys(const project::Project& p, const git::Snapshot& snapshot) {
  if (p.config->ci_matrix.empty())
    return;
  auto text = snapshot.read(p.dockerfile);
  if (!text)
    return;
  auto args = project::declared_args(*text);
  std::string config_file = util::join_path(p.path, "mlrepo.yaml");
  auto config_text = snapshot.read(config_file).value_or("");
  for (const auto& [key, values] : p.config->ci_matrix) {
    if (std::find(args.begin(), args.end(), key) != args.end())
      continue;
    int line = 0, n = 0;
    for (size_t start = 0; start < config_text.size() && line == 0;) {
      size_t end = config_text.find('\n', start);
      ++n;
      auto l = config_text.substr(start, end == std::string::npos ? std::string::npos : end - start);
      auto k = l.find_first_not_of(" \t");
      if (k != std::string::npos && l.compare(k, key.size() + 1, key + ":") == 0)
        line = n;
      start = end == std::string::npos ? config_text.size() : end + 1;
    }
    std::string have;
    for (const auto& a : args)
      have += (have.empty() ? "" : ", ") + a;
    throw ConfigError(config_file, line,
                      "ci.matrix key '" + key + "' is not an ARG of " + p.dockerfile +
                          (have.empty() ? " (it declares no ARGs)" : " (its ARGs: " + have + ")"),
                      "matrix values are passed as --build-arg: rename the key to one of its ARGs, or add 'ARG " +
                          key + "' to the Dockerfile");
  }
}

GeneratedFile project_workflow(const project::Graph& graph, size_t i,
                               const config::WorkspaceConfig& ws, const git::Snapshot& snapshot,
                               const GenerateOptions& opt) {
  const auto& p = graph.projects()[i];
  refuse_unsafe(p.path);
  check_matrix_keys(p, snapshot);
  std::string file = std::string(kWorkflowDir) + "/mlrepo-" + p.name + ".yml";
  Yaml y;
  y.line(0, "name: " + yaml_quote("mlrepo: " + p.name));
  y.blank();
  y.line(0, "on:");
  auto paths = trigger_paths(graph, i, ws, snapshot, file);
  y.line(1, "push:");
  y.line(2, "branches:");
  y.line(3, "- " + yaml_quote(opt.default_branch));
  // The same list twice: YAML anchors are not understood by every tool.
  for (const char* event : {"push", "pull_request"}) {
    if (std::string(event) == "pull_request")
      y.line(1, "pull_request:");
    y.line(2, "paths:");
    for (const auto& path : paths)
      y.line(3, "- " + yaml_quote(path));
  }
  y.line(1, "workflow_dispatch:");
  y.blank();
  top_settings(y, "mlrepo-" + p.name + "-${{ github.ref }}", p.path);
  y.line(0, "jobs:");
  y.line(1, "test:");
  y.line(2, "name: " + yaml_quote("test " + p.name));
  y.line(2, "runs-on: " + yaml_quote(ws.ci.runs_on));
  y.line(2, "timeout-minutes: " + std::to_string(p.config->ci_timeout_minutes));
  const auto& matrix = p.config->ci_matrix;
  if (!matrix.empty()) {
    y.line(2, "strategy:");
    y.line(3, "fail-fast: false");
    y.line(3, "matrix:");
    for (const auto& [key, values] : matrix) {
      y.line(4, key + ":");
      for (const auto& v : values)
        y.line(5, "- " + yaml_quote(v));
    }
  }
  std::string build_args;
  if (!matrix.empty()) {
    y.line(2, "env:");
    for (const auto& [key, values] : matrix) {
      y.line(3, "MATRIX_" + key + ": ${{ matrix." + key + " }}");
      build_args += " --build-arg \"" + key + "=$MATRIX_" + key + "\"";
    }
  }
  y.line(2, "steps:");
  checkout_step(y, ws, false);
  install_step(y, ws);
  bool any = false;
  if (!p.config->lint.empty()) {
    y.line(3, "- name: Lint");
    y.line(4, "run: mlrepo test --only lint" + build_args);
    any = true;
  }
  if (!p.config->test.empty()) {
    y.line(3, "- name: Test");
    y.line(4, "run: mlrepo test --only test" + build_args);
    any = true;
  }
  if (!any) {
    y.line(3, "- name: Build");
    y.line(4, "run: mlrepo build" + build_args);
  }
  check_step(y);
  notify_step(y, ws, p.name, "\"test\"", {});
  if (!ws.registry.empty())
    push_job(y, ws, opt,
             {yaml_quote("build and push " + p.name), "test", "", p.config->ci_timeout_minutes,
              "Build and push", "mlrepo build --push", p.name});
  return {file, header(triggers_comment(p)) + "\n" + y.str()};
}

GeneratedFile matrix_workflow(const config::WorkspaceConfig& ws, const GenerateOptions& opt) {
  std::string file = std::string(kWorkflowDir) + "/mlrepo.yml";
  Yaml y;
  y.line(0, "name: mlrepo");
  y.blank();
  y.line(0, "on:");
  y.line(1, "push:");
  y.line(2, "branches:");
  y.line(3, "- " + yaml_quote(opt.default_branch));
  y.line(1, "pull_request:");
  // Merge queues: checked like a pull request (mlrepo changed reads the
  // merge_group payload); the gate is the check the queue waits for.
  y.line(1, "merge_group:");
  y.line(1, "workflow_dispatch:");
  y.blank();
  top_settings(y, "mlrepo-${{ github.ref }}", "");
  y.line(0, "jobs:");
  y.line(1, "changes:");
  y.line(2, "name: changed projects");
  y.line(2, "runs-on: " + yaml_quote(ws.ci.runs_on));
  y.line(2, "outputs:");
  y.line(3, "matrix: ${{ steps.changed.outputs.matrix }}");
  y.line(3, "any_changed: ${{ steps.changed.outputs.any_changed }}");
  y.line(2, "steps:");
  checkout_step(y, ws, true);
  install_step(y, ws);
  y.line(3, "- name: Find changed projects");
  y.line(4, "id: changed");
  y.line(4, "run: mlrepo changed --format github-matrix --github-output");
  check_step(y);
  y.blank();
  y.line(1, "test:");
  y.line(2, "name: test ${{ matrix.project }}");
  y.line(2, "needs: changes");
  y.line(2, "if: needs.changes.outputs.any_changed == 'true'");
  y.line(2, "runs-on: " + yaml_quote(ws.ci.runs_on));
  y.line(2, "strategy:");
  y.line(3, "fail-fast: false");
  y.line(3, "matrix: ${{ fromJSON(needs.changes.outputs.matrix) }}");
  y.line(2, "env:");
  y.line(3, "PROJECT: ${{ matrix.project }}");
  y.line(2, "steps:");
  checkout_step(y, ws, false);
  install_step(y, ws);
  y.line(3, "- name: Lint and test");
  y.line(4, "run: mlrepo test \"$PROJECT\"");
  std::vector<std::string> gate_needs{"changes", "test"};
  if (!ws.registry.empty()) {
    push_job(y, ws, opt,
             {"build and push", "[changes, test]", " && needs.changes.outputs.any_changed == 'true'",
              std::nullopt, "Build and push what the registry lacks", "mlrepo build --all --push"});
    gate_needs.push_back("push");
  }
  y.blank();
  y.line(1, "gate:");
  y.line(2, "name: mlrepo gate");
  std::string needs;
  for (const auto& n : gate_needs)
    needs += (needs.empty() ? "" : ", ") + n;
  y.line(2, "needs: [" + needs + "]");
  y.line(2, "if: always()");
  y.line(2, "runs-on: " + yaml_quote(ws.ci.runs_on));
  y.line(2, "steps:");
  y.line(3, "- name: Fail when a project job failed");
  y.line(4, "env:");
  for (const auto& n : gate_needs)
    y.line(5, "RESULT_" + std::string(n == "changes" ? "CHANGES" : n == "test" ? "TEST" : "PUSH") +
                  ": ${{ needs." + n + ".result }}");
  y.line(4, "run: |");
  y.line(5, "# skipped is fine: an empty matrix means nothing to test.");
  y.line(5, "status=0");
  y.line(5, "for result in \"$RESULT_CHANGES\" \"$RESULT_TEST\" \"${RESULT_PUSH:-skipped}\"; do");
  y.line(6, "case \"$result\" in");
  y.line(7, "success|skipped) ;;");
  y.line(7, "*) echo \"a project job ended with: $result\"; status=1 ;;");
  y.line(6, "esac");
  y.line(5, "done");
  y.line(5, "exit \"$status\"");
  std::vector<std::pair<std::string, std::string>> results;
  for (const auto& n : gate_needs)
    results.emplace_back("RESULT_" + std::string(n == "changes" ? "CHANGES" : n == "test" ? "TEST" : "PUSH"),
                         "${{ needs." + n + ".result }}");
  notify_step(y, ws, "mlrepo", "$(for j in changes:\"$RESULT_CHANGES\" test:\"$RESULT_TEST\" "
                               "push:\"${RESULT_PUSH:-skipped}\"; do case \"${j#*:}\" in success|skipped) ;; "
                               "*) printf '%s ' \"${j%%:*}\" ;; esac; done)",
              results);
  return {file, header("One workflow for every project: the changed ones fan out as a matrix; the "
                       "gate job is the one required check.") + "\n" + y.str()};
}

} // namespace

std::string yaml_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "''";
    else
      out += c;
  }
  return out + "'";
}

// A literal path as a GitHub `paths:` pattern. GitHub's glob characters are
// escaped. A path component cannot start or end with a space in a GitHub
// pattern (actionlint refuses it), and GitHub's `?` means "the previous
// character, optionally": such spaces become one `*`, which still matches
// the real name (and at worst a sibling that differs only there).
std::string filter_escape(std::string_view path) {
  std::string out;
  size_t component_start = 0;
  for (size_t k = 0; k < path.size(); ++k) {
    char c = path[k];
    if (c == '/')
      component_start = k + 1;
    size_t end = path.find('/', k);
    if (end == std::string_view::npos)
      end = path.size();
    bool leading = path.substr(component_start, k - component_start + 1).find_first_not_of(' ') ==
                   std::string_view::npos;
    bool trailing = path.substr(k, end - k).find_first_not_of(' ') == std::string_view::npos;
    if (c == ' ' && (leading || trailing)) {
      if (out.empty() || out.back() != '*')
        out += '*';
      continue;
    }
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '!' || c == '+' || c == '\\')
      out += '\\';
    out += c;
  }
  return out;
}

// The files that make `mlrepo changed` list project i, as GitHub `paths:`
// patterns, where the last pattern that matches a file decides. Files belong
// to their deepest project, so each project's directory is followed by
// exclusions of the projects nested in it; shallower projects come first, so
// a nested project that is a dependency is included again after its parent
// excluded it. Inputs outside project directories (depends_on paths, COPY
// sources, an outside Dockerfile), global triggers and the workspace config
// come last: they count wherever they are.
std::vector<std::string> trigger_paths(const project::Graph& graph, size_t i,
                                       const config::WorkspaceConfig& ws,
                                       const git::Snapshot& snapshot,
                                       const std::string& workflow_file) {
  const auto& projects = graph.projects();
  std::vector<std::string> out;
  std::set<std::string> seen;
  auto add = [&](std::string pattern) {
    if (seen.insert(pattern).second)
      out.push_back(std::move(pattern));
  };
  auto under = [](const std::string& dir) { return dir.empty() ? std::string("**") : filter_escape(dir) + "/**"; };

  // The project and, transitively, everything it depends on.
  std::vector<size_t> todo{i};
  std::set<size_t> closure;
  while (!todo.empty()) {
    size_t j = todo.back();
    todo.pop_back();
    if (!closure.insert(j).second)
      continue;
    for (size_t d : graph.dependencies(j))
      todo.push_back(d);
  }
  std::vector<size_t> owners(closure.begin(), closure.end());
  auto depth = [&](size_t j) { return std::count(projects[j].path.begin(), projects[j].path.end(), '/'); };
  std::stable_sort(owners.begin(), owners.end(), [&](size_t a, size_t b) {
    return depth(a) != depth(b) ? depth(a) < depth(b) : projects[a].path < projects[b].path;
  });
  for (size_t j : owners) {
    const auto& p = projects[j];
    refuse_unsafe(p.path);
    add(under(p.path));
    // The outermost projects nested in p: their files are theirs.
    std::vector<const std::string*> nested;
    for (const auto& q : projects)
      if (q.path != p.path && util::path_within(q.path, p.path))
        nested.push_back(&q.path);
    std::sort(nested.begin(), nested.end(), [](auto* a, auto* b) { return *a < *b; });
    const std::string* outer = nullptr;
    for (const std::string* n : nested) {
      if (outer && util::path_within(*n, *outer))
        continue;
      outer = n;
      add("!" + under(*n));
    }
  }
  auto add_path = [&](const std::string& path) {
    refuse_unsafe(path);
    if (path.empty())
      add("**");
    else if (snapshot.read(path))
      add(filter_escape(path));
    else
      add(under(path));
  };
  for (size_t j : owners) {
    const auto& p = projects[j];
    for (const auto& d : graph.path_dependencies(j)) {
      if (!d.glob) {
        add_path(d.path);
        continue;
      }
      refuse_unsafe(d.path);
      // Docker's glob characters mean the same to GitHub, but for '+' and a
      // leading '!', which GitHub reads as operators.
      std::string glob;
      for (char c : d.path)
        glob += c == '+' ? std::string("\\+") : std::string(1, c);
      if (!glob.empty() && glob.front() == '!')
        glob.insert(0, "\\");
      add(glob); // a glob matches files, and directories whose files it copies
      add(glob + "/**");
    }
    if (!util::path_within(p.dockerfile, p.path))
      add_path(p.dockerfile);
  }
  for (const auto& g : ws.global_triggers)
    add(g.value);
  add(config::kConfigFile);
  add(filter_escape(workflow_file));
  return out;
}

std::vector<GeneratedFile> generate_workflows(const project::Graph& graph,
                                              const config::WorkspaceConfig& ws,
                                              const git::Snapshot& snapshot,
                                              const GenerateOptions& opt) {
  std::vector<GeneratedFile> out;
  if (opt.mode == config::CiMode::Matrix) {
    out.push_back(matrix_workflow(ws, opt));
    return out;
  }
  for (size_t i = 0; i < graph.projects().size(); ++i)
    if (graph.projects()[i].config->ci_enabled)
      out.push_back(project_workflow(graph, i, ws, snapshot, opt));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return out;
}

} // namespace mlrepo::ci
