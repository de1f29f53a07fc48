#include "mlrepo/util/error.hpp"
#include "mlrepo/util/process.hpp"

#include <catch2/catch.hpp>

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
