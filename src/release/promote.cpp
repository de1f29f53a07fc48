#include "mlrepo/release/promote.hpp"

#include "mlrepo/choose.hpp"
#include "mlrepo/tools.hpp"
#include "mlrepo/release/tags.hpp"

#include "mlrepo/build/build.hpp"
#include "mlrepo/build/plan.hpp"
#include "mlrepo/git/handles.hpp"
#include "mlrepo/project/select.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"
#include "mlrepo/util/image_ref.hpp"
#include "mlrepo/workspace.hpp"

#include <atomic>
#include <exception>
#include <mutex>
#include <regex>
#include <spdlog/spdlog.h>
#include <thread>

namespace mlrepo::release {
namespace {

// Docker's tag grammar.
bool valid_tag(const std::string& tag) {
  static const std::regex pattern("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  return std::regex_match(tag, pattern);
}

void require_registry(const View& view) {
  if (view.config.registry.empty())
    throw UsageError("promotion copies tags inside a registry, and mlrepo.yaml sets no 'registry:'",
                     "add e.g. 'registry: ghcr.io/<owner>' to mlrepo.yaml, then 'mlrepo build --push'");
}

void promote_one(registry::Client& client, PromoteResult& r, bool dry_run) {
  auto source = registry::parse_image_name(r.image);
  registry::Manifest manifest;
  try {
    manifest = client.get_manifest(source);
  } catch (const registry::RegistryError& e) {
    if (e.status() != 404)
      throw;
    r.status = PromoteStatus::Missing;
    r.error = r.image + " is not in the registry";
    r.hint = "build and push it first: 'mlrepo build --push " + r.name + "' at this commit";
    return;
  }
  r.digest = manifest.info.digest;
  if (dry_run) {
    r.status = PromoteStatus::Planned;
    return;
  }
  client.put_tags(manifest, r.tags, [&r](const std::string& tag) { r.written.push_back(tag); });
  r.status = PromoteStatus::Promoted;
}

} // namespace

const char* status_name(PromoteStatus s) {
  switch (s) {
  case PromoteStatus::Promoted: return "promoted";
  case PromoteStatus::Planned: return "planned";
  case PromoteStatus::Missing: return "missing";
  case PromoteStatus::Failed: return "failed";
  }
  return "?";
}

bool PromoteOutcome::any_failed() const {
  for (const auto& r : results)
    if (r.status == PromoteStatus::Missing || r.status == PromoteStatus::Failed)
      return true;
  return false;
}

namespace {

// What is promoted: a release tag's commit, the head of a change range, or HEAD.
struct Source {
  git_oid commit{};
  std::optional<ReleaseRef> release;
  std::optional<ChangesResult> changes;
};

Source promoted_commit(const git::Repository& repo, const PromoteOptions& opt, const context::RunContext& env) {
  Source src;
  if (opt.release) {
    std::string ref = opt.ref.value_or(env.ref().value_or(""));
    if (ref.empty())
      throw UsageError("--release needs the release tag: " + std::string(env.ref_variable()) + " is not set",
                       "pass --ref refs/tags/<project>/v<VERSION>");
    src.release = parse_release_ref(ref);
    std::string full = ref.rfind("refs/tags/", 0) == 0 ? ref : "refs/tags/" + ref;
    src.commit = repo.require_commit(full, "release tag");
    // A tag pushed by hand was never checked by 'mlrepo release'.
    refuse_release_over_newer(repo, src.release->project, src.release->version, src.commit);
  } else if (opt.changed) {
    auto selection = opt.selection;
    selection.uncommitted = false; // promotion is of what was committed and pushed
    src.changes = find_changes(repo, selection, env);
    src.commit = src.changes->selection.head;
  } else {
    src.commit = repo.require_commit("HEAD", "HEAD");
  }
  return src;
}

// Promotion names images of a commit, so the committed config decides the
// registry; a different work-tree config is said, not silently ignored.
View committed_view(const git::Repository& repo, const PromoteOptions& opt, const Source& src) {
  // Named projects are promoted despite an invalid directory elsewhere.
  bool named = !src.release && !opt.all && !src.changes;
  View view = open_view(repo, src.commit, ViewOptions{.skip_invalid = named});
  require_registry(view);
  auto committed_config = view.snapshot->read(config::kConfigFile).value_or("");
  auto worktree_config = util::read_file(util::join_path(repo.workdir(), config::kConfigFile)).value_or("");
  if (committed_config != worktree_config)
    spdlog::warn("the work tree's {} differs from commit {}'s; promote uses the committed one (registry {})",
                 config::kConfigFile, git::oid_hex(src.commit).substr(0, 12), view.config.registry);
  else
    spdlog::debug("registry: {}", view.config.registry);
  return view;
}

std::vector<size_t> promoted_projects(const git::Repository& repo, const PromoteOptions& opt, const Source& src,
                                      const View& view) {
  const auto& graph = view.graph;
  std::vector<size_t> chosen;
  if (src.release) {
    auto i = graph.find(src.release->project);
    if (!i || graph.projects()[*i].name != src.release->project)
      throw UsageError("the release tag names the project '" + src.release->project + "', which commit " +
                           git::oid_hex(src.commit).substr(0, 12) + " does not have",
                       "'mlrepo list --rev " + git::oid_hex(src.commit).substr(0, 12) + "' shows its projects");
    chosen.push_back(*i);
  } else {
    auto picked = choose_projects(repo, view,
                                  options_choice(opt.projects, opt.all, opt.cwd, src.changes ? &*src.changes : nullptr));
    if (!picked) {
      std::string example = graph.projects().empty() ? "NAME" : graph.projects()[0].name;
      throw UsageError("which projects? Name them, or use --changed or --all",
                       "e.g. 'mlrepo promote " + example + " --tag stable'");
    }
    chosen = std::move(*picked);
  }
  if (opt.ci_only)
    std::erase_if(chosen, [&](size_t i) {
      bool off = !graph.projects()[i].config->ci_enabled;
      if (off)
        spdlog::info("{}: not promoted: ci.enabled is false", graph.projects()[i].name);
      return off;
    });
  return chosen;
}

// --tag templates expanded for this commit and branch.
std::vector<std::string> requested_tags(const PromoteOptions& opt, const Source& src, const std::string& branch,
                                        const std::string& commit) {
  if (src.release && !src.release->version.build.empty())
    throw UsageError("the release tag's version " + src.release->version.str() +
                     " has build metadata ('+'), which a Docker tag cannot hold");
  std::vector<std::string> tags;
  for (const auto& tmpl : opt.tags) {
    if (tmpl.find("{branch}") != std::string::npos && branch.empty())
      throw UsageError("--tag '" + tmpl + "' uses {branch}, and HEAD is on no branch",
                       "check out a branch, or use {short_sha}");
    std::string tag = build::expand_tag(tmpl, branch, commit.substr(0, 12));
    if (!valid_tag(tag))
      throw UsageError("--tag '" + tmpl + "' gives '" + tag + "', which is not a Docker tag",
                       "tags are up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'");
    tags.push_back(tag);
  }
  return tags;
}

// Which moving tags this release may take: every release git knows of, and
// every version the registry already holds (a CI checkout may lack some
// tags), so that latest, MAJOR and MAJOR.MINOR never move back.
std::vector<std::string> release_moving_tags(const git::Repository& repo, registry::Client& client,
                                             const ReleaseRef& release, const std::string& content_ref) {
  auto released = released_versions(repo)[release.project];
  for (const auto& tag : client.list_tags(registry::parse_image_name(content_ref)))
    if (auto v = parse_version(tag); v && v->build.empty())
      released.push_back(*v);
  released.push_back(release.version);
  auto tags = release_tags(release.version, released);
  for (const auto& t : release_tags(release.version, {}))
    if (std::find(tags.begin(), tags.end(), t) == tags.end())
      spdlog::info("{}: {} does not get '{}': a higher release holds it", release.project, release.version.str(), t);
  return tags;
}

// Copies the manifests, several projects at a time. A project's failure is
// its result; the machine's (no registry, Ctrl-C) is raised after the others finish.
void copy_manifests(registry::Client& client, const std::vector<build::PlanItem>& plan, const std::vector<std::string>& tags,
                    bool own_tags, const PromoteOptions& opt, PromoteOutcome& out) {
  out.results.resize(plan.size());
  std::atomic<size_t> next{0};
  std::mutex report;
  std::exception_ptr fatal;
  auto work = [&] {
    for (size_t i; (i = next++) < plan.size();) {
      auto& r = out.results[i];
      r.name = plan[i].name;
      r.image = plan[i].content_ref;
      for (const auto& t : tags)
        r.tags.push_back(util::strip_tag(plan[i].content_ref) + ":" + t);
      // Neither --tag nor --release: the tags `mlrepo build --push` would
      // have pushed (commit, `tags:`, `default_branch_tags:` on the default
      // branch), for CI that builds content tags only and promotes on success.
      if (own_tags)
        r.tags.assign(plan[i].tags.begin() + 1, plan[i].tags.end());
      try {
        if (util::interrupted())
          throw Error(ExitCode::Interrupted, "interrupted");
        promote_one(client, r, opt.dry_run);
      } catch (const Error& e) {
        r.status = PromoteStatus::Failed;
        r.error = e.what();
        r.hint = e.hint();
        if (e.code() == ExitCode::Environment || e.code() == ExitCode::Interrupted) {
          std::lock_guard lock(report);
          if (!fatal)
            fatal = std::current_exception();
          continue;
        }
      }
      if (opt.on_result) {
        std::lock_guard lock(report);
        opt.on_result(r);
      }
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 0; t < std::min<size_t>(plan.size(), 8); ++t)
    pool.emplace_back(work);
  for (auto& t : pool)
    t.join();
  if (fatal)
    std::rethrow_exception(fatal);
}

} // namespace

// The passes: the commit whose images are promoted, its committed view, the
// projects, the tags each gets, and the registry-side copies.
PromoteOutcome run_promote(const git::Repository& repo, const PromoteOptions& opt, Tools& tools) {
  const auto& env = tools.run();
  require_one_way({opt.changed, opt.all, !opt.projects.empty(), opt.release},
                  "PROJECT..., --changed, --all or --release");
  if (opt.release && !opt.tags.empty())
    throw UsageError("--release chooses the tags itself (VERSION, MAJOR.MINOR, MAJOR, latest); drop --tag");

  const Source src = promoted_commit(repo, opt, env);
  const View view = committed_view(repo, opt, src);
  const auto chosen = promoted_projects(repo, opt, src, view);

  PromoteOutcome out;
  out.commit = git::oid_hex(src.commit);
  if (src.release)
    out.release = src.release->version.str();
  if (chosen.empty())
    return out;

  auto inputs = build::plan_inputs(repo, view.config, env);
  auto tags = requested_tags(opt, src, inputs.branch ? build::tag_safe(*inputs.branch) : "", out.commit);
  auto plan = build::plan_commit(repo, view, src.commit, chosen, env);
  auto& client = tools.registry(opt.client);
  if (src.release)
    tags = release_moving_tags(repo, client, *src.release, plan.at(0).content_ref);
  copy_manifests(client, plan, tags, !src.release && opt.tags.empty(), opt, out);
  return out;
}

} // namespace mlrepo::release
