#include "app.hpp"
#include "common.hpp"
#include "mlrepo/tools.hpp"

#include "mlrepo/release/promote.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"
#include "mlrepo/util/process.hpp"

#include <iostream>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace mlrepo::cli {
namespace {

std::string tags_of(const std::vector<std::string>& refs) {
  std::string out;
  for (const auto& r : refs)
    out += (out.empty() ? "" : ", ") + r.substr(r.rfind(':') + 1);
  return out;
}

void say(const release::PromoteResult& r, bool dry_run) {
  using release::PromoteStatus;
  switch (r.status) {
  case PromoteStatus::Promoted:
    spdlog::info("==> {} promoted {} ({})", r.name, tags_of(r.written), r.digest);
    break;
  case PromoteStatus::Planned:
    spdlog::info("==> {} would get {} ({})", r.name, tags_of(r.tags), r.digest);
    break;
  case PromoteStatus::Missing:
  case PromoteStatus::Failed:
    spdlog::error("{}: {}", r.name, r.error);
    // The hint and what was written are no further errors: info lines, as
    // the reporter prints a hint after its error.
    if (!r.hint.empty())
      spdlog::info("hint: {}", r.hint);
    if (!dry_run)
      spdlog::info("  tags written for {}: {}", r.name, r.written.empty() ? "none" : tags_of(r.written));
    break;
  }
}

// The release as the run's page shows it: version, digest, every tag written.
std::string release_summary(const release::PromoteOutcome& out) {
  std::string md;
  for (const auto& r : out.results) {
    md += "### " + std::string(r.status == release::PromoteStatus::Promoted ? "Released " : "Release failed: ") +
          r.name + " " + out.release + "\n\n";
    md += "- commit `" + out.commit + "`\n";
    md += "- image `" + r.image + "`" + (r.digest.empty() ? "" : " (`" + r.digest + "`)") + "\n";
    std::string written;
    for (const auto& t : r.written)
      written += (written.empty() ? "" : ", ") + ("`" + t.substr(t.rfind(':') + 1) + "`");
    md += "- tags written: " + (written.empty() ? std::string("none") : written) + "\n";
    if (!r.error.empty())
      md += "- error: " + r.error + "\n";
    md += "\n";
  }
  return md;
}

} // namespace

void register_promote(CLI::App& app, const GlobalOptions& global, Tools& tools, Action& action) {
  struct Options {
    release::PromoteOptions core;
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("promote", "Add tags to images already in the registry (no pull, no build)");
  cmd->footer(
      "Finds each project's content-tagged image for the commit (what 'mlrepo build --push'\n"
      "pushed) and copies its manifest to the new tags inside the registry: nothing is\n"
      "pulled or rebuilt and the digest stays the same. Tags accept {branch} and {short_sha}.\n"
      "Credentials: as docker finds them (docker login, credential helpers).\n"
      "Without --tag or --release, each image gets the tags 'mlrepo build --push' gives:\n"
      "the commit SHA, the workspace's 'tags:' and, on the default branch, its\n"
      "'default_branch_tags:' (such as latest). Generated CI builds content tags only\n"
      "('build --content-tag-only') and promotes this way once the tests pass.\n"
      "Examples:\n"
      "  mlrepo promote --changed                       # CI on main: commit and branch tags\n"
      "  mlrepo promote --changed --tag stable          # after tests pass on main\n"
      "  mlrepo promote churn-model --tag prod-{short_sha}\n"
      "  mlrepo promote --release                        # in CI on a tag <name>/v1.2.0:\n"
      "                                                  # 1.2.0, 1.2, 1 and latest");
  cmd->add_option("PROJECT", opts->core.projects, "Project names or paths (default: the project you are in)");
  auto* changed = cmd->add_flag("--changed", opts->core.changed, "Promote the projects `mlrepo changed` lists");
  add_selection_options(*cmd, opts->core.selection);
  // Images are of commits: work-tree flags mean nothing here.
  for (const char* name : {"--uncommitted", "--no-uncommitted"})
    cmd->get_option(name)->group("");
  cmd->add_flag("--all", opts->core.all, "Promote every project")->excludes(changed);
  cmd->add_flag("--ci-only", opts->core.ci_only,
                "Leave out projects with 'ci.enabled: false' (what the generated matrix workflow uses)");
  cmd->add_option("--tag", opts->core.tags, "A tag to add (repeatable; {branch}, {short_sha}); default: the tags a build gives")->type_name("TAG");
  cmd->add_flag("--release", opts->core.release,
                "Promote a release: the project and version from the tag <name>/v<VERSION> (GITHUB_REF or --ref)");
  cmd->add_option("--ref", opts->core.ref, "The release tag for --release (refs/tags/<name>/v<VERSION>)")
      ->type_name("REF");
  cmd->add_flag("--dry-run", opts->core.dry_run, "Check that every image is there and say what would be tagged");
  cmd->add_flag("--json", opts->json, "Print the results as JSON on stdout");
  cmd->callback([&global, opts, &tools, &action] {
    action = [&global, opts, &tools] {
      if (opts->core.ref && !opts->core.release)
        throw UsageError("--ref only goes with --release");
      if (opts->core.selection.uncommitted.value_or(false))
        throw UsageError("promote works on images of commits; uncommitted work has none",
                         "commit and push, let CI build it (or 'mlrepo build --push'), then promote");
      const auto& env = tools.run();
      auto repo = open_repository(global);
      opts->core.cwd = command_cwd(global);
      opts->core.on_result = [dry = opts->core.dry_run](const release::PromoteResult& r) { say(r, dry); };
      opts->core.client.on_retry = [](const std::string& what) { spdlog::warn("registry: {}", what); };
      if (opts->core.dry_run) {
        // A dry run asks once, briefly: it plans, it never waits out an outage.
        opts->core.client.retries = 0;
        opts->core.client.connect_timeout_s = 3;
      }
      auto out = release::run_promote(repo, opts->core, tools);
      if (out.results.empty())
        spdlog::info("no project to promote");
      std::vector<std::string> missing;
      for (const auto& r : out.results)
        if (r.status == release::PromoteStatus::Missing)
          missing.push_back(r.name);
      if (missing.size() > 1) {
        std::string names;
        for (const auto& n : missing)
          names += " " + n;
        spdlog::error("{} of {} images are not in the registry; push them with: mlrepo build --push{}",
                      missing.size(), out.results.size(),
                      missing.size() == out.results.size() && opts->core.all ? " --all" : names);
      }
      if (auto summary = env.step_summary(); summary && !out.release.empty())
        util::append_file(*summary, release_summary(out));
      if (opts->json) {
        nlohmann::json doc;
        doc["commit"] = out.commit;
        doc["results"] = nlohmann::json::array();
        for (const auto& r : out.results)
          doc["results"].push_back({{"name", r.name},
                                    {"status", release::status_name(r.status)},
                                    {"image", r.image},
                                    {"digest", r.digest},
                                    {"tags", r.tags},
                                    {"written", r.written},
                                    {"error", r.error}});
        std::cout << doc.dump() << "\n";
      }
      if (util::interrupted())
        return static_cast<int>(ExitCode::Interrupted);
      return out.any_failed() ? 1 : 0;
    };
  });
}

} // namespace mlrepo::cli
