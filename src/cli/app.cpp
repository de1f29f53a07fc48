#include "app.hpp"
#include "mlrepo/tools.hpp"

#include "mlrepo/git/handles.hpp"
#include "mlrepo/report/reporter.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/log.hpp"
#include "mlrepo/util/process.hpp"
#include "mlrepo/util/text.hpp"
#include "mlrepo/version.hpp"

#include <algorithm>
#include <iostream>

namespace mlrepo::cli {

namespace {

std::vector<std::string> command_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    names.push_back(sub->get_name());
  return names;
}

// The first word that is neither a global option nor its value, when it names
// no command; nullopt when it does, or when there is none (CLI11 then says a
// command is required).
std::optional<std::string> unknown_command(const CLI::App& app, int argc, char** argv) {
  auto names = command_names(app);
  for (int i = 1; i < argc; ++i) {
    std::string_view word = argv[i];
    if (word == "-C" || word == "--repo" || word == "--color") {
      ++i; // its value
      continue;
    }
    if (word.starts_with("-"))
      continue;
    if (std::find(names.begin(), names.end(), word) != names.end())
      return std::nullopt;
    return std::string(word);
  }
  return std::nullopt;
}

// The subcommand of `at` named `word` (nullptr when there is none), and the
// names it has, for the nearest one and the list: shared by `help`, a
// mistyped subcommand and a command given without its subcommand.
const CLI::App* subcommand_named(const CLI::App& at, std::string_view word, std::vector<std::string>& names) {
  const CLI::App* found = nullptr;
  for (const auto* sub : at.get_subcommands([](const CLI::App*) { return true; })) {
    names.push_back(sub->get_name());
    if (sub->get_name() == word)
      found = sub;
  }
  return found;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names)
    out += (out.empty() ? "" : ", ") + n;
  return out;
}

// The deepest command a parse reached (app itself when none).
const CLI::App* deepest_command(const CLI::App& app) {
  const CLI::App* at = &app;
  for (;;) {
    auto subs = at->get_subcommands();
    if (subs.empty())
      return at;
    at = subs.front();
  }
}

// Every long option `cmd` (and the global options it falls through to) knows.
std::vector<std::string> long_options(const CLI::App& cmd, const CLI::App& app) {
  std::vector<std::string> out;
  for (const CLI::App* a : {&cmd, &app})
    for (const auto* opt : a->get_options())
      for (const auto& name : opt->get_lnames())
        out.push_back("--" + name);
  return out;
}

// A mistyped option: "--chagned" gets the nearest option of the command it
// was given to. nullopt when every --word is known.
std::optional<std::string> option_hint(const CLI::App& app, int argc, char** argv, const CLI::ParseError& e) {
  if (!dynamic_cast<const CLI::ExtrasError*>(&e))
    return std::nullopt;
  std::string extras = e.what();
  const CLI::App* cmd = deepest_command(app);
  auto known = long_options(*cmd, app);
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (!word.starts_with("--") || word.size() < 3)
      continue;
    word = word.substr(0, word.find('='));
    if (std::find(known.begin(), known.end(), word) != known.end() || extras.find(word) == std::string::npos)
      continue;
    auto guess = util::closest(word, known, std::max<size_t>(2, word.size() / 3));
    std::string command = cmd == &app ? "mlrepo" : "mlrepo " + (cmd->get_parent() && cmd->get_parent() != &app
                                                                   ? cmd->get_parent()->get_name() + " "
                                                                   : std::string()) +
                                                       cmd->get_name();
    return "'" + word + "' is not an option of '" + command + "'" +
           (guess ? "; did you mean '" + *guess + "'?" : "; '" + command + " --help' lists them");
  }
  return std::nullopt;
}

