#include "mlrepo/build/build.hpp"
#include "mlrepo/choose.hpp"
#include "mlrepo/tools.hpp"
#include "mlrepo/build/plan.hpp"
#include "mlrepo/project/select.hpp"
#include "mlrepo/release/release.hpp"
#include "mlrepo/release/tags.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/workspace.hpp"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace mlrepo::release {
namespace {

// A release must be newer than every release before it, or a patch of an
// older line above that line's latest (1.3.5 after 1.3.4 and 1.4.0): tags
// then only move forward, and a typo cannot publish 1.1.0 after 2.0.0.
// Returns what to say when v is an older line's patch (said once every
// other check passed).
std::string check_order(const std::string& project, const Version& v, const std::vector<Version>& released) {
  const Version* highest = nullptr;
  const Version* line_latest = nullptr;
  for (const auto& r : released) {
    if (!highest || compare(r, *highest) > 0)
      highest = &r;
    if (r.major == v.major && r.minor == v.minor && (!line_latest || compare(r, *line_latest) > 0))
      line_latest = &r;
  }
  if (!highest || compare(v, *highest) > 0)
    return {};
  if (line_latest && compare(v, *line_latest) > 0) {
    std::vector<Version> with = released;
    with.push_back(v);
    auto tags = release_tags(v, with);
    std::string list;
    for (const auto& t : tags)
      list += (list.empty() ? "" : ", ") + t;
    return fmt::format("{} {} is a patch of the older line {}.{} (the latest release is {}): its image gets {}, "
                       "and latest stays on {}",
                       project, v.str(), v.major, v.minor, highest->str(), list, highest->str());
  }
  std::string next = std::to_string(highest->major) + "." + std::to_string(highest->minor) + "." +
                     std::to_string(highest->patch + (highest->is_prerelease() ? 0 : 1));
  throw UsageError(project + " " + v.str() + " is not higher than its latest release, " + highest->str() +
                       (line_latest ? " (and " + line_latest->str() + " is the latest of " + std::to_string(v.major) +
                                          "." + std::to_string(v.minor) + ")"
                                    : ""),
                   "release a higher version (e.g. " + next +
                       "), or a patch of an older line above that line's latest ('git tag -l \"" + project +
                       "/v*\"' lists the releases)");
}

} // namespace

// The steps, in order: a valid new version; the project at HEAD; nothing
// uncommitted reaching its image; that image in the registry; the tag; the push.
ReleaseOutcome run_release(const git::Repository& repo, const ReleaseOptions& opt, Tools& tools) {
  const auto& env = tools.run();
  auto& runner = tools.runner();
  std::string why;
  std::string text = opt.version.rfind('v', 0) == 0 ? opt.version.substr(1) : opt.version;
  auto version = parse_version(text, &why);
  if (!version)
    throw UsageError("'" + opt.version + "' is not a SemVer version: " + why,
                     "e.g. 1.2.0, or 1.2.0-rc.1 for a pre-release");
  if (!version->build.empty())
    throw UsageError("'" + opt.version + "' has build metadata ('+'), which a Docker tag cannot hold",
                     "drop the '+…' part, or use a pre-release such as 1.2.0-rc.1");
  if (text != opt.version)
    spdlog::info("'{}' read as the version {} (the tag adds the 'v' itself)", opt.version, version->str());

  git_oid head = repo.require_commit("HEAD", "HEAD");
  ReleaseOutcome out;
  out.commit = git::oid_hex(head);
  View committed = open_view(repo, head, ViewOptions{.skip_invalid = true});
  if (committed.config.registry.empty())
    throw UsageError("a release promotes the project's image in the registry, and mlrepo.yaml sets no 'registry:'",
                     "add e.g. 'registry: ghcr.io/<owner>' to mlrepo.yaml");
  auto chosen = *choose_projects(repo, committed, {.names = {opt.project}, .cwd = opt.cwd});
  const auto& project = committed.graph.projects()[chosen.at(0)];
  out.tag = project.name + "/v" + version->str();

  if (repo.has_reference("refs/tags/" + out.tag)) {
    auto latest = latest_releases(repo);
    throw UsageError("the tag " + out.tag + " exists already",
                     "choose a new version (the latest release of " + project.name + " is " +
                         (latest.count(project.name) ? latest[project.name] : "unknown") + ")");
  }
  auto released = released_versions(repo)[project.name];
  std::string older_line = check_order(project.name, *version, released);
  refuse_release_over_newer(repo, project.name, *version, head);
  if (!older_line.empty())
    spdlog::info("{}", older_line);
  released.push_back(*version);
  out.image_tags = release_tags(*version, released);
  const auto& branch_tags = committed.config.default_branch_tags;
  if (std::find(out.image_tags.begin(), out.image_tags.end(), "latest") != out.image_tags.end() &&
      std::find(branch_tags.begin(), branch_tags.end(), "latest") != branch_tags.end())
    spdlog::warn("'latest' has two meanings here: this release takes it, and default_branch_tags gives it to every "
                 "default-branch build, so the next push there moves it off {} (drop latest from "
                 "default_branch_tags, or name that tag e.g. 'edge')",
                 version->str());

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
  auto& client = tools.registry(opt.client);
  auto found = client.head_manifest(registry::parse_image_name(item.content_ref));
  if (!found)
    throw Error(ExitCode::WorkFailed,
                "the image of " + project.name + " at commit " + out.commit.substr(0, 12) + " (" + item.content_ref +
                    ") is not in the registry, so CI could not promote it",
                "push the commit and let CI build it, or run 'mlrepo build --push " + project.name +
                    "', then release again");
  out.digest = found->digest;

  // As git: GIT_COMMITTER_NAME/EMAIL first, then user.name/user.email.
  std::string message = "Release " + project.name + " " + version->str() + "\n\nImage: " + item.content_ref +
                        (out.digest.empty() ? "" : "@" + out.digest) + "\n";
  repo.create_annotated_tag(out.tag, head, message,
                            {env("GIT_COMMITTER_NAME").value_or(""), env("GIT_COMMITTER_EMAIL").value_or("")});

  if (opt.push) {
    // git itself, for the user's own remotes and credential helpers. One tag
    // at a time: GitHub starts no workflow when more than three are pushed at once.
    util::ProcessSpec spec;
    spec.argv = {"git", "push", "origin", "refs/tags/" + out.tag};
    spec.cwd = repo.workdir();
    auto r = runner.run(spec);
    if (!r.ok()) {
      std::string err = r.said();
      // No half-made release: a local tag that CI never saw would make the
      // next 'mlrepo release' of the same version say it exists already.
      bool deleted = repo.delete_tag(out.tag);
      throw Error(ExitCode::WorkFailed,
                  "pushing the tag " + out.tag + " to origin failed: " + err +
                      (deleted ? "; the tag was deleted again, so nothing was released"
                               : "; the tag could not be deleted: 'git tag -d " + out.tag + "' removes it"),
                  "fix the push ('git remote -v' shows where origin is), then run 'mlrepo release " + project.name +
                      " " + version->str() + " --push' again");
    }
    out.pushed = true;
  }
  return out;
}

} // namespace mlrepo::release
