#include "mlrepo/deploy/render.hpp"
#include "mlrepo/tools.hpp"

#include "mlrepo/build/build.hpp"
#include "mlrepo/build/plan.hpp"
#include "mlrepo/project/select.hpp"
#include "mlrepo/choose.hpp"
#include "mlrepo/deploy/target.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/image_ref.hpp"
#include "mlrepo/workspace.hpp"

#include <filesystem>
#include <set>
#include <spdlog/spdlog.h>

namespace mlrepo::deploy {

namespace fs = std::filesystem;

// Where manifests go, spelt one way whatever way the user wrote it: -o is
// read from the directory the command ran in (kubernetes.dir from the
// repository root), symlinks and '..' resolved, then repo-relative when it
// lies inside the repository and absolute otherwise. The sync compares the
// files it wants with the files it finds by this spelling, so two spellings
// of one directory must never differ (an absolute -o once deleted its own
// output as "obsolete").
std::string output_dir(const std::optional<std::string>& out_dir, const std::string& configured,
                       const std::string& cwd, const std::string& workdir) {
  fs::path given = out_dir ? fs::path(*out_dir) : fs::path(configured);
  fs::path base = out_dir && !cwd.empty() ? fs::path(cwd) : fs::path(workdir);
  std::error_code ec;
  fs::path full = fs::weakly_canonical(given.is_absolute() ? given : base / given, ec);
  if (ec)
    full = (given.is_absolute() ? given : base / given).lexically_normal();
  fs::path root = fs::weakly_canonical(workdir, ec);
  fs::path rel = full.lexically_relative(root);
  std::string spelt = rel.generic_string();
  if (!rel.empty() && spelt != ".." && !spelt.starts_with("../"))
    spelt = spelt == "." ? "" : spelt;
  else
    spelt = full.generic_string();
  while (spelt.size() > 1 && spelt.back() == '/')
    spelt.pop_back();
  if (spelt.empty())
    throw UsageError("manifests are not written to the repository's root directory",
                     "name a directory for them with -o DIR (or kubernetes.dir in mlrepo.yaml)");
  return spelt;
}

namespace {

// The projects whose images uncommitted changes in the work tree reach,
// among `paths` (asked only for projects whose committed image is missing,
// so the work tree is opened and planned once, for all of them).
std::set<std::string> dirty_in_worktree(const git::Repository& repo, const std::vector<std::string>& paths,
                                        const context::RunContext& env) {
  std::set<std::string> out;
  if (paths.empty())
    return out;
  try {
    View worktree = open_view(repo, std::nullopt, ViewOptions{.skip_invalid = true});
    auto inputs = build::plan_inputs(repo, worktree.config, env);
    // One plan each: a dirty base reaches every image built FROM it.
    for (const auto& path : paths)
      if (auto i = worktree.graph.find(path))
        for (const auto& item : build::make_plan(repo, worktree.config, worktree.graph, {*i}, inputs))
          if (item.dirty)
            out.insert(path);
  } catch (const Error&) {
    // The work tree does not plan (a broken config there): say nothing of it.
  }
  return out;
}

// An environment rendered from a branch other than the default pins that
// branch's images: allowed (a staging try-out), but said.
void warn_env_off_default_branch(const git::Repository& repo, const config::WorkspaceConfig& ws,
                                 const RenderOptions& opt, const context::RunContext& env) {
  if (!opt.env || opt.release)
    return;
  auto inputs = build::plan_inputs(repo, ws, env);
  if (inputs.branch && !inputs.on_default_branch) {
    std::string default_branch = changes::default_branch_name(repo, ws);
    spdlog::warn("rendering the environment {} from the branch {}: the manifests pin this branch's images, not "
                 "{}'s (render on {}, or use --release VERSION)",
                 *opt.env, *inputs.branch, default_branch, default_branch);
  }
}

} // namespace

void missing_image_problems(const git::Repository& repo,
                            const std::vector<std::pair<const project::Project*, std::string>>& missing, bool release,
                            const context::RunContext& env, Problems& problems) {
  if (missing.empty())
    return;
  std::vector<std::string> paths;
  for (const auto& [p, what] : missing)
    paths.push_back(p->path);
  auto dirty = release ? std::set<std::string>{} : dirty_in_worktree(repo, paths, env);
  for (const auto& [p, what] : missing)
    if (dirty.count(p->path))
      problems.push_back(std::make_shared<Error>(
          ExitCode::WorkFailed,
          what + "; render pins the commit at HEAD, and uncommitted changes reach " + p->name + "'s image",
          "commit first (then push and let CI build it, or 'mlrepo build --push " + p->name +
              "'): 'build --push' now would push the uncommitted image under its own content tag"));
    else
      problems.push_back(std::make_shared<Error>(
          ExitCode::WorkFailed, what,
          "push the commit and let CI build it, or run 'mlrepo build --push " + p->name + "'"));
}

// The steps, in order: the commit; its projects with a job; each image's
// digest from the registry; the manifests; written, checked or streamed.
RenderOutcome run_render(const git::Repository& repo, const RenderOptions& opt, Tools& tools) {
  const auto& env = tools.run();
  require_one_way({opt.changed, opt.all, !opt.projects.empty()}, "PROJECT..., --changed or --all");
  bool stream = opt.out_dir && *opt.out_dir == "-";
  if (stream && opt.check)
    throw UsageError("--check compares files on disk; it does not go with -o -");

  git_oid commit = repo.require_commit("HEAD", "HEAD");
  std::optional<ChangesResult> changes;
  if (opt.changed) {
    auto selection = opt.selection;
    selection.uncommitted = false; // manifests pin images of commits
    changes = find_changes(repo, selection, env);
    commit = changes->selection.head;
  }
  View view = open_view(repo, commit, ViewOptions{.skip_invalid = !opt.all && !opt.changed});
  const auto& ws = view.config;
  if (ws.registry.empty())
    throw UsageError("a rendered manifest names its image by registry digest, and mlrepo.yaml sets no 'registry:'",
                     "add e.g. 'registry: ghcr.io/<owner>' to mlrepo.yaml");
  const Target& target = target_for(ws, opt.target);
  target.require_env(ws, opt.env);

  const auto& graph = view.graph;
  auto picked = choose_projects(repo, view, options_choice(opt.projects, opt.all, opt.cwd, changes ? &*changes : nullptr));
  if (!picked) {
    // The example names a project of this repository that has a job.
    std::string example;
    for (const auto& p : graph.projects())
      if (p.config->job && example.empty())
        example = p.name;
    throw UsageError("which projects? Name them, or use --changed or --all",
                     "e.g. 'mlrepo job render --all'" +
                         (example.empty() ? std::string(" (no project has a job: add a 'job:', docs/jobs.md)")
                                          : ", or 'mlrepo job render " + example + " -o -'"));
  }
  std::vector<size_t> chosen = std::move(*picked);
  if (!opt.projects.empty() && !opt.skip_without_job)
    for (size_t i : chosen)
      if (!graph.projects()[i].config->job)
        throw UsageError(graph.projects()[i].name + " has no job: nothing in " + graph.projects()[i].config->file +
                             " says how to run it",
                         "add a 'job:' (docs/jobs.md)");
  std::erase_if(chosen, [&](size_t i) { return !graph.projects()[i].config->job; });

  RenderOutcome out;
  out.commit = git::oid_hex(commit);
  out.target = target.name;
  out.ws = ws;
  auto& client = tools.registry(opt.client);
  // A stream's files are never written: "-" keeps each project's apart.
  std::string dir = stream ? "-" : output_dir(opt.out_dir, target.default_dir(ws), opt.cwd, repo.workdir());
  // What the target would refuse is refused before the registry is asked,
  // every project's at once.
  Problems problems;
  std::vector<std::pair<const project::Project*, std::string>> missing; // and what to say of each
  for (size_t i : chosen)
    target.refuse(graph.projects()[i], ws, opt.env, problems);
  throw_all(problems, "problems " + std::string(target.display) + " would refuse");
  warn_env_off_default_branch(repo, ws, opt, env);
  for (size_t i : chosen) {
    const auto& p = graph.projects()[i];
    auto pin = pin_image(repo, view, commit, p, opt.release, client, env);
    if (!pin.image) {
      // Every missing image at once (said after the loop); the files need them all.
      missing.push_back({&p, pin.missing});
      continue;
    }
    const PinnedImage& image = *pin.image;
    out.pinned.emplace_back(p.name, image.reference);
    const auto& job = *p.config->job;
    if (!job.schedule.empty() && config::job_target(job, ws) != target.runs_on)
      out.scheduled_elsewhere[p.name] = config::job_target_name(config::job_target(job, ws));
    for (auto& f : target.render({p, ws, image, opt.env, dir}))
      out.files.push_back(std::move(f));
  }
  missing_image_problems(repo, missing, opt.release.has_value(), env, problems);
  throw_all(problems, "images missing from the registry");
  if (stream) {
    out.stream = target.stream(out.files);
    return out;
  }
  // Only a render of every project knows what is obsolete.
  out.sync = write_rendered(out.files, repo.workdir(), target.marker, target.marker_anywhere, opt.check,
                            opt.all ? dir : "", target.foreign_hint);
  return out;
}

generated::SyncReport write_rendered(const std::vector<generated::File>& files, const std::string& workdir,
                                     const char* marker, bool marker_anywhere, bool check, const std::string& prune_dir,
                                     const std::string& foreign_hint) {
  generated::SyncOptions sync;
  sync.workdir = workdir;
  sync.marker = marker;
  sync.marker_anywhere = marker_anywhere;
  sync.check = check;
  sync.prune_dir = prune_dir;
  sync.recursive = true;
  sync.foreign_hint = foreign_hint;
  return generated::sync(files, sync);
}

std::vector<const generated::File*> files_of(const std::vector<generated::File>& files, const std::string& name) {
  std::vector<const generated::File*> out;
  std::string prefix = "-/" + name + "/";
  for (const auto& f : files)
    if (f.path.rfind(prefix, 0) == 0)
      out.push_back(&f);
  return out;
}

std::string program_of(const Target& target, const std::map<std::string, std::string>& programs) {
  auto chosen = programs.find(target.tool);
  return chosen != programs.end() && !chosen->second.empty() ? chosen->second : target.tool;
}

ApplyResult apply_item(const Target& target, const ApplyRequest& request, util::ProcessRunner& runner,
                       const std::vector<std::string>& applied_before) {
  try {
    return target.apply(request, runner);
  } catch (const Error& e) {
    std::string applied;
    for (const auto& name : applied_before)
      applied += (applied.empty() ? "" : ", ") + name;
    throw Error(e.code(),
                std::string(e.what()) + "; " + (applied.empty() ? "nothing was applied" : "applied before it: " + applied),
                e.hint());
  }
}

} // namespace mlrepo::deploy
