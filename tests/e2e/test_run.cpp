// `mlrepo test` and `mlrepo run` against the real Docker engine.
#include "support/docker.hpp"

#include "mlrepo/util/fs.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <thread>

using namespace mlrepo::test;
using Catch::Contains;

namespace {

struct RunRepo {
  GitRepo repo;
  ImageScope images;
  RunRepo() {
    repo.write("mlrepo.yaml", "image_prefix: " + images.prefix() + "\n");
    repo.write("good/Dockerfile", "FROM " + busybox_image() + "\nCOPY . /app\nWORKDIR /app\n");
    repo.write("good/check.sh", "test -f /app/check.sh && echo all-good\n");
    repo.write("good/mlrepo.yaml", "test: sh check.sh\nlint: [sh, -c, 'echo linting']\n"
                                   "run:\n  env: {GREETING: hello}\n  volumes: ['data:/data:ro']\n"
                                   "  command: [sh, -c, 'echo \"$GREETING from the default command\"']\n");
    repo.write("bad/Dockerfile", "FROM " + busybox_image() + "\n");
    repo.write("bad/mlrepo.yaml", "test: echo failing-test; exit 3\n");
    repo.write("none/Dockerfile", "FROM " + busybox_image() + "\n");
    repo.write("data/input.csv", "a,b\n1,2\n");
    repo.commit();
  }
};

} // namespace

TEST_CASE("test: runs lint and test in a fresh container and names failures", "[test][docker]") {
  RunRepo r;
  auto run = r.repo.mlrepo({"test", "good"});
  INFO(run.err);
  CHECK(run.code == 0);
  CHECK_THAT(run.err, Contains("linting") && Contains("all-good") && Contains("tests passed: good"));

  run = r.repo.mlrepo({"test", "good", "bad", "none"});
  CHECK(run.code == 1);
  CHECK_THAT(run.err, Contains("failing-test") && Contains("tests failed: bad") &&
                          Contains("none: nothing to run: it has no mlrepo.yaml; create none/mlrepo.yaml with a "
                                   "test: or lint: command"));
  CHECK_THAT(run.err, !Contains("tests failed: bad, good"));

  SECTION("--only and the project you are in") {
    auto only = r.repo.mlrepo({"test", "--only", "lint"}, {}, "good");
    CHECK(only.code == 0);
    CHECK_THAT(only.err, Contains("linting") && !Contains("all-good"));
  }
  SECTION("--all: every project once, from anywhere in the repository") {
    auto all = r.repo.mlrepo({"test", "--all"}, {}, "data");
    CHECK(all.code == 1);
    CHECK_THAT(all.err, Contains("all-good") && Contains("failing-test") && Contains("tests failed: bad") &&
                            Contains("none: nothing to run"));
    CHECK(all.err.find("==> good: lint:") == all.err.rfind("==> good: lint:")); // good's lint ran once
    auto both = r.repo.mlrepo({"test", "--all", "good"});
    CHECK(both.code == 2);
    CHECK_THAT(both.err, Contains("--all"));
  }
  SECTION("--changed") {
    r.repo.write("bad/x", "1");
    auto changed = r.repo.mlrepo({"test", "--changed"});
    CHECK(changed.code == 1);
    CHECK_THAT(changed.err, Contains("tests failed: bad") && !Contains("all-good"));
  }
  SECTION("an image that does not build fails the run") {
    r.repo.write("good/Dockerfile", "FROM " + busybox_image() + "\nRUN exit 5\n");
    auto broken = r.repo.mlrepo({"test", "good"});
    CHECK(broken.code == 1);
    CHECK_THAT(broken.err, Contains("could not build: good"));
  }
}

TEST_CASE("run: arguments, settings, overrides and exit codes", "[run][docker]") {
  RunRepo r;
  auto run = r.repo.mlrepo({"run", "good"});
  INFO(run.err);
  CHECK(run.code == 0);
  CHECK(run.out == "hello from the default command\n");

  run = r.repo.mlrepo({"run", "good", "--", "sh", "-c", "cat /data/input.csv; printf '%s|' \"$@\"", "x", "a b", "$HOME;"});
  CHECK(run.code == 0);
  CHECK(run.out == "a,b\n1,2\na b|$HOME;|");

  run = r.repo.mlrepo({"run", "good", "--env", "GREETING=bonjour", "--volume", "good:/extra", "--",
                       "sh", "-c", "echo $GREETING; ls /extra"});
  CHECK(run.code == 0);
  CHECK_THAT(run.out, Contains("bonjour") && Contains("check.sh"));

  run = r.repo.mlrepo({"run", "good", "--", "sh", "-c", "exit 7"});
  CHECK(run.code == 7);
  run = r.repo.mlrepo({"run", "nope"});
  CHECK(run.code == 2);
  CHECK_THAT(run.err, Contains("nope"));
  CHECK(run.out.empty());
}

