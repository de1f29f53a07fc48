#include "mlrepo/util/error.hpp"
#include "mlrepo/util/process.hpp"

#include <catch2/catch.hpp>
#include <csignal>

using namespace mlrepo;
using namespace mlrepo::util;

TEST_CASE("arguments reach the child literally, without a shell", "[process]") {
  SpawnRunner runner;
  ProcessSpec spec;
  spec.argv = {"printf", "%s|", "a b", "$(echo no)", "'q'", ";", "*"};
  auto r = runner.run(spec);
  CHECK(r.ok());
  CHECK(r.out == "a b|$(echo no)|'q'|;|*|");
}

TEST_CASE("exit codes, stdin, env and cwd", "[process]") {
  SpawnRunner runner;
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "cat; echo \"$MLREPO_T\"; pwd; exit 7"};
  spec.stdin_data = "in\n";
  spec.env["MLREPO_T"] = "val";
  spec.cwd = "/";
  auto r = runner.run(spec);
  CHECK(r.exit_code == 7);
  CHECK(r.out == "in\nval\n/\n");
}

TEST_CASE("lines stream to the callback", "[process]") {
  SpawnRunner runner;
  ProcessSpec spec;
  std::vector<std::string> lines;
  spec.argv = {"sh", "-c", "echo one; echo two >&2; printf three"};
  spec.on_line = [&](std::string_view l) { lines.emplace_back(l); };
  auto r = runner.run(spec);
  CHECK(r.ok());
  CHECK(lines.size() == 3);
}

TEST_CASE("a missing program is an environment error", "[process]") {
  SpawnRunner runner;
  ProcessSpec spec;
  spec.argv = {"mlrepo-no-such-program"};
  try {
    runner.run(spec);
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::Environment);
  }
}

TEST_CASE("shell quoting for dry runs", "[process]") {
  CHECK(shell_quote({"docker", "build", "-t", "a:b"}) == "docker build -t a:b");
  CHECK(shell_quote({"x", "a b", "it's", ""}) == "x 'a b' 'it'\\''s' ''");
}

TEST_CASE("a child past its deadline is stopped and reported as timed out", "[process]") {
  SpawnRunner runner;
  ProcessSpec spec;
  spec.argv = {"sleep", "30"};
  bool told = false;
  spec.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  spec.on_deadline = [&] { told = true; };
  auto started = std::chrono::steady_clock::now();
  auto r = runner.run(spec);
  CHECK(r.timed_out);
  CHECK(told);
  CHECK_FALSE(r.interrupted);
  CHECK(r.signal == SIGTERM);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));

  ProcessSpec quick;
  quick.argv = {"true"};
  quick.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto q = runner.run(quick);
  CHECK_FALSE(q.timed_out);
  CHECK(q.ok());
}
