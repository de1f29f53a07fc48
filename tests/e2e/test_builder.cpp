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
  if (!path_docker_is_classic_only()) {
    // The other branch, asserted: with BuildKit on PATH the same Dockerfile
    // builds (nothing to refuse), and doctor says which builder it is.
    WARN("the docker on PATH has BuildKit: the classic builder's refusal is not tested here");
    ImageScope images;
    GitRepo r;
    r.write("mlrepo.yaml", "image_prefix: " + images.prefix() + "\n");
    r.write("app/Dockerfile", "FROM " + busybox_image() + "\n" + kCacheMount);
    r.commit();
    CHECK(r.mlrepo({"build", "app"}).code == 0);
    auto doctor = r.mlrepo({"doctor"});
    CHECK_THAT(doctor.out + doctor.err, Contains("builds use BuildKit"));
    return;
  }
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
  if (!path_docker_is_classic_only()) {
    WARN("the docker on PATH has BuildKit: the classic builder's leftover container is not tested here");
    CHECK_FALSE(path_docker_is_classic_only()); // the branch taken, asserted
    return;
  }
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

TEST_CASE("content tag: the same bytes give the same tag, committed or not, and .dockerignore'd "
          "files do not count",
          "[build][docker][content]") {
  ImageScope images;
  GitRepo r;
  r.write("mlrepo.yaml", "image_prefix: " + images.prefix() + "\n");
  r.write("app/Dockerfile", "FROM " + busybox_image() + "\nCOPY . /app\n");
  r.write("app/.dockerignore", "# docs never reach the image\n*.md\ndata/\n!data/keep.csv\n");
  r.write("app/README.md", "v1\n");
  r.write("app/train.py", "print(1)\n");
  r.write("app/data/big.csv", "1,2\n");
  r.write("app/data/keep.csv", "3,4\n");
  r.commit();
  auto tags = [&] {
    auto run = r.mlrepo({"build", "app", "--dry-run"});
    INFO(run.err);
    REQUIRE(run.code == 0);
    std::string line = run.lines().at(0);
    auto at = line.find(images.prefix() + "app:content-");
    REQUIRE(at != std::string::npos);
    std::string content = line.substr(at, line.find(' ', at) - at);
    bool dirty = line.find("-dirty") != std::string::npos;
    return std::pair{content, dirty};
  };
  auto [clean_tag, clean_dirty] = tags();
  CHECK_FALSE(clean_dirty);
  // An ignored edit: nothing the build sees changed.
  r.write("app/README.md", "v2, much better docs\n");
  r.write("app/data/big.csv", "5,6\n");
  r.write("app/notes.md", "new, ignored\n");
  CHECK(tags() == std::pair{clean_tag, false});
  // A seen edit changes the tag and makes the commit tag -dirty ...
  r.write("app/train.py", "print(2)\n");
  r.write("app/data/keep.csv", "7,8\n");
  auto [edited, edited_dirty] = tags();
  CHECK(edited != clean_tag);
  CHECK(edited_dirty);
  // ... and committing the same bytes keeps it.
  r.commit("edit");
  CHECK(tags() == std::pair{edited, false});
  // Reverting in the work tree gives the first tag back.
  r.write("app/train.py", "print(1)\n");
  r.write("app/data/keep.csv", "3,4\n");
  CHECK(tags().first == clean_tag);
  // The built image really lacks the ignored files.
  auto build = r.mlrepo({"build", "app"});
  INFO(build.err);
  REQUIRE(build.code == 0);
  auto listing = docker({"run", "--rm", clean_tag, "sh", "-c", "cd /app && ls -R"});
  CHECK_THAT(listing, Contains("train.py") && Contains("keep.csv") && !Contains("README.md") &&
                          !Contains("big.csv"));
}

