#include "app.hpp"
#include "common.hpp"
#include "mlrepo/tools.hpp"

#include "mlrepo/release/release.hpp"

#include <iostream>
#include <spdlog/spdlog.h>

namespace mlrepo::cli {

void register_release(CLI::App& app, const GlobalOptions& global, Tools& tools, Action& action) {
  auto opts = std::make_shared<release::ReleaseOptions>();
  auto* cmd = app.add_subcommand("release", "Cut a release of a project: the git tag <name>/v<VERSION>");
  cmd->footer(
      "Checks that VERSION is SemVer and higher than every release of the project (or a patch\n"
      "of an older MAJOR.MINOR line above that line's latest), that nothing uncommitted reaches\n"
      "the project's image, and that the image of HEAD is in the registry; then creates the\n"
      "annotated tag <name>/v<VERSION> on HEAD. When CI runs on that tag, 'mlrepo promote\n"
      "--release' gives the image the tag VERSION, and MAJOR.MINOR, MAJOR and latest where it is\n"
      "the highest release of that line (a pre-release such as 1.3.0-rc.1 gets only VERSION).\n"
      "With --push, a push that fails deletes the tag again: nothing is half released.\n"
      "Examples:\n"
      "  mlrepo release churn-model 1.2.0 --push\n"
      "  mlrepo release churn-model 1.3.0-rc.1\n"
      "  mlrepo release churn-model 1.1.4      # a patch of the older 1.1 line: moves 1.1 only");
  cmd->add_option("PROJECT", opts->project, "The project's name or path")->required();
  cmd->add_option("VERSION", opts->version, "SemVer: 1.2.3, or 1.2.3-rc.1 for a pre-release")->required();
  cmd->add_flag("--push", opts->push, "Push the tag (that one tag only) to origin");
  cmd->callback([&global, opts, &tools, &action] {
    action = [&global, opts, &tools] {
      auto repo = open_repository(global);
      opts->cwd = command_cwd(global);
      opts->client.on_retry = [](const std::string& what) { spdlog::warn("registry: {}", what); };
      auto out = release::run_release(repo, *opts, tools);
      std::cout << out.tag << "\n";
      spdlog::info("==> tagged {} at {} (image {}{})", out.tag, out.commit.substr(0, 12), out.image,
                   out.digest.empty() ? "" : "@" + out.digest);
      std::string tags;
      for (const auto& t : out.image_tags)
        tags += (tags.empty() ? "" : ", ") + t;
      spdlog::info("    CI's 'mlrepo promote --release' will tag the image {}", tags);
      if (out.pushed)
        spdlog::info("==> pushed {} to origin: CI promotes the image when it runs on the tag", out.tag);
      else
        spdlog::info("next: 'git push origin {}' starts the release in CI", out.tag);
      return 0;
    };
  });
}

} // namespace mlrepo::cli
