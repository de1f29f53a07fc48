#include "app.hpp"
#include "common.hpp"
#include "mlrepo/tools.hpp"

#include "mlrepo/scaffold/scaffold.hpp"
#include "mlrepo/util/error.hpp"

#include <filesystem>
#include <iostream>
#include <spdlog/spdlog.h>

namespace mlrepo::cli {

struct NewCliOptions {
  scaffold::NewOptions core;
  bool no_ci = false;
  bool list_templates = false;
};

void register_new(CLI::App& app, const GlobalOptions& global, Tools& tools, Action& action) {
  auto opts = std::make_shared<NewCliOptions>();
  auto* cmd = app.add_subcommand("new", "Scaffold a project that builds, tests and has its workflow at once");
  cmd->footer("NAME may be a path (teams/nlp/tagger); the project's name is its last part.\n"
              "Templates: built-in 'python' (default) and 'notebook', plus the repository's own in\n"
              ".mlrepo/templates/<T>/ (same name overrides a built-in); {{ name }}, {{ path }},\n"
              "{{ module }} and {{ python_version }} are filled in file contents and names.\n"
              "Nothing is left behind when anything fails.\n"
              "Examples:\n  mlrepo new churn-model\n  mlrepo new teams/nlp/tagger --template notebook --python-version 3.12\n"
              "  mlrepo new --list-templates");
  cmd->add_option("NAME", opts->core.target, "The new project's directory (a name or a path)");
  cmd->add_option("-t,--template", opts->core.template_name, "Template to start from (default python)");
  cmd->add_option("--python-version", opts->core.python_version, "Python version of the image (default 3.11)");
  cmd->add_flag("--no-ci", opts->no_ci, "Do not generate the project's workflow");
  cmd->add_flag("--list-templates", opts->list_templates, "List the templates and exit");
  cmd->callback([&global, opts, &tools, &action] {
    action = [&global, opts, &tools] {
      auto repo = open_repository(global);
      if (opts->list_templates) {
        for (const auto& t : scaffold::available_templates(repo))
          std::cout << t.name << "\t" << t.description << "\n";
        return 0;
      }
      if (opts->core.target.empty())
        throw UsageError("which project? 'mlrepo new NAME'", "e.g. 'mlrepo new churn-model'");
      opts->core.cwd = command_cwd(global);
      opts->core.ci = !opts->no_ci;
      auto result = scaffold::create_project(repo, opts->core);
      spdlog::info("created project '{}' in {} from the '{}' template ({} files{})", result.name,
                   result.path, opts->core.template_name, result.files.size(),
                   result.workflow.empty() ? "" : ", workflow " + result.workflow);
      std::string add = result.path + (result.workflow.empty() ? "" : " " + result.workflow);
      spdlog::info("next steps:\n"
                   "  cd {}\n"
                   "  mlrepo build            # build its image\n"
                   "  mlrepo test             # run its tests inside the image, as CI does\n"
                   "  mlrepo run -- <command> # run a command in it\n"
                   "  then, from the repository root: git add {} && git commit -m 'Add {}'",
                   result.path, add, result.name);
      return 0;
    };
  });
}

} // namespace mlrepo::cli
