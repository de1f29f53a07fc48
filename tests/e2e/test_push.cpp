// `mlrepo build --push` against a real registry (Debian's docker-registry).
#include "support/docker.hpp"

#include "mlrepo/util/fs.hpp"

#include <catch2/catch.hpp>
#include <thread>

using namespace mlrepo::test;
using Catch::Contains;
using nlohmann::json;

namespace {

struct PushRepo {
  Registry registry;
  ImageScope images;
  GitRepo repo;
  std::string image(const std::string& name) const {
    return registry.host() + "/acme/" + images.prefix() + name;
  }
  PushRepo() {
    repo.write("mlrepo.yaml", "registry: " + registry.host() + "/acme\nimage_prefix: " +
                                  images.prefix() + "\ntags: ['{branch}']\ndefault_branch_tags: [latest]\n");
    repo.write("base/Dockerfile", "FROM " + busybox_image() + "\nRUN echo base > /base.txt\n");
    repo.write("app/Dockerfile", "FROM " + image("base") + "\nRUN cat /base.txt\n");
    repo.commit();
  }
  json build(std::vector<std::string> args, int expected = 0, std::string* err = nullptr) const {
    auto file = repo.path() / ".git" / "report.json";
    args.insert(args.begin(), "build");
    args.push_back("--json-report");
    args.push_back(file.string());
    auto run = repo.mlrepo(args);
    INFO(run.err);
    CHECK(run.code == expected);
    if (err)
      *err = run.err;
    return json::parse(mlrepo::util::read_file(file).value_or("{}"));
  }
};

} // namespace

TEST_CASE("push: every tag reaches the registry, what exists is never rebuilt", "[push][docker]") {
  PushRepo p;
  std::string sha = p.repo.head();
  std::string said;
  auto rep = p.build({"--all", "--push"}, 0, &said);
  REQUIRE(rep["results"].size() == 2);
  auto tags = rep["results"][1]["images"];
  REQUIRE(tags.size() == 4); // content, sha, branch, latest (main is the default branch)
  CHECK(rep["results"][1]["pushed"] == tags);
  for (const auto& t : tags) {
    CHECK(remote_exists(t.get<std::string>()));
    CHECK_THAT(said, Contains("app pushed " + t.get<std::string>())); // per project, on stderr
  }
  CHECK(remote_exists(p.image("app") + ":" + sha));
  CHECK(remote_exists(p.image("app") + ":main"));
  CHECK(remote_exists(p.image("app") + ":latest"));
  // One upload per image: docker pushed the content tag; the other tags were
  // copied registry-side, so the registry's storage names one digest for all.
  auto log = mlrepo::util::read_file(p.repo.path() / ".git/mlrepo/logs/app.log").value_or("");
  size_t pushes = 0;
  for (size_t at = log.find("$ docker push "); at != std::string::npos; at = log.find("$ docker push ", at + 1))
    ++pushes;
  CHECK(pushes == 1);
  CHECK_THAT(log, Contains("$ docker push " + tags[0].get<std::string>()));
  std::string repository = "acme/" + p.images.prefix() + "app";
  std::string digest = p.registry.tag_digest(repository, tags[0].get<std::string>().substr(
                                                             tags[0].get<std::string>().rfind(':') + 1));
  REQUIRE(digest.starts_with("sha256:"));
  for (const auto& tag : {sha, std::string("main"), std::string("latest")})
    CHECK(p.registry.tag_digest(repository, tag) == digest);
  CHECK(rep["results"][1]["digest"] == digest);

  // A clean machine (no local images): the registry has it all, nothing builds.
  docker({"image", "rm", "-f", tags[0].get<std::string>(), tags[1].get<std::string>(),
          tags[2].get<std::string>(), tags[3].get<std::string>()});
  std::string err;
  rep = p.build({"--all", "--push"}, 0, &err);
  CHECK(rep["results"][0]["status"] == "skipped");
  CHECK(rep["results"][1]["status"] == "skipped");
  CHECK_FALSE(image_exists(tags[0].get<std::string>())); // not even pulled

  // A new commit elsewhere: only the new commit tag is pushed.
  p.repo.write("README.md", "x");
  std::string sha2 = p.repo.commit();
  rep = p.build({"--all", "--push"});
  CHECK(rep["results"][1]["status"] == "skipped");
  CHECK(remote_exists(p.image("app") + ":" + sha2));
  CHECK(rep["results"][1]["pushed"] == json::array({p.image("app") + ":" + sha2}));
  // -q: nothing but errors.
  p.repo.write("README.md", "y");
  p.repo.commit();
  auto quiet = p.repo.mlrepo({"-q", "build", "--all", "--push"});
  CHECK(quiet.code == 0);
  INFO(quiet.err);
  CHECK(quiet.err.empty());
}

