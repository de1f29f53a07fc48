#include "mlrepo/build/build.hpp"
#include "mlrepo/build/plan.hpp"
#include "mlrepo/git/handles.hpp"
#include "mlrepo/project/select.hpp"
#include "mlrepo/release/promote.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/workspace.hpp"

namespace mlrepo::release {

// The steps, in order: a valid new version; the project at HEAD; nothing
// uncommitted reaching its image; that image in the registry; the tag; the push.
ReleaseOutcome run_release(const git::Repository& repo, const ReleaseOptions& opt, const changes::EnvLookup& env,
                           registry::CredentialSource& credentials, util::ProcessRunner& runner) {
  std::string why;
  std::string text = opt.version.rfind('v', 0) == 0 ? opt.version.substr(1) : opt.version;
  auto version = parse_version(text, &why);
  if (!version)
    throw UsageError("'" + opt.version + "' is not a SemVer version: " + why,
                     "e.g. 1.2.0, or 1.2.0-rc.1 for a pre-release");
  if (!version->build.empty())
    throw UsageError("'" + opt.version + "' has build metadata ('+'), which a Docker tag cannot hold",
                     "drop the '+…' part, or use a pre-release such as 1.2.0-rc.1");

  git_oid head = repo.require_commit("HEAD", "HEAD");
  ReleaseOutcome out;
  out.commit = git::oid_hex(head);
  View committed = open_view(repo, head, ViewOptions{.skip_invalid = true});
  if (committed.config.registry.empty())
    throw UsageError("a release promotes the project's image in the registry, and mlrepo.yaml sets no 'registry:'",
                     "add e.g. 'registry: ghcr.io/<owner>' to mlrepo.yaml");
  refuse_invalid_named(committed, {opt.project}, opt.cwd, repo.workdir());
  auto chosen = project::resolve_projects(committed.graph, {opt.project}, opt.cwd, repo.workdir());
  const auto& project = committed.graph.projects()[chosen.at(0)];
  out.tag = project.name + "/v" + version->str();

  if (repo.has_reference("refs/tags/" + out.tag)) {
    auto latest = latest_releases(repo);
    throw UsageError("the tag " + out.tag + " exists already",
                     "choose a new version (the latest release of " + project.name + " is " +
                         (latest.count(project.name) ? latest[project.name] : "unknown") + ")");
  }

  // The work tree must hold exactly what the tag will point at.
  View worktree = open_view(repo, std::nullopt, ViewOptions{.skip_invalid = true});
  if (auto i = worktree.graph.find(project.path)) {
    auto inputs = build::plan_inputs(repo, worktree.config, env);
    auto plan = build::make_plan(repo, worktree.config, worktree.graph, {*i}, inputs);
    for (const auto& item : plan)
      if (item.dirty)
        throw UsageError("uncommitted changes reach the image of " + project.name +
                             (item.name == project.name ? "" : " (through " + item.name + ")") +
                             ": the release would not be what you tested",
                         "commit or stash them ('git status " + project.path + "'), push, then release");
  }

  auto plan = build::plan_commit(repo, committed, head, chosen, env);
  const auto& item = plan.at(0);
  out.image = item.content_ref;
  registry::Client client(credentials, opt.client);
  auto found = client.head_manifest(registry::parse_image_name(item.content_ref));
  if (!found)
    throw Error(ExitCode::WorkFailed,
                "the image of " + project.name + " at commit " + out.commit.substr(0, 12) + " (" + item.content_ref +
                    ") is not in the registry, so CI could not promote it",
                "push the commit and let CI build it, or run 'mlrepo build --push " + project.name +
                    "', then release again");
  out.digest = found->digest;

  // As git: GIT_COMMITTER_NAME/EMAIL first, then user.name/user.email.
  git_signature* raw_sig = nullptr;
  auto name = env("GIT_COMMITTER_NAME"), email = env("GIT_COMMITTER_EMAIL");
  int rc = name && email && !name->empty() && !email->empty()
               ? git_signature_now(&raw_sig, name->c_str(), email->c_str())
               : git_signature_default(&raw_sig, repo.raw());
  if (rc < 0)
    throw EnvironmentError("git does not know who you are, and an annotated tag needs a tagger",
                           "git config --global user.name 'Your Name' && git config --global user.email you@example.com");
  git::SignaturePtr tagger(raw_sig);
  git_object* raw_target = nullptr;
  git::check(git_object_lookup(&raw_target, repo.raw(), &head, GIT_OBJECT_COMMIT), "cannot read HEAD");
  git::ObjectPtr target(raw_target);
  git_oid tag_oid;
  std::string message = "Release " + project.name + " " + version->str() + "\n\nImage: " + item.content_ref +
                        (out.digest.empty() ? "" : "@" + out.digest) + "\n";
  git::check(git_tag_create(&tag_oid, repo.raw(), out.tag.c_str(), target.get(), tagger.get(), message.c_str(), 0),
             "cannot create the tag " + out.tag);

  if (opt.push) {
    // git itself, for the user's own remotes and credential helpers. One tag
    // at a time: GitHub starts no workflow when more than three are pushed at once.
    util::ProcessSpec spec;
    spec.argv = {"git", "push", "origin", "refs/tags/" + out.tag};
    spec.cwd = repo.workdir();
    auto r = runner.run(spec);
    if (!r.ok()) {
      std::string err = r.err.empty() ? r.out : r.err;
      while (!err.empty() && (err.back() == '\n' || err.back() == ' '))
        err.pop_back();
      throw Error(ExitCode::WorkFailed, "created the tag " + out.tag + ", but pushing it to origin failed: " + err,
                  "push it yourself: 'git push origin " + out.tag + "'");
    }
    out.pushed = true;
  }
  return out;
}

} // namespace mlrepo::release
