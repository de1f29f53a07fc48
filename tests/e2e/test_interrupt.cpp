// SIGTERM and SIGINT stop mlrepo promptly in its own CPU-bound work too, not
// only while a child process runs.
#include "support/docker.hpp"

#include "mlrepo/util/fs.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <thread>

using namespace mlrepo::test;
using Catch::Contains;

TEST_CASE("a signal stops a long `changed` promptly, exit 130", "[interrupt]") {
  GitRepo r;
  r.write("app/Dockerfile", "FROM scratch\n");
  r.commit();
  // Thousands of changed files against thousands of global triggers: seconds
  // of glob matching with nothing else running.
  for (int i = 0; i < 3000; ++i)
    r.write("app/src/module_" + std::to_string(i % 50) + "/file_" + std::to_string(i) + ".py", "x\n");
  std::string config = "global_triggers:\n";
  for (int i = 0; i < 12000; ++i)
    config += "  - '**/never-" + std::to_string(i) + "/**/*.cfg'\n";
  r.write("mlrepo.yaml", config);
  r.commit();

  for (int sig : {SIGTERM, SIGINT}) {
    TempDir out;
    Background run({MLREPO_BIN, "changed", "--base", "HEAD~1", "--no-uncommitted"}, r.path(), {},
                   out.path() / "out.txt");
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    if (run.poll()) {
      WARN("mlrepo finished within 0.7 s on this machine; the workload is too small to show the interrupt");
      continue;
    }
    auto sent = std::chrono::steady_clock::now();
    run.signal(sig);
    int code = run.wait(30);
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
    INFO("signal " << sig << ": " << mlrepo::util::read_file(out.path() / "out.txt").value_or(""));
    CHECK(code == 130);
    CHECK(took < 1.0);
  }
}