// A mistyped subcommand below the top level: "mlrepo job ls". The first
// word after a command that has subcommands must name one of them.
std::optional<std::string> unknown_subcommand(const CLI::App& app, int argc, char** argv) {
  const CLI::App* at = &app;
  std::string path = "mlrepo";
  for (int i = 1; i < argc; ++i) {
    std::string_view word = argv[i];
    if (word == "-C" || word == "--repo" || word == "--color") {
      ++i;
      continue;
    }
    if (word.starts_with("-"))
      continue;
    std::vector<std::string> names;
    const CLI::App* next = subcommand_named(*at, word, names);
    if (names.empty())
      return std::nullopt; // a positional argument of a leaf command
    if (!next) {
      if (at == &app)
        return std::nullopt; // the top level says it itself (unknown_command)
      auto guess = util::closest(word, names, std::max<size_t>(2, word.size() / 2));
      return "'" + std::string(word) + "' is not a '" + path + "' command\nhint: " +
             (guess ? "did you mean '" + path + " " + *guess + "'? " : std::string()) + "'" + path +
             "' takes one of: " + joined(names);
    }
    path += " " + std::string(word);
    at = next;
  }
  return std::nullopt;
}

} // namespace

void register_help(CLI::App& app, Action& action) {
  auto topic = std::make_shared<std::vector<std::string>>();
  auto* cmd = app.add_subcommand("help", "Show help for mlrepo or for one command (the same as COMMAND --help)");
  cmd->add_option("COMMAND", *topic, "The command to explain, with its subcommand: 'mlrepo help job run'");
  cmd->callback([&app, topic, &action] {
    action = [&app, topic] {
      if (topic->empty()) {
        std::cout << app.get_formatter()->make_help(&app, "mlrepo", CLI::AppFormatMode::Normal);
        return 0;
      }
      // Down the words: 'help job run' is 'mlrepo job run --help'.
      const CLI::App* at = &app;
      std::string path = "mlrepo";
      for (const auto& word : *topic) {
        std::vector<std::string> names;
        const CLI::App* next = subcommand_named(*at, word, names);
        if (!next) {
          auto guess = util::closest(word, names, std::max<size_t>(2, word.size() / 2));
          throw UsageError("'" + word + "' is not " + (at == &app ? "an mlrepo command" : "a '" + path + "' command"),
                           guess ? "did you mean 'mlrepo help " + (path == "mlrepo" ? "" : path.substr(7) + " ") +
                                       *guess + "'?"
                                 : "run 'mlrepo help' for the list of commands");
        }
        path += " " + word;
        at = next;
      }
      std::cout << at->help(path.substr(0, path.rfind(' ')));
      return 0;
    };
  });
}

