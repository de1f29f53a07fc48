// Errors and hints say what fits what the user did.
#include "support/docker.hpp"

#include <catch2/catch.hpp>
#include <chrono>

using namespace mlrepo::test;
using Catch::Contains;

TEST_CASE("messages: an unknown project gets a did-you-mean", "[messages]") {
  GitRepo r;
  r.write("churn-model/Dockerfile", "FROM scratch\n");
  r.write("demand-forecast/Dockerfile", "FROM scratch\n");
  r.commit();
  auto typo = r.mlrepo({"build", "--dry-run", "chrun-model"});
  CHECK(typo.code == 2);
  CHECK_THAT(typo.err, Contains("'chrun-model' is not a project") && Contains("did you mean 'churn-model'?"));
  auto far = r.mlrepo({"build", "--dry-run", "vision"});
  CHECK(far.code == 2);
  CHECK_THAT(far.err, !Contains("did you mean") && Contains("mlrepo list"));
}

TEST_CASE("messages: the hint for choosing projects uses the command run and a real project", "[messages]") {
  GitRepo r;
  r.write("forecast/Dockerfile", "FROM scratch\n");
  r.commit();
  auto test = r.mlrepo({"test"});
  CHECK(test.code == 2);
  CHECK_THAT(test.err, Contains("'mlrepo test forecast'") && !Contains("build churn-model"));
  auto build = r.mlrepo({"build"});
  CHECK(build.code == 2);
  CHECK_THAT(build.err, Contains("'mlrepo build forecast'"));
}

TEST_CASE("messages: a missing remote branch is fetched by its remote and name", "[messages]") {
  GitRepo origin;
  origin.write("a/Dockerfile", "FROM scratch\n");
  origin.commit();
  GitRepo clone(origin, {"--single-branch"});
  auto run = clone.mlrepo({"list", "--rev", "origin/feature"});
  CHECK(run.code == 2);
  CHECK_THAT(run.err, Contains("'git fetch origin feature'") && !Contains("git fetch origin origin/feature"));
  GitRepo alone;
  alone.write("a/Dockerfile", "FROM scratch\n");
  alone.commit();
  auto no_remote = alone.mlrepo({"list", "--rev", "origin/main"});
  CHECK_THAT(no_remote.err, Contains("no remote 'origin'"));
}

TEST_CASE("messages: run says nothing about building when nothing builds", "[messages][docker]") {
  ImageScope images;
  GitRepo r;
  r.write("mlrepo.yaml", "image_prefix: " + images.prefix() + "\n");
  r.write("app/Dockerfile", "FROM " + busybox_image() + "\n");
  r.commit();
  REQUIRE(r.mlrepo({"build", "app"}).code == 0);
  auto run = r.mlrepo({"run", "app", "--", "echo", "hello"});
  INFO(run.err);
  CHECK(run.code == 0);
  CHECK(run.out == "hello\n");
  CHECK(run.err.empty());
  auto quiet = r.mlrepo({"-q", "build", "app"});
  CHECK(quiet.err.empty());
  // A stale image rebuilds with the progress build shows (minutes with a
  // real pip or CUDA image), not in silence.
  r.write("app/Dockerfile", "FROM " + busybox_image() + "\nRUN echo rebuilt-step\n");
  auto rebuild = r.mlrepo({"run", "app", "--", "echo", "hello"});
  INFO(rebuild.err);
  CHECK(rebuild.code == 0);
  CHECK(rebuild.out == "hello\n");
  CHECK_THAT(rebuild.err, Contains("==> app: building") && Contains("[app] ") && Contains("rebuilt-step") &&
                              Contains("==> app built"));
  auto silent = r.mlrepo({"-q", "run", "app", "--", "echo", "hello"});
  CHECK(silent.err.empty());
}

TEST_CASE("messages: -q prints only errors, not warnings", "[messages]") {
  GitRepo r;
  r.write("mlrepo.yaml", "ci:\n  mlrepo_action: acme/mlrepo@main\n"); // unpinned: a warning
  r.write("app/Dockerfile", "FROM scratch\n");
  r.commit();
  auto loud = r.mlrepo({"ci", "generate"});
  REQUIRE(loud.code == 0);
  CHECK_THAT(loud.err, Contains("warning:") && Contains("not pinned"));
  r.git({"checkout", "--", "."});
  auto quiet = r.mlrepo({"-q", "ci", "generate", "--check"});
  CHECK(quiet.err.empty());
  auto quiet_error = r.mlrepo({"-q", "build", "nosuch"});
  CHECK(quiet_error.code == 2);
  CHECK_THAT(quiet_error.err, Contains("error: 'nosuch' is not a project"));
}

