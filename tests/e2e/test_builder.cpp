// BuildKit wherever the engine offers it: Debian's docker.io 20.10 client
// (/usr/bin/docker) has it built in; the docker 28 CLI on PATH without buildx
// has only the classic builder. Both are tested against the same engine.
#include "support/docker.hpp"

#include "mlrepo/util/fs.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <random>

using namespace mlrepo::test;
using Catch::Contains;

namespace {

const char* kBuiltinBuildkitCli = "/usr/bin/docker";

// The CLI `docker` resolves to on PATH, when it is not Debian's 20.10.
bool path_docker_is_classic_only() {
  auto r = run_program({"docker", "version", "--format", "{{.Client.Version}}"}, fs::temp_directory_path());
  if (r.code != 0 || r.out.empty() || std::stoi(r.out) < 23)
    return false;
  return run_program({"docker", "buildx", "version"}, fs::temp_directory_path()).code != 0;
}

std::string nonce() {
  std::random_device rd;
  return std::to_string(rd()) + std::to_string(rd());
}

const char* kCacheMount = "RUN --mount=type=cache,target=/cache echo hi > /cache/x && cat /cache/x > /out\n";

} // namespace

TEST_CASE("builder: RUN --mount builds with the BuildKit a pre-23 CLI has built in",
          "[build][docker][buildkit]") {
  REQUIRE(fs::exists(kBuiltinBuildkitCli));
  ImageScope images;
  GitRepo r;
  r.write("mlrepo.yaml", "image_prefix: " + images.prefix() + "\ndocker: " + kBuiltinBuildkitCli + "\n");
  r.write("app/Dockerfile", "FROM " + busybox_image() + "\n" + kCacheMount);
  r.commit();
  auto run = r.mlrepo({"build", "app", "-v"});
  INFO(run.err);
  REQUIRE(run.code == 0);
  CHECK_THAT(run.err, Contains("builder: BuildKit") && Contains("older than 23"));
  CHECK(docker({"run", "--rm", images.prefix() + "app:" + r.head(), "cat", "/out"}) == "hi\n");
  auto doctor = r.mlrepo({"doctor"});
  CHECK_THAT(doctor.out + doctor.err, Contains("builds use BuildKit"));
}

TEST_CASE("builder: with only the classic builder, BuildKit Dockerfiles are refused up front",
          "[build][docker][buildkit]") {
  if (!path_docker_is_classic_only())
    { WARN("the docker on PATH has BuildKit: nothing classic-only to test here"); return; }
  ImageScope images;
  GitRepo r;
  r.write("mlrepo.yaml", "image_prefix: " + images.prefix() + "\n");
  r.write("base/Dockerfile", "FROM " + busybox_image() + "\nRUN echo base > /b\n");
  r.write("app/Dockerfile", "FROM " + images.prefix() + "base\n" + kCacheMount +
                                "COPY <<EOF /greeting\nhello\nEOF\n");
  r.write("multi/Dockerfile", "FROM " + busybox_image() + "\n");
  r.write("multi/mlrepo.yaml", "platforms: [linux/amd64, linux/arm64]\n");
  r.commit();
  auto run = r.mlrepo({"build", "--all"});
  CHECK(run.code == 3);
  CHECK_THAT(run.err, Contains("app/Dockerfile:2: RUN --mount") && Contains("app/Dockerfile:3: COPY with a heredoc") &&
                          Contains("'multi' builds for 2 platforms") && Contains("classic builder") &&
                          Contains("docker-buildx") && Contains("/usr/bin/docker"));
  // Nothing was built first: not even the base, which alone would build.
  CHECK_FALSE(image_exists(images.prefix() + "base:" + r.head()));
  auto doctor = r.mlrepo({"doctor"});
  CHECK_THAT(doctor.out + doctor.err, Contains("classic builder"));
}

TEST_CASE("builder: a failed classic RUN leaves no container behind", "[build][docker][buildkit]") {
  if (!path_docker_is_classic_only())
    { WARN("the docker on PATH has BuildKit"); return; }
  ImageScope images;
  GitRepo r;
  std::string marker = "mlrepo-leftover-" + nonce();
  r.write("mlrepo.yaml", "image_prefix: " + images.prefix() + "\n");
  r.write("bad/Dockerfile", "FROM " + busybox_image() + "\nRUN echo " + marker + " && false\n");
  r.commit();
  auto run = r.mlrepo({"build", "bad"});
  CHECK(run.code == 1);
  auto left = docker({"ps", "-a", "--no-trunc", "--format", "{{.Command}}"});
  CHECK_THAT(left, !Contains(marker));
}

TEST_CASE("builder: 'docker:' takes an absolute path and refuses a relative one", "[config][buildkit]") {
  GitRepo r;
  r.write("a/Dockerfile", "FROM scratch\n");
  r.write("mlrepo.yaml", "docker: bin/docker\n");
  auto run = r.mlrepo({"list"});
  CHECK(run.code == 2);
  CHECK_THAT(run.err, Contains("mlrepo.yaml:1") && Contains("absolute path"));
  r.write("mlrepo.yaml", "docker: /usr/bin/docker\n");
  CHECK(r.mlrepo({"list"}).code == 0);
}
