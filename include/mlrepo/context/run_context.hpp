#pragma once
// Where this run happens: which CI provider (or none), the event that started
// it, its refs, whether it has the repository's secrets, and where its
// summary and outputs go. Detected once from the environment through a table
// of providers (context/providers.cpp); the rest of mlrepo asks this object
// and never reads a provider's variables itself. Depends on util/ only.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace mlrepo::context {

// Reads one environment variable; the process's own, or a test's.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_env();

// What the event that started the run says about the change it checks.
struct ChangeHint {
  enum class Kind {
    None,        // no event (a laptop, or a provider without one)
    Push,        // a push: `before`..`after`
    PullRequest, // a pull request into `base_ref` at `base_sha`, its head at `head_sha`
    MergeQueue,  // a merge queue's group on `base_sha`
    Everything,  // a schedule or a run by hand: no change to measure
    Other,       // another event: measured against the default branch
  };
  Kind kind = Kind::None;
  std::string event; // the provider's name for it: push, pull_request_target, schedule
  std::string before, after;
  std::string base_sha, base_ref, head_sha;
  // Where a pull request's head lives ("owner/name"): a fork gets no secrets.
  std::string head_repo;
  // The run checked out the target branch, not the change (pull_request_target).
  bool checks_out_target = false;
};

struct Provider;

class RunContext {
public:
  // The first provider of the table whose detect() accepts the environment;
  // "local" when none does.
  static RunContext detect(EnvLookup env);
  // A run with no CI provider and an empty environment.
  RunContext();

  std::string_view provider() const; // "github-actions", "local"
  bool github_actions() const { return provider() == "github-actions"; }
  // A CI run of any kind: a provider, or CI set (and not "false"/"0").
  bool ci() const { return ci_; }
  // The event that started the run ("push", "schedule"), empty when none.
  const std::string& event() const { return event_; }
  // The full ref of the event (refs/heads/main, refs/tags/app/v1.0.0).
  const std::optional<std::string>& ref() const { return ref_; }
  // Where ref() comes from, for a message that it is missing ("GITHUB_REF").
  std::string_view ref_variable() const;
  // The branch being built: a pull request's head branch, else the pushed
  // branch; none for a tag.
  const std::optional<std::string>& branch() const { return branch_; }
  // The repository's web address (for the image's source label), or empty.
  const std::string& source_url() const { return source_url_; }
  // Files the provider shows: the run's summary (Markdown), step outputs.
  const std::optional<std::string>& step_summary() const { return step_summary_; }
  const std::optional<std::string>& outputs() const { return outputs_; }
  // A run the provider gives no repository secrets (a fork's pull request,
  // Dependabot's). False when the event cannot be read.
  bool secrets_withheld() const;
  // The event's change, read on first use (the payload may be a file):
  // throws EnvironmentError/UsageError when it cannot be read.
  const ChangeHint& change_hint() const;

  // Any other variable: secrets by the name the user chose, NO_COLOR.
  std::optional<std::string> operator()(const std::string& name) const { return env_(name); }
  const EnvLookup& env() const { return env_; }

private:
  friend struct Provider;
  EnvLookup env_;
  const Provider* provider_ = nullptr;
  bool ci_ = false;
  std::string event_;
  std::optional<std::string> ref_, branch_, step_summary_, outputs_;
  std::string source_url_;
  // Filled by change_hint() on first use; shared so copies share the read.
  std::shared_ptr<std::optional<ChangeHint>> hint_ = std::make_shared<std::optional<ChangeHint>>();
};

// One CI provider: how to recognise its environment and read a run from it.
// The next provider (GitLab CI, say) is one more row in providers.cpp, before
// the last row ("local"), which recognises every environment.
struct Provider {
  const char* name;
  const char* ref_variable;    // where the event's ref is read, for messages
  const char* reserved_prefix; // variable names the provider keeps for itself ("" for none)
  bool (*detect)(const EnvLookup& env);
  void (*read)(RunContext& run, const EnvLookup& env);
  ChangeHint (*change)(const EnvLookup& env);
  // From the event's change, read once (`change` above).
  bool (*secrets_withheld)(const EnvLookup& env, const ChangeHint& change);

  // For rows: the context's fields.
  static void set_event(RunContext& run, std::string v) { run.event_ = std::move(v); }
  static void set_ref(RunContext& run, std::optional<std::string> v) { run.ref_ = std::move(v); }
  static void set_branch(RunContext& run, std::optional<std::string> v) { run.branch_ = std::move(v); }
  static void set_source_url(RunContext& run, std::string v) { run.source_url_ = std::move(v); }
  static void set_step_summary(RunContext& run, std::optional<std::string> v) { run.step_summary_ = std::move(v); }
  static void set_outputs(RunContext& run, std::optional<std::string> v) { run.outputs_ = std::move(v); }
};

} // namespace mlrepo::context
