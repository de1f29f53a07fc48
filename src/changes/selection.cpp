#include "mlrepo/changes/selection.hpp"

#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"

#include <spdlog/spdlog.h>

namespace mlrepo::changes {
namespace {

using git::oid_hex;

std::string short_sha(const git_oid& oid) { return oid_hex(oid).substr(0, 12); }

bool is_zero_sha(const std::string& sha) {
  return !sha.empty() && sha.find_first_not_of('0') == std::string::npos;
}

// A missing base is either history we lack (exit 3) or a typo (exit 2).
[[noreturn]] void missing_base(const git::Repository& repo, const std::string& rev,
                               const std::string& why) {
  if (rev.empty() && repo.is_shallow())
    throw MissingHistoryError("the base revision (" + why + ") is not known",
                              "pass --base REV, or --all-if-base-missing to count every project");
  if (repo.may_be_beyond_shallow(rev))
    throw MissingHistoryError("the base revision '" + rev + "' (" + why +
                               ") is not in this shallow clone",
                           "fetch more history ('git fetch --unshallow', or in GitHub Actions "
                           "'fetch-depth: 0' on actions/checkout), or pass --all-if-base-missing "
                           "to count every project as changed");
  throw UsageError("unknown base revision '" + rev + "' (" + why + ")", repo.fetch_hint(rev));
}

struct Base {
  std::string rev;  // what to resolve
  std::string rule; // why
};

Selection everything(const git_oid& head, std::string rule) {
  Selection s;
  s.head = head;
  s.everything = true;
  s.rule = std::move(rule);
  return s;
}

} // namespace

std::string default_branch_name(const git::Repository& repo, const config::WorkspaceConfig& ws) {
  if (ws.default_branch)
    return *ws.default_branch;
  if (auto target = repo.symbolic_target("refs/remotes/origin/HEAD")) {
    const std::string prefix = "refs/remotes/origin/";
    if (target->rfind(prefix, 0) == 0)
      return target->substr(prefix.size());
  }
  for (const char* name : {"main", "master"})
    if (repo.has_reference(std::string("refs/remotes/origin/") + name) ||
        repo.has_reference(std::string("refs/heads/") + name))
      return name;
  return "main";
}

std::optional<std::string> default_branch_ref(const git::Repository& repo, const std::string& name) {
  for (const std::string& ref : {"refs/remotes/origin/" + name, "refs/heads/" + name})
    if (repo.has_reference(ref))
      return ref;
  return std::nullopt;
}

namespace {

Selection select_base(const git::Repository& repo, const config::WorkspaceConfig& ws,
                      const SelectionOptions& opt, const context::RunContext& run);

} // namespace

Selection select_revisions(const git::Repository& repo, const config::WorkspaceConfig& ws,
                           const SelectionOptions& opt, const context::RunContext& run) {
  try {
    return select_base(repo, ws, opt, run);
  } catch (const MissingHistoryError& e) {
    // Whichever way the base went missing (a push's 'before', a pull
    // request's base, the default branch, a merge-base past the boundary),
    // the escape hatch is the same.
    if (!opt.all_if_base_missing)
      throw;
    spdlog::warn("{}: EVERY project counts as changed (--all-if-base-missing)", e.what());
    bool in_ci = run.ci();
    Selection s = everything(repo.require_commit(opt.head, "head"), "base missing from this clone");
    s.uncommitted = opt.uncommitted.value_or(!in_ci && opt.head == "HEAD");
    return s;
  }
}

namespace {

Selection select_base(const git::Repository& repo, const config::WorkspaceConfig& ws,
                      const SelectionOptions& opt, const context::RunContext& run) {
  const bool head_is_HEAD = opt.head == "HEAD";
  if (opt.uncommitted.value_or(false) && !head_is_HEAD)
    throw UsageError("--uncommitted only applies when --head is HEAD (it is '" + opt.head + "')",
                     "drop --uncommitted, or drop --head");
  const bool in_ci = run.ci();
  const bool uncommitted = opt.uncommitted.value_or(!in_ci && head_is_HEAD);

  git_oid head = repo.require_commit(opt.head, "head");
  std::optional<Base> base;
  std::string dflt = default_branch_name(repo, ws);
  auto default_base = [&](const std::string& why) -> Base {
    auto ref = default_branch_ref(repo, dflt);
    if (!ref) {
      if (repo.is_shallow())
        throw MissingHistoryError("the default branch '" + dflt + "' is not in this shallow clone (" +
                                   why + ")",
                               "fetch it ('git fetch origin " + dflt +
                                   "', or 'fetch-depth: 0' on actions/checkout), or pass --base REV");
      throw UsageError("the default branch '" + dflt + "' exists neither as origin/" + dflt +
                           " nor as a local branch",
                       "set 'default_branch:' in mlrepo.yaml, fetch it, or pass --base REV");
    }
    return {*ref, "merge-base with the default branch " + *ref + " (" + why + ")"};
  };

  if (opt.base) {
    base = Base{*opt.base, "--base " + *opt.base};
  } else if (const auto& hint = run.change_hint(); hint.kind != context::ChangeHint::Kind::None) {
    using Kind = context::ChangeHint::Kind;
    const std::string& event_name = hint.event;
    if (hint.kind == Kind::Push) {
      const std::string& before = hint.before;
      const std::string& after = hint.after;
      bool zero = before.empty() || is_zero_sha(before);
      bool known = !zero && repo.resolve_commit(before);
      if (!zero && !known && repo.is_shallow()) // not a force push: history we lack
        missing_base(repo, before, "the push event's 'before'");
      if (known) {
        base = Base{before, "push event: the pushed range " + before.substr(0, 12) + ".." +
                                (after.empty() ? std::string("HEAD") : after.substr(0, 12))};
      } else {
        std::string why = zero
                              ? "push event of a new branch or tag (zero 'before')"
                              : "push event whose 'before' " + before.substr(0, 12) +
                                    " is not in this clone (force push or shallow clone)";
        base = default_base(why);
        auto mb_oid = repo.resolve_commit(base->rev);
        auto mb = mb_oid ? repo.merge_base(*mb_oid, head) : std::nullopt;
        if (mb && git::same(*mb, head)) {
          // The pushed commits are already on the default branch: the
          // fallback would say "nothing changed", which we cannot know.
          spdlog::warn("{}, and HEAD is already on {}: cannot tell what the push changed, so "
                       "every project counts as changed",
                       why, base->rev);
          return everything(head, why + " on the default branch: every project counts");
        }
      }
    } else if (hint.kind == Kind::PullRequest) {
      const std::string& base_sha = hint.base_sha;
      const std::string& base_ref = hint.base_ref;
      if (!base_sha.empty() && repo.resolve_commit(base_sha))
        base = Base{base_sha, event_name + " event: merge-base with the target branch " + base_ref +
                                  " at " + base_sha.substr(0, 12)};
      else if (!base_ref.empty() && repo.resolve_commit("refs/remotes/origin/" + base_ref))
        base = Base{"refs/remotes/origin/" + base_ref,
                    event_name + " event: merge-base with the target branch origin/" + base_ref};
      else
        missing_base(repo, base_sha.empty() ? base_ref : base_sha,
                     event_name + " target branch " + base_ref);
      if (hint.checks_out_target && head_is_HEAD) {
        // The run checked out the target branch; measure the pull request's head.
        auto base_oid = repo.resolve_commit(base->rev);
        const std::string& pr_head = hint.head_sha;
        if (base_oid && git::same(*base_oid, head)) {
          auto pr = repo.resolve_commit(pr_head);
          if (!pr)
            throw EnvironmentError("pull_request_target: HEAD is the target branch and the pull "
                                   "request head " + pr_head.substr(0, 12) + " is not in this clone",
                                   "check out the pull request head (actions/checkout with "
                                   "'ref: ${{ github.event.pull_request.head.sha }}') or pass --head");
          head = *pr;
        }
      }
    } else if (hint.kind == Kind::MergeQueue) {
      const std::string& base_sha = hint.base_sha;
      if (base_sha.empty() || !repo.resolve_commit(base_sha))
        missing_base(repo, base_sha, "merge_group base_sha");
      base = Base{base_sha, "merge_group event: the queue's base " + base_sha.substr(0, 12)};
    } else if (hint.kind == Kind::Everything) {
      spdlog::info("base: {} event: every project counts as changed (pass --base to narrow it)",
                   event_name);
      auto s = everything(head, event_name + " event: every project counts as changed");
      s.uncommitted = false;
      return s;
    } else {
      base = default_base(event_name + " event");
    }
  } else {
    base = default_base(in_ci ? "CI default" : "local default");
  }

  Selection sel;
  sel.head = head;
  sel.uncommitted = uncommitted;
  sel.rule = base->rule;
  auto base_oid = repo.resolve_commit(base->rev);
  if (!base_oid)
    missing_base(repo, base->rev, base->rule);
  std::optional<git_oid> mb = repo.merge_base(*base_oid, head);
  if (!mb) {
    if (opt.all_if_base_missing) {
      spdlog::warn("no merge-base between {} and {} in this clone: EVERY project counts as "
                   "changed (--all-if-base-missing)", base->rev, opt.head);
      auto s = everything(head, "no merge-base with " + base->rev);
      s.uncommitted = uncommitted;
      return s;
    }
    throw UsageError("'" + base->rev + "' and '" + opt.head + "' share no history (no merge-base)",
                     "pass a --base that shares history with the head");
  }
  sel.merge_base = *mb;
  spdlog::info("base: {} = {}{}", sel.rule, short_sha(*mb),
               uncommitted ? ", plus uncommitted work" : "");
  return sel;
}

} // namespace

} // namespace mlrepo::changes