TEST_CASE("run: a signal reaches the container", "[run][docker]") {
  RunRepo r;
  TempDir tmp;
  auto out = tmp.path() / "out.txt";
  Background mlrepo({MLREPO_BIN, "run", "good", "--", "sh", "-c",
                     "trap 'echo got-term; exit 42' TERM; echo ready; while :; do sleep 1; done"},
                    r.repo.path(), {{"CI", std::nullopt}}, out);
  bool ready = false;
  for (int i = 0; i < 600 && !ready; ++i) {
    ready = mlrepo::util::read_file(out).value_or("").find("ready") != std::string::npos;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(ready);
  mlrepo.signal(SIGTERM);
  CHECK(mlrepo.wait(60) == 130);
  CHECK_THAT(mlrepo::util::read_file(out).value_or(""), Contains("got-term"));
}

namespace {
// Containers of this test's images that exist (running or not).
std::string containers_of() {
  return run_program({"docker", "ps", "-a", "--format", "{{.Image}} {{.Names}} {{.Status}}"}, fs::temp_directory_path())
      .out;
}
} // namespace

TEST_CASE("run and test: an interrupt stops the container itself, promptly", "[run][docker]") {
  RunRepo r;
  r.repo.write("slow/Dockerfile", "FROM " + busybox_image() + "\n");
  // PID 1 that ignores SIGTERM, as most programs started without an init do.
  r.repo.write("slow/mlrepo.yaml", "test: [sh, -c, 'echo started; exec sleep 300']\n");
  r.repo.commit();
  for (const auto& args : {std::vector<std::string>{MLREPO_BIN, "run", "slow", "--", "sh", "-c", "echo started; exec sleep 300"},
                           std::vector<std::string>{MLREPO_BIN, "test", "slow"}}) {
    TempDir tmp;
    auto out = tmp.path() / "out.txt";
    Background mlrepo(args, r.repo.path(), {{"CI", std::nullopt}}, out);
    bool started = false;
    for (int i = 0; i < 600 && !started; ++i) {
      started = mlrepo::util::read_file(out).value_or("").find("started") != std::string::npos;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    REQUIRE(started);
    std::string image = r.images.prefix() + "slow";
    REQUIRE_THAT(containers_of(), Contains(image));
    auto sent = std::chrono::steady_clock::now();
    mlrepo.signal(SIGTERM);
    int code = mlrepo.wait(60);
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
    INFO(args[1] << ": " << mlrepo::util::read_file(out).value_or(""));
    CHECK(code == 130);
    CHECK(took < 8.0); // docker stop's 3-second grace, not the 10 s of a killed CLI
    CHECK(no_container_left(image)); // stopped and removed, not left running (--rm's removal is awaited)
  }
}

TEST_CASE("run: a volume's missing host path is an error, not a new directory", "[run][docker]") {
  RunRepo r;
  auto typo = r.repo.mlrepo({"run", "good", "--volume", "nodata:/data2", "--", "true"});
  CHECK(typo.code == 2);
  CHECK_THAT(typo.err, Contains("--volume 'nodata:/data2'") && Contains((r.repo.path() / "nodata").string()) &&
                           Contains("does not exist") && Contains("--mkdir"));
  CHECK_FALSE(fs::exists(r.repo.path() / "nodata"));
  CHECK_THAT(typo.err, !Contains("building")); // refused before anything built

  auto made = r.repo.mlrepo({"run", "good", "--mkdir", "--volume", "nodata:/data2", "--", "test", "-d", "/data2"});
  INFO(made.err);
  CHECK(made.code == 0);
  CHECK(fs::is_directory(r.repo.path() / "nodata"));

  r.repo.write("good/mlrepo.yaml", "run:\n  volumes: ['datta:/data']\n");
  auto config = r.repo.mlrepo({"run", "good", "--", "true"});
  CHECK(config.code == 2);
  CHECK_THAT(config.err, Contains("run.volumes entry in good/mlrepo.yaml 'datta:/data'") && Contains("does not exist"));
}

TEST_CASE("run: on a terminal, Ctrl-C is exit 130 even when the container traps it and exits 0", "[run][docker]") {
  RunRepo r;
  // The container handles SIGINT itself (cleans up, exits 0): the key still
  // reached it, and mlrepo says the run was interrupted.
  auto run = run_program({"python3", std::string(MLREPO_SOURCE_DIR) + "/tests/fixtures/pty_ctrl_c.py", "started", "60",
                          "--", MLREPO_BIN, "run", "good", "--", "sh", "-c",
                          "trap 'echo trapped; exit 0' INT; echo started; while true; do sleep 0.2; done"},
                         r.repo.path());
  INFO(run.out << run.err);
  REQUIRE(run.code == 0);
  auto result = nlohmann::json::parse(run.out);
  CHECK(result["exit"] == 130);
  CHECK_THAT(result["output"].get<std::string>(), Contains("trapped")); // the container got the key
  CHECK(result["seconds"].get<double>() < 10);
  // Without a Ctrl-C, its own exit code, as before.
  auto plain = run_program({"python3", std::string(MLREPO_SOURCE_DIR) + "/tests/fixtures/pty_ctrl_c.py", "never-printed",
                            "20", "--", MLREPO_BIN, "run", "good", "--", "sh", "-c", "echo hi; exit 3"},
                           r.repo.path());
  REQUIRE(plain.code == 0);
  CHECK(nlohmann::json::parse(plain.out)["exit"] == 3);
}

TEST_CASE("run: --volume host paths are relative to the current directory, also inside a project", "[run][docker]") {
  RunRepo r;
  r.repo.write("good/data/inside.txt", "from the project's data\n");
  r.repo.write("data/root.txt", "from the repository root's data\n");
  // Started in good/ without naming the project: ./data is good/data.
  auto run = r.repo.mlrepo({"run", "--volume", "./data:/mnt/d", "--", "ls", "/mnt/d"}, {}, "good");
  INFO(run.err);
  REQUIRE(run.code == 0);
  CHECK_THAT(run.out, Contains("inside.txt") && !Contains("root.txt"));
  // Named explicitly from the root: the root's data.
  auto named = r.repo.mlrepo({"run", "good", "--volume", "./data:/mnt/d", "--", "ls", "/mnt/d"});
  REQUIRE(named.code == 0);
  CHECK_THAT(named.out, Contains("root.txt"));
}

TEST_CASE("run: on a terminal, Ctrl-C reaches the command and mlrepo exits 130", "[run][docker]") {
  RunRepo r;
  // `sleep` as the command: without an init it would be PID 1, which ignores
  // SIGINT, and Ctrl-C would do nothing until it ended by itself (exit 0).
  auto run = run_program({"python3", std::string(MLREPO_SOURCE_DIR) + "/tests/fixtures/pty_ctrl_c.py", "started", "60",
                          "--", MLREPO_BIN, "run", "good", "--", "sh", "-c", "echo started; exec sleep 100"},
                         r.repo.path());
  INFO(run.out << run.err);
  REQUIRE(run.code == 0);
  auto result = nlohmann::json::parse(run.out);
  CHECK(result["exit"] == 130);
  REQUIRE(result["seconds"].is_number());
  CHECK(result["seconds"].get<double>() < 10);
  CHECK(no_container_left(r.images.prefix() + "good"));
}

// One progress printer, chosen once from the run context: in GitHub Actions
// every command that builds shows GitHub's log groups and writes the build
// table to the step summary, as `build` does; a current image says nothing.
TEST_CASE("test, run and job run in GitHub Actions: the build's log groups and step summary, as build gives them",
          "[test][run][docker]") {
  RunRepo r;
  r.repo.write("good/mlrepo.yaml", "test: sh check.sh\njob:\n  command: [sh, -c, 'echo job ran']\n");
  r.repo.commit();
  auto summary = r.repo.path() / ".git" / "summary.md";
  Env actions{{"GITHUB_ACTIONS", "true"}, {"GITHUB_STEP_SUMMARY", summary.string()}, {"NO_COLOR", "1"}};
  auto tested = r.repo.mlrepo({"test", "good"}, actions);
  INFO(tested.err);
  CHECK(tested.code == 0);
  CHECK_THAT(tested.err, Contains("::group::good: built") && Contains("::endgroup::") &&
                             !Contains("==> good: building") && !Contains("[good] Step"));
  auto text = mlrepo::util::read_file(summary).value_or("");
  CHECK_THAT(text, Contains("### mlrepo build") && Contains("| good | built |") && Contains("### mlrepo test"));

  // Current now: nothing of the build is said, in the log or the summary.
  fs::remove(summary);
  auto again = r.repo.mlrepo({"test", "good"}, actions);
  CHECK(again.code == 0);
  CHECK_THAT(again.err, !Contains("::group::good") && Contains("all-good"));
  CHECK_THAT(mlrepo::util::read_file(summary).value_or(""), !Contains("### mlrepo build"));

  // run and job run choose the same printer.
  r.repo.write("good/check.sh", "echo changed\n");
  auto ran = r.repo.mlrepo({"run", "good", "--", "true"}, actions);
  CHECK(ran.code == 0);
  CHECK_THAT(ran.err, Contains("::group::good: built"));
  r.repo.write("good/check.sh", "echo changed again\n");
  auto job = r.repo.mlrepo({"job", "run", "good"}, actions);
  INFO(job.err);
  CHECK(job.code == 0);
  CHECK_THAT(job.err, Contains("::group::good: built") && Contains("job ran"));
}