TEST_CASE("messages: a mistyped command is unknown, with the nearest command, and help COMMAND explains one",
          "[messages]") {
  GitRepo r;
  for (auto [typo, meant] : {std::pair{"biuld", "build"}, {"promotee", "promote"}, {"chnaged", "changed"}}) {
    auto run = r.mlrepo({typo});
    INFO(run.err);
    CHECK(run.code == 2);
    CHECK_THAT(run.err, Contains(std::string("'") + typo + "' is not an mlrepo command") &&
                            Contains(std::string("did you mean 'mlrepo ") + meant + "'") &&
                            !Contains("subcommand is required"));
  }
  // Global options and their values before the command are not the command.
  auto global = r.mlrepo({"-C", r.path().string(), "--color", "never", "lsit"});
  CHECK(global.code == 2);
  CHECK_THAT(global.err, Contains("'lsit' is not an mlrepo command") && Contains("'mlrepo list'"));
  auto far = r.mlrepo({"xyzzy"});
  CHECK(far.code == 2);
  CHECK_THAT(far.err, !Contains("did you mean") && Contains("mlrepo help"));

  auto help = r.mlrepo({"help", "build"});
  CHECK(help.code == 0);
  CHECK(help.out == r.mlrepo({"build", "--help"}).out);
  auto all = r.mlrepo({"help"});
  CHECK(all.code == 0);
  CHECK_THAT(all.out, Contains("promote") && Contains("help"));
  auto unknown = r.mlrepo({"help", "biuld"});
  CHECK(unknown.code == 2);
  CHECK_THAT(unknown.err, Contains("did you mean 'mlrepo help build'"));
  auto none = r.mlrepo({});
  CHECK(none.code == 2);
  CHECK_THAT(none.err, Contains("no command given") && Contains("build"));
}

TEST_CASE("messages: typos below the top level get the nearest subcommand or option, and help takes a subcommand",
          "[messages]") {
  GitRepo r;
  for (auto [typo, meant] : {std::pair{"ls", "mlrepo job list"}, {"rnu", "mlrepo job run"}, {"rendr", "mlrepo job render"}}) {
    auto run = r.mlrepo({"job", typo});
    INFO(run.err);
    CHECK(run.code == 2);
    CHECK_THAT(run.err, Contains(std::string("'") + typo + "' is not a 'mlrepo job' command") &&
                            Contains(std::string("did you mean '") + meant + "'") &&
                            !Contains("subcommand is required"));
  }
  auto gen = r.mlrepo({"ci", "generat"});
  CHECK(gen.code == 2);
  CHECK_THAT(gen.err, Contains("did you mean 'mlrepo ci generate'"));
  auto bare = r.mlrepo({"job"});
  CHECK(bare.code == 2);
  CHECK_THAT(bare.err, Contains("'mlrepo job' needs a command: list, run, render, deploy"));

  auto flag = r.mlrepo({"build", "--chagned"});
  CHECK(flag.code == 2);
  CHECK_THAT(flag.err, Contains("'--chagned' is not an option of 'mlrepo build'; did you mean '--changed'?"));
  auto sub_flag = r.mlrepo({"job", "render", "--chek"});
  CHECK(sub_flag.code == 2);
  CHECK_THAT(sub_flag.err, Contains("not an option of 'mlrepo job render'; did you mean '--check'?"));
  // A job's own arguments after -- are never read as options.
  auto args = r.mlrepo({"job", "run", "nothere", "--", "--chagned"});
  CHECK_THAT(args.err, !Contains("not an option"));

  auto help = r.mlrepo({"help", "job", "run"});
  CHECK(help.code == 0);
  CHECK(help.out == r.mlrepo({"job", "run", "--help"}).out);
  auto wrong = r.mlrepo({"help", "job", "rnu"});
  CHECK(wrong.code == 2);
  CHECK_THAT(wrong.err, Contains("'rnu' is not a 'mlrepo job' command") && Contains("mlrepo help job run"));
}