TEST_CASE("secrets: readable in the build, absent from argv, logs, labels, report and history",
          "[build][docker][secrets]") {
  ImageScope images;
  GitRepo r;
  const std::string value = "tok-" + nonce();
  r.write("mlrepo.yaml", "image_prefix: " + images.prefix() + "\ndocker: " + kBuiltinBuildkitCli + "\n");
  // The build proves it read the secret by its length, never by its value.
  // (The first RUN keeps BuildKit from reusing an earlier run's layer.)
  r.write("app/Dockerfile", "FROM " + busybox_image() + "\nRUN echo " + nonce() + " > /run-id" +
                                "\nRUN --mount=type=secret,id=pip_token "
                                "wc -c < /run/secrets/pip_token > /seen\n");
  r.write("app/mlrepo.yaml", "secrets:\n  pip_token: MLREPO_TEST_TOKEN\n");
  r.commit();
  // Missing: exit 2 naming the project and the variable, before any build.
  auto missing = r.mlrepo({"build", "app"});
  CHECK(missing.code == 2);
  CHECK_THAT(missing.err, Contains("'app'") && Contains("MLREPO_TEST_TOKEN"));
  CHECK_THAT(missing.err, Contains("export MLREPO_TEST_TOKEN") && !Contains("secrets.")); // no workflow talk
  // In GitHub Actions: which repository secret to add (and where to rename it).
  auto in_ci = r.mlrepo({"build", "app"}, {{"GITHUB_ACTIONS", "true"}, {"CI", "true"}});
  CHECK(in_ci.code == 2);
  CHECK_THAT(in_ci.err, Contains("add the repository secret MLREPO_TEST_TOKEN") && Contains("ci.secrets") &&
                            !Contains("Do not edit"));
  // A dry run plans without the value.
  auto dry_unset = r.mlrepo({"build", "app", "--dry-run"});
  CHECK(dry_unset.code == 0);
  auto dry = r.mlrepo({"build", "app", "--dry-run"}, {{"MLREPO_TEST_TOKEN", value}});
  CHECK_THAT(dry.out, Contains("--secret id=pip_token,env=MLREPO_TEST_TOKEN") && !Contains(value));
  CHECK(dry_unset.out == dry.out);
  TempDir tmp;
  auto report = tmp.path() / "report.json";
  auto run = r.mlrepo({"build", "app", "-v", "--json-report", report.string()}, {{"MLREPO_TEST_TOKEN", value}});
  INFO(run.err);
  REQUIRE(run.code == 0);
  std::string image = images.prefix() + "app:" + r.head();
  CHECK(docker({"run", "--rm", image, "cat", "/seen"}) == std::to_string(value.size()) + "\n");
  CHECK_THAT(run.out + run.err, !Contains(value));
  CHECK_THAT(*mlrepo::util::read_file(report), !Contains(value));
  CHECK_THAT(docker({"history", "--no-trunc", image}), !Contains(value));
  CHECK_THAT(docker({"image", "inspect", image}), !Contains(value));
  for (const auto& e : fs::recursive_directory_iterator(r.file(".git/mlrepo/logs")))
    if (e.is_regular_file())
      CHECK_THAT(*mlrepo::util::read_file(e.path()), !Contains(value));
  // Built already: a build that is skipped needs no secret.
  auto skipped = r.mlrepo({"build", "app"});
  INFO(skipped.err);
  CHECK(skipped.code == 0);
  // Which secrets (not their values) are part of the content.
  r.write("app/mlrepo.yaml", "secrets:\n  pip_token: MLREPO_TEST_TOKEN\n  other: MLREPO_TEST_TOKEN\n");
  auto again = r.mlrepo({"build", "app", "--dry-run"}, {{"MLREPO_TEST_TOKEN", value}});
  auto content_tag = [](const std::string& out) {
    auto at = out.find(":content-");
    return at == std::string::npos ? std::string() : out.substr(at, 29);
  };
  REQUIRE_FALSE(content_tag(dry.out).empty());
  CHECK(content_tag(again.out) != content_tag(dry.out));
}

TEST_CASE("builder: several platforms with the BuildKit a pre-23 CLI has built in are refused before building",
          "[build][docker][buildkit]") {
  ImageScope images;
  GitRepo r;
  r.write("mlrepo.yaml", "image_prefix: " + images.prefix() + "\ndocker: " + kBuiltinBuildkitCli + "\n");
  r.write("single/Dockerfile", "FROM " + busybox_image() + "\n");
  r.write("multi/Dockerfile", "FROM " + busybox_image() + "\n");
  r.write("multi/mlrepo.yaml", "platforms: [linux/amd64, linux/arm64]\n");
  r.commit();
  auto run = r.mlrepo({"build", "--all"});
  CHECK(run.code == 3);
  CHECK_THAT(run.err, Contains("several platforms at once needs docker buildx") &&
                          Contains("multi/mlrepo.yaml: platforms [linux/amd64, linux/arm64]") &&
                          !Contains("invalid component"));
  CHECK_FALSE(image_exists(images.prefix() + "single:" + r.head())); // nothing built first
  // One platform builds.
  r.write("multi/mlrepo.yaml", "platforms: [linux/amd64]\n");
  r.commit();
  auto one = r.mlrepo({"build", "multi"});
  INFO(one.err);
  CHECK(one.code == 0);
}

