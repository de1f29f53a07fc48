#include "app.hpp"
#include "common.hpp"
#include "mlrepo/tools.hpp"

#include "mlrepo/pipeline/cache.hpp"
#include "mlrepo/pipeline/run.hpp"
#include "mlrepo/release/prune.hpp"
#include "mlrepo/report/prune.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/units.hpp"

#include <iostream>
#include <spdlog/spdlog.h>

namespace mlrepo::cli {

void register_prune(CLI::App& app, const GlobalOptions& global, Tools& tools, Action& action) {
  struct Options {
    release::PruneOptions core;
    std::optional<std::string> older_than;
    bool json = false;
    bool pipeline_cache = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("prune", "Delete old images from the registry, keeping what anything still needs");
  cmd->footer(
      "Deletes, through the registry API, the images of each project that only content and\n"
      "commit tags name (content-<hash>, <sha>, <sha>-dirty), except:\n"
      "  - the newest N of each project (--keep-last; default prune.keep_last, else 10);\n"
      "  - images younger than --older-than (default prune.older_than; none);\n"
      "  - every image that any other tag names: a release (1.2.0, 1.2, 1), latest and the\n"
      "    other default_branch_tags, branch tags, the layer cache (buildcache);\n"
      "  - every image a kept image of a dependent project was built FROM.\n"
      "A registry deletes by digest, which removes every tag on it: an image any kept tag\n"
      "names is never deleted. Projects and settings are the default branch's. Age is the\n"
      "image's org.opencontainers.image.created label (the commit's time).\n"
      "--removed also deletes the images of projects gone from the default branch (found\n"
      "through the registry's catalog, only repositories whose images carry mlrepo's labels),\n"
      "keeping their releases.\n"
      "Examples:\n"
      "  mlrepo prune --all --dry-run            # what would go, what stays and why\n"
      "  mlrepo prune --all --keep-last 20 --older-than 30d\n"
      "  mlrepo prune --all --removed --json\n"
      "With --pipeline-cache, nothing in the registry: the local step cache of `mlrepo pipeline run`\n"
      "(and its runs' directories) is emptied, or with --older-than only what no run used for that long.\n"
      "  mlrepo prune --pipeline-cache --older-than 7d");
  cmd->add_option("PROJECT", opts->core.projects, "Project names or paths (default: the project you are in)");
  cmd->add_flag("--all", opts->core.all, "Prune every project");
  cmd->add_flag("--removed", opts->core.removed, "Also delete the images of projects gone from the default branch");
  cmd->add_option("--keep-last", opts->core.keep_last, "Keep the newest N images of each project")
      ->type_name("N")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--older-than", opts->older_than, "Keep images younger than this (90m, 12h, 30d)")
      ->type_name("DURATION");
  cmd->add_flag("--dry-run", opts->core.dry_run, "Say what would be deleted and what stays and why; delete nothing");
  cmd->add_flag("--json", opts->json, "Print what was (or would be) deleted and what was kept, as JSON");
  cmd->add_flag("--pipeline-cache", opts->pipeline_cache,
                "Empty the local step cache of `mlrepo pipeline run` instead (with --older-than: what no run used "
                "for that long)");
  cmd->callback([&global, opts, &tools, &action] {
    action = [&global, opts, &tools] {
      if (opts->older_than) {
        try {
          opts->core.older_than_seconds = util::parse_duration(*opts->older_than);
        } catch (const std::invalid_argument& e) {
          throw UsageError(std::string("--older-than: ") + e.what());
        }
      }
      auto repo = open_repository(global);
      if (opts->pipeline_cache) {
        if (!opts->core.projects.empty() || opts->core.all || opts->core.removed || opts->core.keep_last)
          throw UsageError("--pipeline-cache prunes the local step cache: PROJECT, --all, --removed and "
                           "--keep-last choose registry images",
                           "run them as two commands");
        auto older = opts->older_than ? std::optional<std::int64_t>(opts->core.older_than_seconds) : std::nullopt;
        auto out = pipeline::prune_pipeline_cache(pipeline::pipelines_dir(repo), older, opts->core.dry_run);
        if (opts->json)
          std::cout << report::pipeline_prune_json(out, opts->core.dry_run);
        else
          std::cout << report::pipeline_prune_text(out, opts->core.dry_run);
        return 0;
      }
      opts->core.cwd = command_cwd(global);
      opts->core.client.on_retry = [](const std::string& what) { spdlog::warn("registry: {}", what); };
      bool json = opts->json;
      opts->core.on_deleted = [json](const release::PruneProject& p, const release::PruneImage& image) {
        // With --json, stdout holds the one document; each deletion goes to stderr.
        std::string line = report::prune_deleted_line(p, image);
        if (json)
          std::cerr << line;
        else
          std::cout << line << std::flush;
      };
      auto out = release::run_prune(repo, opts->core, tools);
      size_t deleted = 0, kept = 0;
      for (const auto& p : out.projects)
        for (const auto& image : p.images)
          (image.keep.empty() ? deleted : kept)++;
      if (opts->json)
        std::cout << report::prune_json(out);
      else if (opts->core.dry_run)
        std::cout << report::prune_plan_text(out);
      else
        spdlog::info("==> deleted {} image{}, kept {}", deleted, deleted == 1 ? "" : "s", kept);
      return 0;
    };
  });
}

} // namespace mlrepo::cli
