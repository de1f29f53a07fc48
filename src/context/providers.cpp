// The CI providers mlrepo knows, one row each: GitHub Actions, then the local
// fallback. Only this file (and the workflow generator in ci/) knows GitHub's
// variable names and event payloads.
#include "mlrepo/context/providers.hpp"

#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"

#include <iterator>
#include <nlohmann/json.hpp>

namespace mlrepo::context {
namespace {

std::optional<std::string> non_empty(const std::optional<std::string>& v) {
  return v && !v->empty() ? v : std::nullopt;
}

// --- GitHub Actions ---------------------------------------------------------

std::string json_string(const nlohmann::json& j, std::initializer_list<const char*> path) {
  const nlohmann::json* cur = &j;
  for (const char* key : path) {
    if (!cur->is_object() || !cur->contains(key))
      return {};
    cur = &(*cur)[key];
  }
  return cur->is_string() ? cur->get<std::string>() : std::string{};
}

nlohmann::json github_event(const EnvLookup& env) {
  auto path = env("GITHUB_EVENT_PATH");
  if (!path || path->empty())
    return nlohmann::json::object();
  auto content = util::read_file(*path);
  if (!content)
    throw EnvironmentError("cannot read the GitHub event payload '" + *path + "' (GITHUB_EVENT_PATH)",
                           "pass --base REV to choose the base yourself");
  try {
    return nlohmann::json::parse(*content);
  } catch (const nlohmann::json::exception& e) {
    throw UsageError("the GitHub event payload '" + *path + "' is not valid JSON: " + e.what(),
                     "pass --base REV to choose the base yourself");
  }
}

bool github_detect(const EnvLookup& env) { return env("GITHUB_ACTIONS").value_or("") == "true"; }

// The ref, the repository's address and the files a step writes: also read
// outside Actions, where a script or test imitating a workflow step sets them.
void github_files(RunContext& run, const EnvLookup& env) {
  Provider::set_ref(run, non_empty(env("GITHUB_REF")));
  auto server = non_empty(env("GITHUB_SERVER_URL"));
  auto repository = non_empty(env("GITHUB_REPOSITORY"));
  if (server && repository)
    Provider::set_source_url(run, *server + "/" + *repository);
  Provider::set_step_summary(run, non_empty(env("GITHUB_STEP_SUMMARY")));
  Provider::set_outputs(run, non_empty(env("GITHUB_OUTPUT")));
}

void github_read(RunContext& run, const EnvLookup& env) {
  github_files(run, env);
  Provider::set_event(run, env("GITHUB_EVENT_NAME").value_or(""));
  // A pull request builds its head branch; a push its branch; a tag none.
  if (auto head_ref = non_empty(env("GITHUB_HEAD_REF")))
    Provider::set_branch(run, head_ref);
  else if (auto ref_name = non_empty(env("GITHUB_REF_NAME"));
           ref_name && env("GITHUB_REF_TYPE").value_or("branch") == "branch")
    Provider::set_branch(run, ref_name);
}

ChangeHint github_change(const EnvLookup& env) {
  ChangeHint hint;
  auto name = env("GITHUB_EVENT_NAME");
  if (!name)
    return hint;
  hint.event = *name;
  auto event = github_event(env);
  if (hint.event == "push") {
    hint.kind = ChangeHint::Kind::Push;
    hint.before = json_string(event, {"before"});
    hint.after = json_string(event, {"after"});
  } else if (hint.event == "pull_request" || hint.event == "pull_request_target") {
    hint.kind = ChangeHint::Kind::PullRequest;
    hint.base_sha = json_string(event, {"pull_request", "base", "sha"});
    hint.base_ref = json_string(event, {"pull_request", "base", "ref"});
    hint.head_sha = json_string(event, {"pull_request", "head", "sha"});
    hint.head_repo = json_string(event, {"pull_request", "head", "repo", "full_name"});
    hint.checks_out_target = hint.event == "pull_request_target";
  } else if (hint.event == "merge_group") {
    hint.kind = ChangeHint::Kind::MergeQueue;
    hint.base_sha = json_string(event, {"merge_group", "base_sha"});
  } else if (hint.event == "workflow_dispatch" || hint.event == "schedule") {
    hint.kind = ChangeHint::Kind::Everything;
  } else {
    hint.kind = ChangeHint::Kind::Other;
  }
  return hint;
}

// GitHub gives Dependabot's runs and pull requests from forks no secrets.
bool github_secrets_withheld(const EnvLookup& env, const ChangeHint& change) {
  if (env("GITHUB_ACTOR").value_or("") == "dependabot[bot]")
    return true;
  if (change.event != "pull_request")
    return false;
  return !change.head_repo.empty() && change.head_repo != env("GITHUB_REPOSITORY").value_or("");
}

// --- local: no provider -----------------------------------------------------

bool local_detect(const EnvLookup&) { return true; }
void local_read(RunContext& run, const EnvLookup& env) { github_files(run, env); }
ChangeHint local_change(const EnvLookup&) { return {}; }
bool local_secrets_withheld(const EnvLookup&, const ChangeHint&) { return false; }

// Tried in order; the last row recognises every environment.
const Provider kProviders[] = {
    {"github-actions", "GITHUB_REF", "GITHUB_", github_detect, github_read, github_change, github_secrets_withheld},
    {"local", "GITHUB_REF", "", local_detect, local_read, local_change, local_secrets_withheld},
};

} // namespace

std::span<const Provider> providers() { return kProviders; }

std::vector<std::string_view> reserved_variable_prefixes() {
  std::vector<std::string_view> out;
  for (const auto& p : kProviders)
    if (*p.reserved_prefix)
      out.push_back(p.reserved_prefix);
  return out;
}
const Provider& local_provider() { return kProviders[std::size(kProviders) - 1]; }

} // namespace mlrepo::context
