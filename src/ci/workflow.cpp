#include "mlrepo/ci/workflow.hpp"

#include "job_workflow.hpp"
#include "pipeline_workflow.hpp"
#include "steps.hpp"

#include "mlrepo/ci/build_jobs.hpp"

#include "mlrepo/project/dockerfile.hpp"
#include "mlrepo/project/dockerignore.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"
#include "mlrepo/util/units.hpp"
#include "mlrepo/version.hpp"

#include <algorithm>
#include <optional>
#include <set>

namespace mlrepo::ci {
namespace {

std::string triggers_comment(const project::Project& p, bool push) {
  return "Project " + p.name + " (" + p.path + "): on every push and pull request that touches it, "
         "builds its image once" + (push ? ", pushes it by content tag, tests that image and, on the "
                                           "default branch, promotes it." : " and tests it.");
}

// The 1-based line where `key:` first starts a line of a YAML text (0: none).
int key_line(const std::string& text, const std::string& key) {
  int n = 0;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    ++n;
    auto l = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    auto k = l.find_first_not_of(" \t");
    if (k != std::string::npos && l.compare(k, key.size() + 1, key + ":") == 0)
      return n;
    start = end == std::string::npos ? text.size() : end + 1;
  }
  return 0;
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
    int line = key_line(config_text, key);
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

// The build secrets of these projects, each variable read from its CI
// secret. One variable read from two CI secrets cannot share a job's env.
SecretEnv build_secrets(const project::Graph& graph, const std::vector<size_t>& indices) {
  SecretEnv out;
  std::map<std::string, const project::Project*> from;
  for (size_t i : indices) {
    const auto& p = graph.projects()[i];
    for (const auto& [id, var] : p.config->secrets) {
      std::string secret = config::ci_secret_for(*p.config, var);
      auto [it, fresh] = out.emplace(var, secret);
      if (fresh) {
        from[var] = &p;
      } else if (it->second != secret) {
        const auto& other = *from[var];
        throw ConfigError(p.config->file, 0,
                          "build secret variable " + var + " is read from the CI secret " + secret + ", but " +
                              other.name + " (" + other.config->file + ") reads it from " + it->second +
                              ", and both build in one job",
                          "use one CI secret for " + var + " in both (ci.secrets), or name the variables apart");
      }
    }
  }
  return out;
}

// Project i and everything it builds FROM: a per-project run builds a
// missing dependency too.
std::vector<size_t> with_dependencies(const project::Graph& graph, size_t i) {
  std::vector<size_t> out, todo{i};
  std::set<size_t> seen;
  while (!todo.empty()) {
    size_t j = todo.back();
    todo.pop_back();
    if (!seen.insert(j).second)
      continue;
    out.push_back(j);
    for (size_t d : graph.dependencies(j))
      todo.push_back(d);
  }
  return out;
}

// On a release tag: the tagged commit's image gets its version tags.
void release_step(Yaml& y, const std::string& condition) {
  y.line(3, "- name: Release the tagged commit's image (VERSION, and the moving tags it outranks)");
  y.line(4, "if: " + condition + "startsWith(github.ref, 'refs/tags/')");
  y.line(4, "run: mlrepo promote --release");
}

GeneratedFile project_workflow(const project::Graph& graph, size_t i,
                               const config::WorkspaceConfig& ws, const git::Snapshot& snapshot,
                               const GenerateOptions& opt) {
  const auto& p = graph.projects()[i];
  refuse_unsafe(p.path);
  check_matrix_keys(p, snapshot);
  bool push = !ws.registry.empty();
  std::string file = std::string(kWorkflowDir) + "/mlrepo-" + p.name + ".yml";
  Yaml y;
  y.line(0, "name: " + yaml_quote("mlrepo: " + p.name));
  y.blank();
  y.line(0, "on:");
  auto paths = trigger_paths(graph, i, ws, snapshot, file);
  y.line(1, "push:");
  y.line(2, "branches:");
  y.line(3, "- " + yaml_quote(opt.default_branch));
  if (push) {
    // Its own release tags only (GitHub does not apply `paths` to tags).
    y.line(2, "tags:");
    y.line(3, "- " + yaml_quote(filter_escape(p.name) + "/v*"));
  }
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
  // One job: the image is built once, and what is tested is what is pushed.
  const std::string timeout = std::to_string(p.config->ci_timeout_minutes);
  job_header(y, ws,
             {.id = "build",
              .name = yaml_quote("build and test " + p.name),
              .timeout_minutes = timeout,
              .permissions = push ? push_permissions(ws) : std::vector<std::string>{}});
  if (push) {
    y.line(2, "env:");
    y.line(3, std::string("PUSH: ") + kCanPush);
  }
  y.line(2, "steps:");
  checkout_step(y, ws, false);
  install_step(y, ws);
  bool tests = !p.config->lint.empty() || !p.config->test.empty();
  // What this run may build: the project and any missing dependency.
  const SecretEnv secrets = build_secrets(graph, with_dependencies(graph, i));
  build_and_test_steps(y, ws, "", tests, secrets);
  if (push) {
    y.line(3, "- name: Promote the tested image (commit, branch and default-branch tags)");
    y.line(4, "if: env.PUSH == 'true' && " + on_default_branch(opt.default_branch));
    y.line(4, "run: mlrepo promote");
    release_step(y, "env.PUSH == 'true' && ");
  }
  check_step(y);
  notify_step(y, ws, p.name, "failed=build", {});

  // Build-argument variants are compatibility checks: built and tested on
  // the runner, never pushed (the shipped image is the one above).
  const auto& matrix = p.config->ci_matrix;
  if (!matrix.empty()) {
    y.blank();
    std::string label;
    for (const auto& [key, values] : matrix)
      label += (label.empty() ? "" : ", ") + std::string("${{ matrix.") + key + " }}";
    job_header(y, ws,
               {.id = "variants",
                .name = yaml_quote("test " + p.name + " (" + label + ")"),
                .condition = "${{ !startsWith(github.ref, 'refs/tags/') }} # a release promotes, it tests no variants",
                .condition_first = true,
                .timeout_minutes = timeout});
    y.line(2, "strategy:");
    y.line(3, "fail-fast: false");
    y.line(3, "matrix:");
    for (const auto& [key, values] : matrix) {
      y.line(4, key + ":");
      for (const auto& v : values)
        y.line(5, "- " + yaml_quote(v));
    }
    y.line(2, "env:");
    std::string build_args;
    for (const auto& [key, values] : matrix) {
      y.line(3, "MATRIX_" + key + ": ${{ matrix." + key + " }}");
      build_args += " --build-arg \"" + key + "=$MATRIX_" + key + "\"";
    }
    y.line(2, "steps:");
    checkout_step(y, ws, false);
    install_step(y, ws);
    y.line(3, tests ? "- name: Lint and test" : "- name: Build");
    secrets_env(y, secrets);
    y.line(4, std::string(tests ? "run: mlrepo test" : "run: mlrepo build") + build_args);
    notify_step(y, ws, p.name, "failed=variants", {});
  }
  if (push && config::deploy_target(ws) != config::JobTarget::Default && p.config->job &&
      config::job_target(*p.config->job, ws) == config::deploy_target(ws))
    deploy_job(y, ws, "build",
               "${{ !cancelled() && !failure() && ((" + on_default_branch(opt.default_branch) +
                   ") || startsWith(github.ref, 'refs/tags/')) }}",
               yaml_quote(p.name));
  return {file, header(triggers_comment(p, push)) + "\n" + y.str()};
}

// Whether any project's job runs where CI deploys (kubernetes.deploy,
// ecs.deploy): only then does CI deploy.
bool any_deployed_job(const project::Graph& graph, const config::WorkspaceConfig& ws) {
  auto where = config::deploy_target(ws);
  for (const auto& p : graph.projects())
    if (p.config->job && where != config::JobTarget::Default && config::job_target(*p.config->job, ws) == where)
      return true;
  return false;
}

// A job scheduled in GitHub Actions on a runner that cannot run it fails
// every night: refused here, every such job at once, with the fix.
void refuse_unrunnable_jobs(const project::Graph& graph, const config::WorkspaceConfig& ws) {
  std::string problems;
  size_t count = 0;
  for (const auto& p : graph.projects()) {
    if (!p.config->ci_enabled || !p.config->job)
      continue;
    const auto& job = *p.config->job;
    if (config::job_target(job, ws) != config::JobTarget::GithubActions)
      continue;
    auto labels = config::runner_labels(job, ws);
    if (!config::github_hosted(labels))
      continue;
    std::string runner;
    for (const auto& l : labels)
      runner += (runner.empty() ? "" : ", ") + l;
    std::string at = p.config->file + ":" + std::to_string(job.runs_on_line ? job.runs_on_line : job.line);
    if (job.gpu > 0) {
      problems += "\n  " + at + ": the job of " + p.name + " asks for " + std::to_string(job.gpu) +
                  " GPU, and it would run in GitHub Actions on the hosted runner " + runner +
                  ", which has none (it would fail every run)";
      ++count;
    }
    if (job.timeout_seconds > kHostedJobMinutes * 60) {
      problems += "\n  " + at + ": the job of " + p.name + " has timeout " +
                  util::format_duration(job.timeout_seconds) + ", above the " + std::to_string(kHostedJobMinutes) +
                  " minutes GitHub's hosted runner " + runner + " allows a job";
      ++count;
    }
  }
  if (count)
    throw UsageError(std::to_string(count) + " job" + (count == 1 ? "" : "s") +
                         " cannot run where " + (count == 1 ? "it is" : "they are") + " scheduled:" + problems,
                     "run it on your own runner ('runs_on: {github-actions: [self-hosted, gpu]}', its labels) or "
                     "on the cluster ('runs_on: kubernetes', with a kubernetes: section); or shorten the timeout");
}

// The build jobs, one per dependency depth (and shard): a depth starts once
// the one before it succeeded or had nothing to build.
void build_job(Yaml& y, const config::WorkspaceConfig& ws, const BuildJob& job,
               const std::vector<BuildJob>& before, const SecretEnv& secrets) {
  bool push = !ws.registry.empty();
  y.blank();
  std::string needs = "changes";
  for (const auto& b : before)
    needs += ", " + b.id();
  std::string has = "needs.changes.outputs." + job.output() + " != ''";
  job_header(y, ws,
             {.id = job.id(),
              .name = "build d" + std::to_string(job.depth) +
                      (job.shards > 1 ? "." + std::to_string(job.shard) : "") + " ${{ matrix.project }}",
              .needs = before.empty() ? needs : "[" + needs + "]",
              .condition = before.empty() ? has : "${{ !cancelled() && !failure() && " + has + " }}",
              // Each project's own ci.timeout_minutes, carried in its matrix entry.
              .timeout_minutes = "${{ matrix.timeout_minutes }}",
              .permissions = push ? push_permissions(ws) : std::vector<std::string>{}});
  y.line(2, "strategy:");
  y.line(3, "fail-fast: false");
  y.line(3, "matrix: ${{ fromJSON(needs.changes.outputs." + job.output() + ") }}");
  y.line(2, "env:");
  y.line(3, "PROJECT: ${{ matrix.project }}");
  if (push)
    y.line(3, std::string("PUSH: ") + kCanPush);
  y.line(2, "steps:");
  checkout_step(y, ws, false);
  install_step(y, ws);
  build_and_test_steps(y, ws, "\"$PROJECT\"", true, secrets);
}

// Matrix mode has no per-project variants job: a ci.matrix there would be
// silently ignored, so it is refused with its line.
void refuse_variants_in_matrix_mode(const project::Graph& graph, const git::Snapshot& snapshot) {
  for (const auto& p : graph.projects()) {
    if (p.config->ci_matrix.empty())
      continue;
    auto text = snapshot.read(p.config->file).value_or("");
    throw ConfigError(p.config->file, key_line(text, "matrix"),
                      "ci.matrix (build-argument variants) is generated only in per-project mode, and the "
                      "workspace sets ci.mode: matrix",
                      "remove ci.matrix from " + p.config->file + ", or use 'ci: {mode: per-project}' in the "
                      "workspace mlrepo.yaml");
  }
}

GeneratedFile matrix_workflow(const project::Graph& graph, const config::WorkspaceConfig& ws,
                              const git::Snapshot& snapshot, const GenerateOptions& opt) {
  refuse_variants_in_matrix_mode(graph, snapshot);
  bool push = !ws.registry.empty();
  auto jobs = build_jobs(graph);
  std::string file = std::string(kWorkflowDir) + "/mlrepo.yml";
  Yaml y;
  y.line(0, "name: mlrepo");
  y.blank();
  y.line(0, "on:");
  y.line(1, "push:");
  y.line(2, "branches:");
  y.line(3, "- " + yaml_quote(opt.default_branch));
  if (push) {
    y.line(2, "tags:");
    y.line(3, "- '**/v*' # releases: <name>/v<VERSION>");
  }
  y.line(1, "pull_request:");
  // Merge queues: checked like a pull request (mlrepo changed reads the
  // merge_group payload); the gate is the check the queue waits for.
  y.line(1, "merge_group:");
  y.line(1, "workflow_dispatch:");
  y.blank();
  top_settings(y, "mlrepo-${{ github.ref }}", "");
  y.line(0, "jobs:");
  job_header(y, ws,
             {.id = "changes",
              .name = "changed projects",
              .condition = push ? "${{ !startsWith(github.ref, 'refs/tags/') }} # a release tag runs the release job"
                                : ""});
  y.line(2, "outputs:");
  y.line(3, "any_changed: ${{ steps.changed.outputs.any_changed }}");
  if (!cluster_pipelines(ws).empty())
    y.line(3, "pipelines: ${{ steps.changed.outputs.pipelines }}");
  for (const auto& job : jobs)
    y.line(3, job.output() + ": ${{ steps.changed.outputs." + job.output() + " }}");
  y.line(2, "steps:");
  checkout_step(y, ws, true);
  install_step(y, ws);
  y.line(3, "- name: Find changed projects");
  y.line(4, "id: changed");
  y.line(4, "run: mlrepo changed --format github-matrix --github-output");
  check_step(y);

  std::vector<std::string> gate_needs{"changes"};
  const auto depths = graph.depths();
  for (const auto& job : jobs) {
    std::vector<BuildJob> previous_depth;
    for (const auto& b : jobs)
      if (b.depth + 1 == job.depth)
        previous_depth.push_back(b);
    std::vector<size_t> at_depth;
    for (size_t k = 0; k < depths.size(); ++k)
      if (depths[k] == job.depth)
        at_depth.push_back(k);
    build_job(y, ws, job, previous_depth, build_secrets(graph, at_depth));
    gate_needs.push_back(job.id());
  }

  std::vector<std::string> build_ids(gate_needs.begin() + 1, gate_needs.end());
  if (push) {
    y.blank();
    std::string needs = "changes";
    for (const auto& id : build_ids)
      needs += ", " + id;
    job_header(y, ws,
               {.id = "promote",
                .name = "promote the tested images",
                .needs = "[" + needs + "]",
                .condition = "${{ !cancelled() && !failure() && " + on_default_branch(opt.default_branch) +
                             " && needs.changes.outputs.any_changed == 'true' }}",
                .permissions = push_permissions(ws)});
    y.line(2, "steps:");
    checkout_step(y, ws, true);
    install_step(y, ws);
    login_step(y, ws, false);
    y.line(3, "- name: Tag the tested images (commit, branch and default-branch tags), registry-side");
    y.line(4, "run: mlrepo promote --changed --ci-only");
    gate_needs.push_back("promote");

    // A release tag names one project: its image at the tagged commit is
    // built and tested if CI never did (a tag on an unbuilt commit), then
    // promoted. The project comes from the tag through GITHUB_REF_NAME, an
    // environment variable, never spliced into the script.
    std::vector<size_t> every(graph.projects().size());
    int timeout = 0; // the longest project's: which one is released is known only at run time
    for (size_t k = 0; k < every.size(); ++k) {
      every[k] = k;
      timeout = std::max(timeout, graph.projects()[k].config->ci_timeout_minutes);
    }
    y.blank();
    job_header(y, ws,
               {.id = "release",
                .name = "release ${{ github.ref_name }}",
                .condition = "startsWith(github.ref, 'refs/tags/')",
                .timeout_minutes = std::to_string(timeout),
                .permissions = push_permissions(ws)});
    y.line(2, "steps:");
    checkout_step(y, ws, false);
    install_step(y, ws);
    login_step(y, ws, false);
    y.line(3, "- name: Build and test the tagged commit's image, if CI never did");
    secrets_env(y, build_secrets(graph, every));
    y.line(4, "run: |");
    y.line(5, "project=\"${GITHUB_REF_NAME%/v*}\"");
    y.line(5, "mlrepo build \"$project\" --push --content-tag-only");
    y.line(5, "mlrepo test \"$project\" --pull");
    release_step(y, "");
    gate_needs.push_back("release");
    auto pipelines = cluster_pipelines(ws);
    if (config::deploy_target(ws) != config::JobTarget::Default &&
        (any_deployed_job(graph, ws) || (ws.kubernetes.deploy && !pipelines.empty()))) {
      // A project changed, or a pipeline on the cluster did (its own spec
      // can change with no project changing).
      std::string changed = " && (needs.changes.outputs.any_changed == 'true'";
      for (const auto& name : pipelines)
        // '[]' when the changes job did not run (a release tag): fromJSON('') is an error.
        changed += " || contains(fromJSON(needs.changes.outputs.pipelines || '[]'), " + yaml_quote(name) + ")";
      changed += ")";
      deploy_job(y, ws, "[changes, promote, release]",
                 "${{ !cancelled() && !failure() && ((" + on_default_branch(opt.default_branch) + changed +
                     ") || startsWith(github.ref, 'refs/tags/')) }}",
                 "--changed");
      gate_needs.push_back("deploy");
    }
  }

  y.blank();
  std::string needs;
  for (const auto& n : gate_needs)
    needs += (needs.empty() ? "" : ", ") + n;
  job_header(y, ws, {.id = "gate", .name = "mlrepo gate", .needs = "[" + needs + "]", .condition = "always()"});
  y.line(2, "steps:");
  y.line(3, "- name: Fail when a project job failed or was cancelled");
  y.line(4, "env:");
  std::vector<std::pair<std::string, std::string>> results;
  for (const auto& n : gate_needs) {
    results.emplace_back(result_variable(n), "${{ needs." + n + ".result }}");
    y.line(5, results.back().first + ": " + results.back().second);
  }
  std::string failed = failed_jobs_script(gate_needs);
  y.line(4, "run: |");
  y.lines(5, failed);
  y.line(5, "if [ -n \"$failed\" ]; then");
  y.line(6, "echo \"::error title=mlrepo gate::failed or cancelled:$failed\"");
  y.line(6, "exit 1");
  y.line(5, "fi");
  y.line(5, "echo \"every project job passed, or had nothing to do\"");
  notify_step(y, ws, "mlrepo", failed, results);
  return {file, header("One workflow for every project: each changed image is built once, by dependency "
                       "depth, and tested as pushed; the gate job is the one required check.") +
                    "\n" + y.str()};
}

} // namespace

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

namespace {

// A .dockerignore pattern as a GitHub `paths:` pattern below `context`, or
// nullopt where GitHub's glob would not say the same: its `?` means "the
// previous character, optionally" and its classes differ. An exception may
// be widened (it then triggers a little more, never less); an exclusion that
// cannot be said exactly is left out for the same reason.
std::optional<std::string> github_ignore_pattern(const std::string& context, const std::string& glob, bool exception) {
  std::string out = context.empty() ? "" : filter_escape(context) + "/";
  for (size_t k = 0; k < glob.size(); ++k) {
    char c = glob[k];
    if (c == '?' || c == '[' || c == ']' || c == '\\') {
      if (!exception)
        return std::nullopt;
      if (c == '[')
        k = std::min(glob.find(']', k), glob.size() - 1);
      else if (c == '\\')
        ++k;
      if (out.empty() || out.back() != '*')
        out += '*';
      continue;
    }
    if (c == ' ' && (k == 0 || glob[k - 1] == '/' || k + 1 == glob.size() || glob[k + 1] == '/'))
      return exception ? std::optional<std::string>(out + "**") : std::nullopt;
    if (c == '+' || (c == '!' && out.empty()))
      out += '\\';
    out += c;
  }
  return out;
}

} // namespace

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
  std::vector<size_t> owners = with_dependencies(graph, i);
  auto depth = [&](size_t j) { return std::count(projects[j].path.begin(), projects[j].path.end(), '/'); };
  std::stable_sort(owners.begin(), owners.end(), [&](size_t a, size_t b) {
    return depth(a) != depth(b) ? depth(a) < depth(b) : projects[a].path < projects[b].path;
  });
  for (size_t j : owners) {
    const auto& p = projects[j];
    refuse_unsafe(p.path);
    add(under(p.path));
    // What its .dockerignore leaves out is no change to it. Said only for a
    // context inside the project's own directory, where the patterns cannot
    // reach another project's files; a wider context's ignore file is left
    // out here, so its workflow may start for a file its build does not see,
    // and then finds its image up to date.
    if (util::path_within(p.context, p.path))
      if (auto file = project::read_dockerignore(p, [&](const std::string& f) { return snapshot.read(f); });
          !file.rules.empty()) {
        const project::DockerIgnore& ignore = file.rules;
        for (const auto& pattern : ignore.patterns())
          if (auto glob = github_ignore_pattern(p.context, pattern.glob, pattern.exception)) {
            add((pattern.exception ? "" : "!") + *glob);
            add((pattern.exception ? "" : "!") + *glob + "/**");
          }
        // Rules exist (the condition above): these files decide what the
        // build sees whatever they say, so they always count.
        const auto& [context_ignore, dockerfile_ignore] = project::dockerignore_paths(p);
        for (const auto& always : {p.dockerfile, util::join_path(p.path, config::kConfigFile), context_ignore,
                                   dockerfile_ignore})
          if (util::path_within(always, p.path))
            add(filter_escape(always));
      }
    // Projects nested in p are not left out: p's build context holds their
    // files, so a change there moves p's content tag and starts p too
    // (unless p's ignore file leaves them out, said above).
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
    for (const auto& ignore_file : project::dockerignore_paths(p))
      if (!util::path_within(ignore_file, p.path))
        add(filter_escape(ignore_file));
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
  if (opt.mode == config::CiMode::Matrix)
    out.push_back(matrix_workflow(graph, ws, snapshot, opt));
  else
    for (size_t i = 0; i < graph.projects().size(); ++i)
      if (graph.projects()[i].config->ci_enabled)
        out.push_back(project_workflow(graph, i, ws, snapshot, opt));
  // Each job's workflow, in both modes: schedules are per job. Only for jobs
  // that run in GitHub Actions (job.runs_on): one on the cluster is a
  // CronJob there, and a workflow too would run it twice.
  refuse_unrunnable_jobs(graph, ws);
  for (const auto& p : graph.projects())
    if (p.config->ci_enabled && p.config->job &&
        config::job_target(*p.config->job, ws) == config::JobTarget::GithubActions)
      out.push_back(job_workflow(p, ws, opt));
  // Each pipeline scheduled in GitHub Actions (on the cluster, its
  // CronWorkflow runs it).
  refuse_unrunnable_pipelines(opt.pipelines, ws);
  for (const auto& plan : opt.pipelines)
    if (has_pipeline_workflow(plan, ws))
      out.push_back(pipeline_workflow(plan, ws, opt));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  // "mlrepo-job-x.yml" is project x's job and project job-x's build;
  // "mlrepo-pipeline-x.yml" pipeline x's and project pipeline-x's.
  for (size_t k = 1; k < out.size(); ++k)
    if (out[k].path == out[k - 1].path)
      throw UsageError("two generated workflows would be " + out[k].path +
                           ": a project named 'job-<name>' (or 'pipeline-<name>') and the job of project '<name>' "
                           "(or the pipeline '<name>')",
                       "rename one of them (a project: name_from, or its directory)");
  return out;
}

} // namespace mlrepo::ci