TEST_CASE("messages: a dry run asks an unreachable registry once, briefly, and plans as if absent", "[messages][docker]") {
  GitRepo r;
  // A closed loopback port: connections are refused at once.
  r.write("mlrepo.yaml", "registry: 127.0.0.1:9/acme\n");
  for (auto name : {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"})
    r.write(std::string(name) + "/Dockerfile", "FROM scratch\n");
  r.commit();
  auto start = std::chrono::steady_clock::now();
  auto dry = r.mlrepo({"build", "--all", "--push", "--dry-run"});
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(dry.err);
  CHECK(dry.code == 0);
  CHECK(seconds < 10); // no retries with backoff (they took 64 s on one repository)
  CHECK_THAT(dry.err, Contains("plans as if the images it could not check were absent") && !Contains("retry"));
  size_t warnings = 0;
  for (size_t at = 0; (at = dry.err.find("warning:", at)) != std::string::npos; ++at)
    ++warnings;
  CHECK(warnings == 1);
  auto promote = r.mlrepo({"promote", "--all", "--dry-run"});
  CHECK(promote.code == 1); // each project's image could not be checked: the work failed, said once each
  CHECK_THAT(promote.err, !Contains("retry"));
}

TEST_CASE("messages: build --dry-run lines run as printed, the builder's environment included", "[messages][docker]") {
  GitRepo r;
  r.write("mlrepo.yaml", "docker: /usr/bin/docker\n"); // Debian's 20.10: BuildKit built in
  r.write("a/Dockerfile", "FROM scratch\n");
  r.commit();
  auto dry = r.mlrepo({"build", "a", "--dry-run"});
  INFO(dry.err);
  REQUIRE(dry.code == 0);
  REQUIRE_FALSE(dry.lines().empty());
  CHECK(dry.lines()[0].rfind("DOCKER_BUILDKIT=1 /usr/bin/docker build ", 0) == 0);
}

TEST_CASE("messages: promote says when the work tree's config differs from the commit's, and which registry it "
          "writes to",
          "[messages]") {
  GitRepo r;
  r.write("mlrepo.yaml", "registry: 127.0.0.1:9/acme\n");
  r.write("a/Dockerfile", "FROM scratch\n");
  r.commit();
  auto same = r.mlrepo({"promote", "a", "--tag", "stable", "--dry-run"});
  CHECK_THAT(same.err, !Contains("differs"));
  CHECK(same.code == 1); // nothing was pushed: the image is missing, which is not what this checks
  r.write("mlrepo.yaml", "registry: 127.0.0.1:8/other\n");
  auto differs = r.mlrepo({"promote", "a", "--tag", "stable", "--dry-run"});
  CHECK_THAT(differs.err, Contains("the work tree's mlrepo.yaml differs from commit") &&
                              Contains("uses the committed one (registry 127.0.0.1:9/acme)"));
}

TEST_CASE("messages: an unknown Dockerfile instruction is exit 2 with file, line and did-you-mean", "[messages]") {
  GitRepo r;
  r.write("base/Dockerfile", "FROM scratch\n");
  r.write("app/Dockerfile", "# a comment\nFORM base\nRUN true\n");
  r.commit();
  for (const auto& args : {std::vector<std::string>{"list"}, {"graph"}, {"doctor"}}) {
    auto run = r.mlrepo(args);
    INFO(args[0] << "\n" << run.out << run.err);
    CHECK(run.code != 0);
    CHECK_THAT(run.out + run.err, Contains("app/Dockerfile:2") && Contains("unknown instruction 'FORM'") &&
                                      Contains("did you mean 'FROM'?"));
  }
  // A frontend named by a syntax directive may have instructions of its own.
  r.write("app/Dockerfile", "# syntax=example.com/frontend:1\nFROM base\nMYSTEP x\n");
  CHECK(r.mlrepo({"list"}).code == 0);
}

TEST_CASE("messages: depends_on and cycle errors say how to spell and where each edge is", "[messages]") {
  GitRepo r;
  r.write("libs/common/x.py", "\n");
  r.write("projects/app/Dockerfile", "FROM scratch\n");
  r.write("projects/app/mlrepo.yaml", "depends_on: [../../libs/common]\n");
  r.commit();
  auto relative = r.mlrepo({"list"});
  CHECK(relative.code == 2);
  CHECK_THAT(relative.err, Contains("projects/app/mlrepo.yaml:1") &&
                               Contains("depends_on entries are repository-relative: write 'libs/common'"));
  r.write("projects/app/mlrepo.yaml", "depends_on: [libs/comon]\n");
  auto typo = r.mlrepo({"list"});
  CHECK(typo.code == 2);
  CHECK_THAT(typo.err, Contains("'libs/' exists, but holds no 'comon'"));
  r.write("projects/tool/Dockerfile", "FROM scratch\n");
  r.write("projects/tool/mlrepo.yaml", "depends_on: [libs/common]\n");
  auto near = r.mlrepo({"list"});
  CHECK_THAT(near.err, Contains("did you mean 'libs/common'?"));

  r.write("projects/app/mlrepo.yaml", "depends_on: [tool]\n");
  r.write("projects/tool/Dockerfile", "ARG X=1\nFROM app\n");
  r.write("projects/tool/mlrepo.yaml", "{}\n");
  auto cycle = r.mlrepo({"list"});
  CHECK(cycle.code == 2);
  CHECK_THAT(cycle.err, Contains("dependency cycle") && Contains("projects/app/mlrepo.yaml:1 depends_on tool") &&
                            Contains("projects/tool/Dockerfile:2 FROM app"));
}

TEST_CASE("messages: a path with a leading space is quoted in the fix", "[messages]") {
  GitRepo r;
  r.write(" odd dir/Dockerfile", "FROM scratch\n");
  r.write("x. docker/Dockerfile", "FROM scratch\n");
  r.commit();
  auto run = r.mlrepo({"list"});
  CHECK(run.code == 2);
  CHECK_THAT(run.err, Contains("' odd dir/mlrepo.yaml'") && Contains("'x. docker' is not a valid name") &&
                          !Contains("'x. docker' in 'x. docker'"));
}

// Start-up stays small: libcurl and its TLS, LDAP and compression libraries
// are mapped only by a command that asks a registry (bench/startup.py
// measures the time; this checks the mechanism).
TEST_CASE("start-up: libcurl is loaded only when a registry is asked", "[startup]") {
  GitRepo r;
  r.write("mlrepo.yaml", "registry: 127.0.0.1:9/acme\n");
  r.write("a/Dockerfile", "FROM scratch\n");
  r.commit();
  auto loaded = [&](const std::vector<std::string>& args) {
    auto run = r.mlrepo(args, {{"LD_DEBUG", "files"}});
    return run.err.find("file=libcurl.so.4") != std::string::npos;
  };
  CHECK_FALSE(loaded({"--version"}));
  CHECK_FALSE(loaded({"list"}));
  CHECK_FALSE(loaded({"changed", "--base", "HEAD"}));
  CHECK(loaded({"promote", "a", "--tag", "x", "--dry-run"}));
  // libgit2's loading of the CA bundle binds to the executable's no-op
  // (git/skip_ca_bundle.cpp), and git still answers.
  auto bindings = r.mlrepo({"changed", "--base", "HEAD"}, {{"LD_DEBUG", "bindings"}});
  CHECK(bindings.code == 0);
  CHECK_THAT(bindings.err, Contains("mlrepo [0]: normal symbol `mbedtls_x509_crt_parse_")); // bound to mlrepo
}

TEST_CASE("messages: a Dockerfile ARG that grows without bound, or an over-long ignore pattern, is exit 2 at its "
          "file and line",
          "[messages]") {
  GitRepo r;
  std::string df = "FROM scratch\nARG A=a\nARG";
  for (int i = 0; i < 31; ++i)
    df += " A=$A$A";
  r.write("app/Dockerfile", df + "\n");
  r.write("ok/Dockerfile", "FROM scratch\n");
  r.commit();
  auto list = r.mlrepo({"list"});
  CHECK(list.code == 2);
  CHECK_THAT(list.err, Contains("app/Dockerfile:3") && Contains("expands to more than 128 KiB"));

  r.write("app/Dockerfile", "FROM scratch\nCOPY . /\n");
  r.write("app/.dockerignore", "*.md\n" + std::string(2000, 'x') + "\n");
  r.commit();
  r.write("app/x.py", "1\n");
  auto changed = r.mlrepo({"changed", "--base", "HEAD"});
  CHECK(changed.code == 2);
  CHECK_THAT(changed.err, Contains("app/.dockerignore:2") && Contains("2000 characters") && Contains("1024"));
  std::string deep;
  for (int i = 0; i < 22000; ++i)
    deep += "**/";
  r.write("app/.dockerignore", deep + "\n");
  auto deep_run = r.mlrepo({"changed", "--base", "HEAD"});
  CHECK(deep_run.code == 2); // not a crash: the pattern is refused, at its line
  CHECK_THAT(deep_run.err, Contains("app/.dockerignore:1"));
}

TEST_CASE("messages: the smaller things a new team met say what to do", "[messages]") {
  GitRepo r;
  r.write("mlrepo.yaml", "registry: localhost:1/acme\ndefault_branch_tags: [latest]\n");
  r.write("app/Dockerfile", "FROM scratch\n");
  r.commit();
  // On the default branch, --changed compares HEAD with itself: point at --all.
  auto nothing = r.mlrepo({"build", "--changed", "--push"});
  CHECK(nothing.code == 0);
  CHECK_THAT(nothing.err, Contains("nothing to build") && Contains("mlrepo build --all --push"));
  // A template by what people call it.
  auto jupyter = r.mlrepo({"new", "lab", "--template", "jupyter"});
  CHECK(jupyter.code == 2);
  CHECK_THAT(jupyter.err, Contains("did you mean '--template notebook'"));
  // A fixed offset is not a time zone, and the nearest name by spelling is hours off.
  r.write("app/mlrepo.yaml", "job:\n  schedule: '0 3 * * *'\n  timezone: UTC+1\n");
  auto offset = r.mlrepo({"job", "list"});
  CHECK(offset.code == 2);
  CHECK_THAT(offset.err, Contains("app/mlrepo.yaml:3") && Contains("'Etc/GMT-1'") && !Contains("did you mean 'UTC'"));
  r.remove("app/mlrepo.yaml");
  // The repository root as a context is ".".
  r.write("root/Dockerfile", "FROM scratch\n");
  r.write("root/mlrepo.yaml", "context: ..\n");
  auto list = r.mlrepo({"list", "--json"}).json();
  for (const auto& p : list["projects"])
    if (p["name"] == "root")
      CHECK(p["context"] == ".");
  // A hint names a project of this repository, or says there is none to name.
  auto which = r.mlrepo({"job", "render"});
  CHECK(which.code == 2);
  CHECK_THAT(which.err, Contains("no project has a job") && !Contains("churn-model"));
  auto help = r.mlrepo({"ci", "generate", "--help"});
  CHECK_THAT(help.out, !Contains("a test job\non every trigger") && Contains("one build job"));
  // latest from default_branch_tags and from releases: doctor says so.
  r.git({"tag", "-a", "app/v1.0.0", "-m", "release"});
  auto doctor = r.mlrepo({"doctor"});
  CHECK_THAT(doctor.out + doctor.err, Contains("'latest' has two meanings"));
}

TEST_CASE("messages: colour on a terminal unless NO_COLOR, and --color always/never decide over both",
          "[messages]") {
  GitRepo r;
  r.write("a/Dockerfile", "FROM scratch\n");
  r.commit();
  // script(1) gives mlrepo a real terminal on stderr; the helper's own
  // NO_COLOR=1 is taken away (Env value nullopt) so the terminal branch runs.
  auto on_terminal = [&](const std::string& args, const Env& env) {
    return run_program({"script", "-qec", std::string(MLREPO_BIN) + " " + args, "/dev/null"}, r.path(), env);
  };
  const std::string red = "\033[31m";
  CHECK_THAT(on_terminal("changed --base nope", {{"NO_COLOR", std::nullopt}}).out, Contains(red + "\033[1merror:"));
  CHECK_THAT(on_terminal("changed --base nope", {{"NO_COLOR", "1"}}).out, Contains("error:") && !Contains(red));
  CHECK_THAT(on_terminal("--color never changed --base nope", {{"NO_COLOR", std::nullopt}}).out,
             Contains("error:") && !Contains(red));
  // Not a terminal: plain, unless --color always.
  auto piped = r.mlrepo({"changed", "--base", "nope"}, {{"NO_COLOR", std::nullopt}});
  CHECK_THAT(piped.err, Contains("error:") && !Contains(red));
  auto always = r.mlrepo({"--color", "always", "changed", "--base", "nope"}, {{"NO_COLOR", "1"}});
  CHECK_THAT(always.err, Contains(red));
}