int run(int argc, char** argv) {
  CLI::App app{"mlrepo: many containerised ML projects in one git repository.\n"
               "Finds every project (a directory with a Dockerfile), tells which ones a change\n"
               "touches, and builds, tests and ships only those.",
               "mlrepo"};
  app.set_version_flag("--version", std::string("mlrepo ") + kVersion);
  app.require_subcommand(1);
  // Global options are accepted after the subcommand too (`mlrepo list -C dir`).
  app.fallthrough();
  GlobalOptions global;
  app.add_option("-C,--repo", global.repo_dir, "Run as if started in DIR (like git -C)")
      ->type_name("DIR");
  app.add_flag("-v,--verbose", global.verbose, "Say more on stderr (why each project changed, ...)");
  app.add_flag("-q,--quiet", global.quiet, "Only errors on stderr");
  app.add_option("--color", global.color, "Colour stderr: auto (terminals, unless NO_COLOR), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->type_name("WHEN");
  app.footer("Run 'mlrepo COMMAND --help' for a command's options. Exit codes: 0 success, 1 work "
             "failed or changes found, 2 bad usage or input, 3 environment not ready, 130 "
             "interrupted.");

  // Detected once, before any command: every command sees the same run.
  Tools tools(context::RunContext::detect(context::process_env()));
  Action action;
  register_list(app, global, tools, action);
  register_changed(app, global, tools, action);
  register_graph(app, global, tools, action);
  register_build(app, global, tools, action);
  register_ci(app, global, tools, action);
  register_new(app, global, tools, action);
  register_test(app, global, tools, action);
  register_run(app, global, tools, action);
  register_doctor(app, global, tools, action);
  register_promote(app, global, tools, action);
  register_release(app, global, tools, action);
  register_job(app, global, tools, action);
  register_pipeline(app, global, tools, action);
  register_prune(app, global, tools, action);
  register_help(app, action);

  // `mlrepo run PROJECT -- ARGS...` (and `job run`): ARGS are the container's, never options.
  int parsed_argc = argc;
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "--") {
      global.saw_double_dash = true;
      global.passthrough.assign(argv + i + 1, argv + argc);
      parsed_argc = i;
      break;
    }
  // A mistyped command would otherwise read as "a subcommand is required".
  if (auto unknown = unknown_command(app, parsed_argc, argv)) {
    std::cerr << "error: '" << *unknown << "' is not an mlrepo command\n";
    if (auto guess = util::closest(*unknown, command_names(app), std::max<size_t>(2, unknown->size() / 3)))
      std::cerr << "hint: did you mean 'mlrepo " << *guess << "'? ('mlrepo help' lists every command)\n";
    else
      std::cerr << "hint: run 'mlrepo help' for the list of commands\n";
    return static_cast<int>(ExitCode::BadInput);
  }
  if (auto unknown = unknown_subcommand(app, parsed_argc, argv)) {
    std::cerr << "error: " << *unknown << "\n";
    return static_cast<int>(ExitCode::BadInput);
  }
  try {
    app.parse(parsed_argc, argv);
    auto* job = app.get_subcommand("job");
    bool job_run = app.got_subcommand("job") && job->got_subcommand("run");
    if (global.saw_double_dash && !app.got_subcommand("run") && !job_run)
      throw CLI::ExtrasError({"--"});
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0)
      return app.exit(e);
    if (app.get_subcommands().empty()) {
      std::string list;
      for (const auto& name : command_names(app))
        list += (list.empty() ? "" : ", ") + name;
      std::cerr << "error: no command given\nhint: mlrepo COMMAND, where COMMAND is one of: " << list
                << " ('mlrepo help COMMAND' explains one)\n";
      return static_cast<int>(ExitCode::BadInput);
    }
    if (auto hint = option_hint(app, parsed_argc, argv, e)) {
      std::cerr << "error: " << *hint << "\n";
      return static_cast<int>(ExitCode::BadInput);
    }
    // A command with subcommands given none (`mlrepo job`): name them.
    if (const CLI::App* cmd = deepest_command(app); dynamic_cast<const CLI::RequiredError*>(&e) && cmd != &app) {
      std::vector<std::string> subs;
      subcommand_named(*cmd, "", subs);
      if (!subs.empty()) {
        std::cerr << "error: 'mlrepo " << cmd->get_name() << "' needs a command: " << joined(subs) << "\n"
                  << "hint: 'mlrepo help " << cmd->get_name() << "' explains each\n";
        return static_cast<int>(ExitCode::BadInput);
      }
    }
    std::cerr << "error: " << e.what() << "\n"
              << "hint: run 'mlrepo --help' (or 'mlrepo COMMAND --help') for usage\n";
    return static_cast<int>(ExitCode::BadInput);
  }

  util::init_logging(global.quiet ? util::Verbosity::Quiet
                     : global.verbose ? util::Verbosity::Verbose
                                      : util::Verbosity::Normal,
                     global.color == "always"  ? util::ColorMode::Always
                     : global.color == "never" ? util::ColorMode::Never
                                               : util::ColorMode::Auto);
  util::install_interrupt_handlers();
  git::Library libgit2;
  auto& reporter = tools.reporter();
  try {
    int code = action();
    if (util::interrupted())
      return static_cast<int>(ExitCode::Interrupted);
    return code;
  } catch (const Error& e) {
    if (util::interrupted())
      return static_cast<int>(ExitCode::Interrupted);
    reporter.error(e);
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    reporter.error(Error(ExitCode::WorkFailed, std::string("internal error: ") + e.what(),
                          "please report this with the command you ran"));
    return static_cast<int>(ExitCode::WorkFailed);
  }
}

} // namespace mlrepo::cli
