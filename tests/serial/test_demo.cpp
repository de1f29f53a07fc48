// The README's first command ends in scripts/demo: it must run end to end on
// this machine and leave the user's engine as it found it, but for images of
// its own names (a busybox stand-in tagged python:3.11-slim broke every real
// Python build afterwards). Serial: it owns localhost:5000 while it runs.
#include "support/docker.hpp"

#include "mlrepo/util/fs.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>

using namespace mlrepo::test;
using Catch::Contains;

TEST_CASE("demo: runs end to end and leaves no stand-in under a public image's name", "[demo][docker]") {
  bool had_python = image_exists("python:3.11-slim");
  // What the demo pushes and pulls, removed when the test ends: the user who
  // runs the demo keeps them to look at; a test run leaves nothing.
  ImageScope demo_images("localhost:5000/acme/");
  TempDir cwd;
  // A registry that takes 3 s to start (a busy machine): the demo waits for
  // it instead of silently dropping push, promote, release and render.
  auto slow = cwd.path() / "bin/docker-registry";
  fs::create_directories(slow.parent_path());
  mlrepo::util::write_file_atomic(slow, "#!/bin/sh\nsleep 3\nexec /usr/bin/docker-registry \"$@\"\n");
  fs::permissions(slow, fs::perms::owner_all);
  const char* path = std::getenv("PATH");
  auto run = run_program({std::string(MLREPO_SOURCE_DIR) + "/scripts/demo", MLREPO_BIN}, cwd.path(),
                         {{"PATH", slow.parent_path().string() + ":" + (path ? path : "/usr/bin:/bin")}});
  INFO(run.out << run.err);
  REQUIRE(run.code == 0);
  CHECK_THAT(run.out, Contains("mlrepo build --changed") && Contains("\"name\": \"demand-forecast\"") &&
                          Contains("mlrepo promote --release"));
  // It ends by running churn-model's job locally, its secret never shown.
  CHECK_THAT(run.out, Contains("mlrepo job list") && Contains("0 3 * * 1-5 (Europe/Berlin)") &&
                          Contains("mlrepo job run churn-model"));
  CHECK_THAT(run.err, Contains("churn-model: succeeded on attempt 1/2") && Contains("-e DB_PASSWORD "));
  CHECK_THAT(run.out + run.err, !Contains("demo-only-password"));
  // The pipeline runs twice: train then forecast, then both from the step cache.
  auto first = run.out.find("forecast  demand-forecast  succeeded");
  auto second = run.out.find("forecast  demand-forecast  cached");
  CHECK(first != std::string::npos);
  CHECK(second != std::string::npos);
  CHECK(first < second);
  CHECK_THAT(run.out, Contains("train     churn-model      cached") && Contains("pipeline churn-weekly: succeeded"));
  // The registry ran, so the cluster's job (demand-forecast: runs_on:
  // kubernetes) is rendered as a CronJob, pinned by digest.
  CHECK_THAT(run.out, Contains("kind: CronJob") && Contains("namespace: 'ml-prod'") &&
                          Contains("/acme/demand-forecast@sha256:") && Contains("schedule: '0 6 * * 1'") &&
                          Contains("mlrepo job render demand-forecast"));
  if (!had_python)
    CHECK_FALSE(image_exists("python:3.11-slim"));
}
