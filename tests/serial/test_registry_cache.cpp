// The registry layer cache on a fresh runner: build and push, then remove
// every local image and the whole BuildKit cache, change one code file, and
// build again: the expensive dependency layer comes from the registry.
#include "support/docker.hpp"

#include "mlrepo/util/fs.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <random>
#include <set>
#include <sstream>

using namespace mlrepo::test;
using Catch::Contains;

namespace {

std::string nonce() {
  std::random_device rd;
  return std::to_string(rd()) + std::to_string(rd());
}

// What a fresh CI runner has of this project: nothing.
void forget_everything(const std::string& repository) {
  auto ids = docker({"images", "-q", repository});
  std::istringstream lines(ids);
  std::set<std::string> unique;
  for (std::string id; std::getline(lines, id);)
    unique.insert(id);
  for (const auto& id : unique)
    run_program({"docker", "rmi", "-f", id}, fs::temp_directory_path());
  REQUIRE(docker({"images", "-q", repository}).empty());
  run_program({"docker", "builder", "prune", "-af"}, fs::temp_directory_path());
}

} // namespace

TEST_CASE("registry cache: a fresh runner rebuilds only what changed", "[build][docker][cache]") {
  Registry registry;
  // Its images are named after this test's own registry (a port of its own).
  ImageScope images(registry.host() + "/");
  GitRepo r;
  std::string step = nonce();
  std::string repository = registry.host() + "/team/app";
  r.write("mlrepo.yaml", "registry: " + registry.host() + "/team\ndocker: /usr/bin/docker\n");
  r.write("base/Dockerfile", "FROM " + busybox_image() + "\nRUN echo base-" + step + " > /base\n");
  r.write("app/Dockerfile", "FROM " + registry.host() + "/team/base\nRUN echo " + step +
                                " && sleep 6 && echo deps > /deps\nCOPY code.txt /code.txt\n");
  r.write("app/code.txt", "v1\n");
  r.commit();
  auto first = r.mlrepo({"build", "app", "--push"});
  INFO(first.err);
  REQUIRE(first.code == 0);
  // No cache yet is no failure: explained, not an ERROR line.
  auto first_log = *mlrepo::util::read_file(r.file(".git/mlrepo/logs/app.log"));
  if (first_log.find(":buildcache") != std::string::npos && first_log.find("not found") != std::string::npos) {
    CHECK_THAT(first.err, Contains("no layer cache in the registry yet"));
    CHECK_THAT(first.err, !Contains("buildcache: not found"));
  }
  CHECK(remote_exists(repository + ":buildcache"));
  CHECK(remote_exists(registry.host() + "/team/base:buildcache"));

  forget_everything(repository);
  forget_everything(registry.host() + "/team/base");
  r.write("app/code.txt", "v2\n");
  r.commit("code");
  auto start = std::chrono::steady_clock::now();
  auto second = r.mlrepo({"build", "app", "--push", "-v"});
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(second.err);
  REQUIRE(second.code == 0);
  auto log = *mlrepo::util::read_file(r.file(".git/mlrepo/logs/app.log"));
  INFO(log);
  CHECK_THAT(log, Contains("importing cache manifest from " + repository + ":buildcache"));
  // The slow step is reported cached and did not run again.
  // BuildKit numbers each step ("#5 [2/3] RUN echo ...") and reports "#5 CACHED".
  auto at = log.find("RUN echo " + step);
  REQUIRE(at != std::string::npos);
  size_t line_start = log.rfind('\n', at) + 1;
  std::string id = log.substr(line_start, log.find(' ', line_start) - line_start);
  REQUIRE(id.rfind("#", 0) == 0);
  CHECK_THAT(log, Contains(id + " CACHED"));
  CHECK(seconds < 6);
  CHECK(docker({"run", "--rm", repository + ":" + r.head(), "cat", "/code.txt", "/deps"}) == "v2\ndeps\n");

  // Turned off, the cache is neither imported nor exported.
  r.write("mlrepo.yaml", "registry: " + registry.host() + "/team\ndocker: /usr/bin/docker\nbuild_cache: off\n");
  auto dry = r.mlrepo({"build", "app", "--push", "--force", "--dry-run"});
  CHECK(dry.code == 0);
  CHECK_THAT(dry.out, !Contains("--cache-from") && !Contains("buildcache"));
}

TEST_CASE("registry cache: the dry run shows the import and the export", "[build][docker][cache]") {
  Registry registry;
  // Its images are named after this test's own registry (a port of its own).
  ImageScope images(registry.host() + "/");
  GitRepo r;
  r.write("mlrepo.yaml", "registry: " + registry.host() + "/team\ndocker: /usr/bin/docker\n");
  r.write("base/Dockerfile", "FROM " + busybox_image() + "\n");
  r.write("app/Dockerfile", "FROM " + registry.host() + "/team/base\nRUN echo " + nonce() + "\n");
  r.commit();
  auto dry = r.mlrepo({"build", "app", "--push", "--dry-run"});
  INFO(dry.err);
  REQUIRE(dry.code == 0);
  CHECK_THAT(dry.out, Contains("--cache-from " + registry.host() + "/team/app:buildcache") &&
                          Contains("--cache-from " + registry.host() + "/team/base:buildcache") &&
                          Contains("BUILDKIT_INLINE_CACHE=1") &&
                          Contains("push " + registry.host() + "/team/app:content-") &&
                          !Contains("push " + registry.host() + "/team/app:buildcache"));
  // The export is a manifest copy in the registry, not a second upload: said on stderr.
  CHECK_THAT(dry.err, Contains("its layer cache tagged " + registry.host() + "/team/app:buildcache in the registry"));
  // Without --push there is no registry to share it through.
  CHECK_THAT(r.mlrepo({"build", "app", "--dry-run"}).out, !Contains("buildcache"));
}