TEST_CASE("builder: a Dockerfile's own .dockerignore decides what BuildKit sends, and changed and the content tag "
          "follow it on any machine",
          "[build][docker][buildkit][dockerignore]") {
  REQUIRE(fs::exists(kBuiltinBuildkitCli));
  ImageScope images;
  GitRepo r;
  std::string with_buildkit = "image_prefix: " + images.prefix() + "\ndocker: " + kBuiltinBuildkitCli + "\n";
  r.write("mlrepo.yaml", with_buildkit);
  // app: the context's .dockerignore leaves out *.md, but app/Dockerfile has
  // its own, which BuildKit reads instead (so README.md is in the image).
  r.write("app/Dockerfile", "FROM " + busybox_image() + "\nCOPY . /app/\n");
  r.write("app/.dockerignore", "*.md\n");
  r.write("app/Dockerfile.dockerignore", "data\n");
  r.write("app/README.md", "read me\n");
  r.write("app/train.py", "1\n");
  r.write("app/data/big.csv", "1\n");
  // svc: builds train.Dockerfile, which has train.Dockerfile.dockerignore.
  r.write("svc/Dockerfile", "FROM " + busybox_image() + "\n");
  r.write("svc/mlrepo.yaml", "dockerfile: train.Dockerfile\n");
  r.write("svc/train.Dockerfile", "FROM " + busybox_image() + "\nCOPY . /svc/\n");
  r.write("svc/train.Dockerfile.dockerignore", "scratch.txt\n");
  r.write("svc/ok.txt", "1\n");
  r.write("svc/scratch.txt", "1\n");
  r.commit();
  auto build = r.mlrepo({"build", "--all"});
  INFO(build.err);
  REQUIRE(build.code == 0);
  // What the real build sent: the oracle for everything below.
  auto app = docker({"run", "--rm", images.prefix() + "app:" + r.head(), "sh", "-c", "cd /app && ls -R"});
  CHECK_THAT(app, Contains("README.md") && Contains("train.py") && !Contains("big.csv"));
  auto svc = docker({"run", "--rm", images.prefix() + "svc:" + r.head(), "sh", "-c", "cd /svc && ls -R"});
  CHECK_THAT(svc, Contains("ok.txt") && !Contains("scratch.txt"));

  // A file the build includes (though the context's .dockerignore lists it): a change.
  r.write("app/README.md", "edited\n");
  CHECK(r.mlrepo({"changed", "--base", "HEAD"}).lines() == std::vector<std::string>{"app"});
  // Files the Dockerfile's ignore file leaves out: no change, and no new content tag.
  r.git({"checkout", "--", "app/README.md"});
  r.write("app/data/big.csv", "2\n");
  r.write("svc/scratch.txt", "2\n");
  CHECK(r.mlrepo({"changed", "--base", "HEAD"}).lines().empty());
  auto again = r.mlrepo({"build", "--all"});
  INFO(again.err);
  CHECK(again.code == 0);
  CHECK_THAT(again.err, Contains("2 projects up to date, nothing built"));
  r.git({"checkout", "--", "."});
  // Deleting the Dockerfile's own ignore file is a change: the context's applies again.
  r.remove("app/Dockerfile.dockerignore");
  CHECK(r.mlrepo({"changed", "--base", "HEAD"}).lines() == std::vector<std::string>{"app"});
  r.git({"checkout", "--", "."});

  // The classic builder cannot honour a Dockerfile's own ignore file: refused
  // before anything builds, naming each file.
  if (!path_docker_is_classic_only()) {
    WARN("the docker on PATH has BuildKit: the classic builder's refusal is not tested here");
    return;
  }
  r.write("mlrepo.yaml", "image_prefix: " + images.prefix() + "\n");
  r.write("app/train.py", "2\n"); // a new image to build
  auto classic = r.mlrepo({"build", "--all"});
  CHECK(classic.code == 3);
  CHECK_THAT(classic.err, Contains("app/Dockerfile.dockerignore") && Contains("svc/train.Dockerfile.dockerignore") &&
                              Contains("classic builder") && Contains("only BuildKit reads"));
}