// A registry down when the build starts: the existence check (not the push,
// which "a push that fails transiently" covers) retries until it is back.
TEST_CASE("push: a registry that is down when the build starts is waited for by the existence check's retries",
          "[push][docker]") {
  PushRepo p;
  p.registry.stop();
  // No REQUIRE on another thread (it would terminate the whole binary):
  // the thread reports, and the test checks after joining.
  std::string restart_problem;
  std::thread restart([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    restart_problem = p.registry.try_start();
  });
  std::string err;
  auto rep = p.build({"base", "--push"}, 0, &err);
  restart.join();
  REQUIRE(restart_problem.empty());
  CHECK_THAT(err, Contains("registry check of " + p.image("base")) && Contains("retry 1/3"));
  CHECK(rep["results"][0]["status"] == "built");
  CHECK(remote_exists(p.image("base") + ":" + p.repo.head()));
}

TEST_CASE("push: a dead registry fails the run, naming registry and image", "[push][docker]") {
  PushRepo p;
  p.registry.stop();
  std::string err;
  auto rep = p.build({"base", "--push", "--push-retries", "1"}, 1, &err);
  CHECK(rep["results"][0]["status"] == "failed");
  CHECK_THAT(err, Contains(p.registry.host()) && Contains(p.image("base")) && Contains("retry 1/1"));
}

TEST_CASE("push: a push that fails transiently is retried with backoff", "[push][docker]") {
  PushRepo p;
  TempDir tmp;
  auto out = tmp.path() / "out.txt";
  Background mlrepo({MLREPO_BIN, "build", "base", "--push"}, p.repo.path(),
                    {{"CI", std::nullopt}, {"GITHUB_ACTIONS", std::nullopt}}, out);
  auto wait_for = [&](const std::string& text) {
    for (int i = 0; i < 1200; ++i) {
      if (mlrepo::util::read_file(out).value_or("").find(text) != std::string::npos)
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  };
  // The registry answered the existence check; it goes away during the build.
  REQUIRE(wait_for("==> base: building"));
  p.registry.stop();
  REQUIRE(wait_for("push of " + p.image("base")));
  p.registry.start();
  CHECK(mlrepo.wait(120) == 0);
  auto log = mlrepo::util::read_file(out).value_or("");
  INFO(log);
  CHECK_THAT(log, Contains("retry 1/3"));
  CHECK(remote_exists(p.image("base") + ":" + p.repo.head()));
}

TEST_CASE("push: uncommitted changes push only the content and -dirty tags, never branch or latest",
          "[push][docker]") {
  PushRepo p;
  std::string sha = p.repo.head();
  p.repo.write("base/hack.txt", "local experiment\n"); // reaches base, and app through FROM
  std::string err;
  auto rep = p.build({"--all", "--push"}, 0, &err);
  REQUIRE(rep["results"].size() == 2);
  for (const auto& r : rep["results"]) {
    auto tags = r["images"];
    REQUIRE(tags.size() == 2); // content, <sha>-dirty
    CHECK_THAT(tags[0].get<std::string>(), Contains(":content-"));
    CHECK_THAT(tags[1].get<std::string>(), Contains(":" + sha + "-dirty"));
    CHECK(r["pushed"] == tags);
  }
  for (const auto& name : {"base", "app"}) {
    CHECK(remote_exists(p.image(name) + ":" + sha + "-dirty"));
    CHECK_FALSE(remote_exists(p.image(name) + ":latest"));
    CHECK_FALSE(remote_exists(p.image(name) + ":main"));
    CHECK_FALSE(remote_exists(p.image(name) + ":" + sha));
  }
  CHECK_THAT(err, Contains("base: uncommitted changes reach its image, so it gets only its content tag and " + sha +
                           "-dirty, never main, latest"));
  CHECK_THAT(err, Contains("app: uncommitted changes reach its image"));

  // Committed, the same bytes get every tag.
  p.repo.commit();
  rep = p.build({"--all", "--push"});
  CHECK(remote_exists(p.image("app") + ":latest"));
  CHECK(remote_exists(p.image("app") + ":main"));
}

TEST_CASE("push: no registry is exit 2 before anything builds", "[push][docker]") {
  ImageScope images;
  GitRepo repo;
  repo.write("mlrepo.yaml", "image_prefix: " + images.prefix() + "\n");
  repo.write("base/Dockerfile", "FROM " + busybox_image() + "\n");
  repo.commit();
  auto run = repo.mlrepo({"build", "--all", "--push"});
  CHECK(run.code == 2);
  CHECK_THAT(run.err, Contains("--push needs a registry") && Contains("mlrepo.yaml") && Contains("registry:"));
  CHECK_FALSE(image_exists(images.prefix() + "base:" + repo.head())); // nothing built
  CHECK_THAT(run.err, !Contains("retry")); // no attempt against Docker Hub
}
