// `mlrepo promote` and `mlrepo release` against a real registry (Debian's
// docker-registry), with the registry's own storage as the oracle for digests.
#include "support/docker.hpp"

#include "mlrepo/registry/client.hpp"
#include "mlrepo/release/semver.hpp"
#include "mlrepo/util/base64.hpp"
#include "mlrepo/util/fs.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <iostream>
#include <random>

using namespace mlrepo::test;
using Catch::Contains;
using nlohmann::json;

namespace {

struct Promo {
  Registry registry;
  ImageScope images;
  GitRepo repo;
  std::string repository(const std::string& name) const { return "acme/" + images.prefix() + name; }
  std::string image(const std::string& name) const { return registry.host() + "/" + repository(name); }
  explicit Promo(const RegistryAuth& auth = {}) : registry(auth) {
    repo.write("mlrepo.yaml", "registry: " + registry.host() + "/acme\nimage_prefix: " + images.prefix() + "\n");
    repo.write("base/Dockerfile", "FROM " + busybox_image() + "\nRUN echo base > /base.txt\n");
    repo.write("app/Dockerfile", "FROM " + image("base") + "\nCOPY model.txt /model.txt\n");
    repo.write("app/model.txt", "v1\n");
    repo.commit();
  }
  // Builds and pushes; returns each project's content-tagged reference.
  std::map<std::string, std::string> push(const std::vector<std::string>& projects, const Env& env = {}) const {
    auto report = repo.path() / ".git" / "push.json";
    std::vector<std::string> args{"build", "--push", "--json-report", report.string()};
    args.insert(args.end(), projects.begin(), projects.end());
    auto run = repo.mlrepo(args, env);
    INFO(run.err);
    REQUIRE(run.code == 0);
    std::map<std::string, std::string> out;
    auto doc = json::parse(mlrepo::util::read_file(report).value_or("{}"));
    for (const auto& r : doc["results"])
      out[r["name"]] = r["images"][0];
    return out;
  }
  void forget_local(const std::map<std::string, std::string>& refs) const {
    for (const auto& [name, ref] : refs)
      run_program({"docker", "image", "rm", "-f", ref, image(name) + ":" + repo.head()}, repo.path());
  }
};

std::string tag_of(const std::string& ref) { return ref.substr(ref.rfind(':') + 1); }

} // namespace

TEST_CASE("promote: tags are copied registry-side, digest unchanged, nothing pulled", "[promote][docker]") {
  Promo p;
  auto refs = p.push({"app"});
  std::string digest = p.registry.tag_digest(p.repository("app"), tag_of(refs["app"]));
  REQUIRE(digest.rfind("sha256:", 0) == 0);
  p.forget_local(refs); // a CI runner that did not build it

  auto run = p.repo.mlrepo({"promote", "app", "--tag", "stable", "--tag", "main-{short_sha}", "--json"});
  INFO(run.err);
  REQUIRE(run.code == 0);
  CHECK(p.registry.tag_digest(p.repository("app"), "stable") == digest);
  std::string short_sha = p.repo.head().substr(0, 12);
  CHECK(p.registry.tag_digest(p.repository("app"), "main-" + short_sha) == digest);
  CHECK_FALSE(image_exists(refs["app"])); // never pulled
  auto doc = run.json();
  REQUIRE(doc["results"].size() == 1); // only what was asked, not its base
  CHECK(doc["results"][0]["status"] == "promoted");
  CHECK(doc["results"][0]["digest"] == digest);
  CHECK(doc["results"][0]["written"] == json::array({p.image("app") + ":stable", p.image("app") + ":main-" + short_sha}));
  CHECK_THAT(run.err, Contains("==> app promoted stable, main-" + short_sha));

  // --dry-run checks and says, and writes nothing.
  auto dry = p.repo.mlrepo({"promote", "app", "--tag", "later", "--dry-run"});
  CHECK(dry.code == 0);
  CHECK_THAT(dry.err, Contains("app would get later"));
  CHECK(p.registry.tag_digest(p.repository("app"), "later").empty());
}

TEST_CASE("build --content-tag-only pushes one tag, and promote without --tag adds the build's tags, latest only "
          "on the default branch", "[promote][push][docker]") {
  Promo p;
  p.repo.write("mlrepo.yaml", "registry: " + p.registry.host() + "/acme\nimage_prefix: " + p.images.prefix() +
                                  "\ntags: ['{branch}']\ndefault_branch_tags: [latest]\n");
  p.repo.commit();
  p.repo.git({"checkout", "-q", "-b", "feature"});
  auto build = p.repo.mlrepo({"build", "--push", "--content-tag-only", "app"});
  INFO(build.err);
  REQUIRE(build.code == 0);
  std::string head = p.repo.head();
  for (const char* name : {"base", "app"}) {
    auto tags = p.registry.tags(p.repository(name));
    std::erase(tags, "buildcache"); // the layer cache, where BuildKit exports one
    INFO(name << ": " << tags.size() << " tags");
    REQUIRE(tags.size() == 1); // the content tag, nothing else
    CHECK(tags[0].rfind("content-", 0) == 0);
  }
  std::string content_tag;
  for (const auto& t : p.registry.tags(p.repository("app")))
    if (t.rfind("content-", 0) == 0)
      content_tag = t;
  std::string digest = p.registry.tag_digest(p.repository("app"), content_tag);

  // A branch: the commit and branch tags, never latest.
  auto branch = p.repo.mlrepo({"promote", "app"});
  INFO(branch.err);
  REQUIRE(branch.code == 0);
  CHECK(p.registry.tag_digest(p.repository("app"), head) == digest);
  CHECK(p.registry.tag_digest(p.repository("app"), "feature") == digest);
  CHECK(p.registry.tag_digest(p.repository("app"), "latest").empty());

  // The default branch (as GitHub Actions says it): latest too.
  auto on_main = p.repo.mlrepo({"promote", "app"}, {{"GITHUB_ACTIONS", "true"}, {"GITHUB_REF_NAME", "main"},
                                                     {"GITHUB_REF_TYPE", "branch"}});
  INFO(on_main.err);
  REQUIRE(on_main.code == 0);
  CHECK(p.registry.tag_digest(p.repository("app"), "latest") == digest);
  CHECK(p.registry.tag_digest(p.repository("base"), "latest").empty()); // only what was asked
}

TEST_CASE("promote: a multi-platform index is copied byte for byte", "[promote][docker]") {
  Promo p;
  auto refs = p.push({"base", "app"});
  // An OCI index over the two images, stored under app's content tag, as a
  // multi-platform build would leave it.
  auto manifest_of = [&](const std::string& name) {
    std::string d = p.registry.tag_digest(p.repository(name), tag_of(refs[name]));
    return std::pair{d, p.registry.manifest_bytes(d)};
  };
  auto [d1, m1] = manifest_of("base");
  auto [d2, m2] = manifest_of("app");
  REQUIRE(!m1.empty());
  // Cross-repository: the child manifests must be in app's repository too.
  mlrepo::util::SpawnRunner runner;
  struct None : mlrepo::registry::CredentialSource {
    mlrepo::registry::Credentials lookup(const std::string&) override { return {}; }
    std::string origin(const std::string&) override { return "none"; }
  } none;
  mlrepo::registry::Client client(none);
  auto base_manifest = client.get_manifest(mlrepo::registry::parse_image_name(refs["base"]));
  json index = {{"schemaVersion", 2},
                {"mediaType", "application/vnd.oci.image.index.v1+json"},
                {"manifests",
                 json::array({{{"mediaType", json::parse(m2).value("mediaType", "")},
                               {"digest", d2},
                               {"size", m2.size()},
                               {"platform", {{"architecture", "amd64"}, {"os", "linux"}}}},
                              {{"mediaType", json::parse(m1).value("mediaType", "")},
                               {"digest", d2},
                               {"size", m2.size()},
                               {"platform", {{"architecture", "arm64"}, {"os", "linux"}}}}})}};
  mlrepo::registry::Manifest m;
  m.bytes = index.dump(3) + "\n"; // unusual whitespace: a re-serialisation would change the digest
  m.info.media_type = "application/vnd.oci.image.index.v1+json";
  std::string index_digest = client.put_manifest(mlrepo::registry::parse_image_name(refs["app"]), m);
  REQUIRE(p.registry.tag_digest(p.repository("app"), tag_of(refs["app"])) == index_digest);

  auto run = p.repo.mlrepo({"promote", "app", "--tag", "multi"});
  INFO(run.err);
  REQUIRE(run.code == 0);
  CHECK(p.registry.tag_digest(p.repository("app"), "multi") == index_digest);
  CHECK(p.registry.manifest_bytes(index_digest) == m.bytes);
}

TEST_CASE("promote: an image missing from the registry is exit 1, naming it and the fix", "[promote][docker]") {
  Promo p;
  p.push({"base"});
  auto run = p.repo.mlrepo({"promote", "--all", "--tag", "stable", "--json"});
  CHECK(run.code == 1);
  CHECK_THAT(run.err, Contains(p.image("app") + ":content-") && Contains("is not in the registry") &&
                          Contains("mlrepo build --push app") && Contains("tags written for app: none"));
  // One error, then its hint: never a hint printed as a second error.
  CHECK_THAT(run.err, Contains("\nhint: build and push it first") && !Contains("error:   hint") &&
                          !Contains("error: hint"));
  // What could be promoted was, and the report says so.
  CHECK(!p.registry.tag_digest(p.repository("base"), "stable").empty());
  auto doc = run.json();
  std::map<std::string, std::string> status;
  for (const auto& r : doc["results"])
    status[r["name"]] = r["status"];
  CHECK(status["base"] == "promoted");
  CHECK(status["app"] == "missing");
}

TEST_CASE("promote: bad tags and missing choices are usage errors", "[promote][docker]") {
  Promo p;
  auto work_tree = p.repo.mlrepo({"promote", "app", "--tag", "x", "--uncommitted"});
  CHECK(work_tree.code == 2);
  CHECK_THAT(work_tree.err, Contains("images of commits"));
  auto bad = p.repo.mlrepo({"promote", "app", "--tag", "-x"});
  CHECK(bad.code == 2);
  CHECK_THAT(bad.err, Contains("'-x'") && Contains("not a Docker tag"));
  p.repo.git({"checkout", "-q", "--detach"});
  auto detached = p.repo.mlrepo({"promote", "app", "--tag", "{branch}"});
  CHECK(detached.code == 2);
  CHECK_THAT(detached.err, Contains("{branch}"));
  p.repo.write("mlrepo.yaml", "image_prefix: " + p.images.prefix() + "\n");
  p.repo.commit();
  auto local = p.repo.mlrepo({"promote", "app", "--tag", "x"});
  CHECK(local.code == 2);
  CHECK_THAT(local.err, Contains("no 'registry:'"));
}

TEST_CASE("release: a SemVer tag on HEAD, then CI promotes it to VERSION, MAJOR.MINOR, MAJOR, latest",
          "[promote][release][docker]") {
  Promo p;
  GitRepo origin;
  origin.git({"config", "receive.denyCurrentBranch", "ignore"});
  p.repo.git({"remote", "add", "origin", origin.path().string()});
  auto refs = p.push({"app"});
  std::string digest = p.registry.tag_digest(p.repository("app"), tag_of(refs["app"]));

  auto run = p.repo.mlrepo({"release", "app", "1.2.0", "--push"});
  INFO(run.err);
  REQUIRE(run.code == 0);
  CHECK(run.out == "app/v1.2.0\n");
  CHECK(p.repo.git({"cat-file", "-t", "app/v1.2.0"}) == "tag\n"); // annotated
  CHECK(p.repo.git({"rev-list", "-n1", "app/v1.2.0"}) == p.repo.head() + "\n");
  CHECK_THAT(origin.git({"tag", "-l"}), Contains("app/v1.2.0"));

  // Later commits do not matter: CI promotes the tagged commit's image.
  p.repo.write("app/model.txt", "v2\n");
  p.repo.commit();
  auto promote = p.repo.mlrepo({"promote", "--release"}, {{"GITHUB_REF", "refs/tags/app/v1.2.0"}});
  INFO(promote.err);
  REQUIRE(promote.code == 0);
  for (const char* tag : {"1.2.0", "1.2", "1", "latest"})
    CHECK(p.registry.tag_digest(p.repository("app"), tag) == digest);

  // A pre-release gets its own tag only: 1, 1.3 and latest stay where they are.
  auto refs2 = p.push({"app"});
  auto rc = p.repo.mlrepo({"release", "app", "1.3.0-rc.1"});
  REQUIRE(rc.code == 0);
  auto promote_rc = p.repo.mlrepo({"promote", "--release", "--ref", "refs/tags/app/v1.3.0-rc.1"});
  REQUIRE(promote_rc.code == 0);
  CHECK(p.registry.tag_digest(p.repository("app"), "1.3.0-rc.1") ==
        p.registry.tag_digest(p.repository("app"), tag_of(refs2["app"])));
  CHECK(p.registry.tag_digest(p.repository("app"), "latest") == digest);
  CHECK(p.registry.tag_digest(p.repository("app"), "1").find(digest) == 0);

  // list and changed show the latest release.
  auto list = p.repo.mlrepo({"list", "--json"});
  for (const auto& proj : list.json()["projects"])
    CHECK(proj["latest_release"] == (proj["name"] == "app" ? json("1.3.0-rc.1") : json(nullptr)));
}

TEST_CASE("release: refuses what would not be the tested image", "[promote][release][docker]") {
  Promo p;
  p.push({"app"});
  auto not_semver = p.repo.mlrepo({"release", "app", "1.2"});
  CHECK(not_semver.code == 2);
  CHECK_THAT(not_semver.err, Contains("'1.2' is not a SemVer version"));

  REQUIRE(p.repo.mlrepo({"release", "app", "1.0.0"}).code == 0);
  auto again = p.repo.mlrepo({"release", "app", "1.0.0"});
  CHECK(again.code == 2);
  CHECK_THAT(again.err, Contains("app/v1.0.0 exists already") && Contains("latest release of app is 1.0.0"));

  p.repo.write("app/model.txt", "uncommitted\n");
  auto dirty = p.repo.mlrepo({"release", "app", "1.1.0"});
  CHECK(dirty.code == 2);
  CHECK_THAT(dirty.err, Contains("uncommitted changes reach the image of app"));
  // Through a dependency too.
  p.repo.git({"checkout", "--", "app/model.txt"});
  p.repo.write("base/extra.txt", "x");
  auto dirty_base = p.repo.mlrepo({"release", "app", "1.1.0"});
  CHECK(dirty_base.code == 2);
  CHECK_THAT(dirty_base.err, Contains("through base"));
  p.repo.remove("base/extra.txt");

  // Committed but never built and pushed: CI could not promote it.
  p.repo.write("app/model.txt", "v3\n");
  p.repo.commit();
  auto unbuilt = p.repo.mlrepo({"release", "app", "1.1.0"});
  CHECK(unbuilt.code == 1);
  CHECK_THAT(unbuilt.err, Contains("is not in the registry") && Contains("mlrepo build --push app"));
  CHECK(p.repo.git({"tag", "-l", "app/v1.1.0"}).empty()); // nothing half-done
}

std::string base64(const std::string& in) { return mlrepo::util::base64_encode(in); }

TEST_CASE("registry credentials: docker's config, helpers, never shown", "[promote][docker]") {
  const std::string password = "pa55-w0rd-never-shown";
  Promo p({RegistryAuth::Kind::Basic, "alice", password, ""});
  TempDir config;
  auto auth = [](const std::string& user, const std::string& pw) { return base64(user + ":" + pw); };
  Env env{{"DOCKER_CONFIG", config.path().string()}};

  // Anonymous: refused, with the login to run, and no retries for a 401.
  auto anon = p.repo.mlrepo({"build", "--push", "base"}, env);
  CHECK(anon.code == 1);
  CHECK_THAT(anon.err, Contains("docker login " + p.registry.host()));
  CHECK_THAT(anon.err, !Contains("retry"));

  // docker login's auths entry: builds, pushes and promotes.
  mlrepo::util::write_file_atomic(config.path() / "config.json",
                                  json{{"auths", {{p.registry.host(), {{"auth", auth("alice", password)}}}}}}.dump());
  auto refs = p.push({"base"}, env);
  auto ok = p.repo.mlrepo({"promote", "base", "--tag", "stable"}, env);
  INFO(ok.err);
  CHECK(ok.code == 0);
  CHECK(!p.registry.tag_digest(p.repository("base"), "stable").empty());

  // A wrong password is named as such, never shown.
  mlrepo::util::write_file_atomic(config.path() / "config.json",
                                  json{{"auths", {{p.registry.host(), {{"auth", auth("alice", "wrong-pw")}}}}}}.dump());
  auto wrong = p.repo.mlrepo({"promote", "base", "--tag", "x"}, env);
  CHECK(wrong.code == 1);
  CHECK_THAT(wrong.err, Contains("config.json were refused") && !Contains("wrong-pw"));

  // A credential helper, found as docker finds it (docker-credential-<name> on PATH).
  TempDir bin;
  auto helper = bin.path() / "docker-credential-mlrepotest";
  mlrepo::util::write_file_atomic(helper, "#!/bin/sh\nread server\n[ \"$1\" = get ] || exit 1\n"
                                          "printf '{\"ServerURL\":\"%s\",\"Username\":\"alice\",\"Secret\":\"" +
                                              password + "\"}' \"$server\"\n");
  fs::permissions(helper, fs::perms::owner_all);
  mlrepo::util::write_file_atomic(config.path() / "config.json",
                                  json{{"credHelpers", {{p.registry.host(), "mlrepotest"}}}}.dump());
  Env helper_env = env;
  helper_env["PATH"] = bin.path().string() + ":" + std::getenv("PATH");
  auto via_helper = p.repo.mlrepo({"promote", "base", "--tag", "helped", "--json"}, helper_env);
  INFO(via_helper.err);
  CHECK(via_helper.code == 0);
  CHECK(!p.registry.tag_digest(p.repository("base"), "helped").empty());
  for (const auto& r : {anon, ok, wrong, via_helper}) {
    CHECK_THAT(r.out + r.err, !Contains(password));
    CHECK_THAT(r.out + r.err, !Contains(auth("alice", password)));
  }

  // A helper that is not installed: exit 3 naming it.
  mlrepo::util::write_file_atomic(config.path() / "config.json", json{{"credsStore", "nonexistent"}}.dump());
  auto missing = p.repo.mlrepo({"promote", "base", "--tag", "x"}, env);
  CHECK(missing.code == 3);
  CHECK_THAT(missing.err, Contains("docker-credential-nonexistent") && Contains("not installed"));
}

TEST_CASE("build --push: the report carries each image's registry digest", "[promote][push][docker]") {
  Promo p;
  auto report = p.repo.path() / ".git" / "r.json";
  auto run = p.repo.mlrepo({"build", "--push", "base", "--json-report", report.string()});
  REQUIRE(run.code == 0);
  auto doc = json::parse(mlrepo::util::read_file(report).value_or("{}"));
  std::string ref = doc["results"][0]["images"][0];
  CHECK(doc["results"][0]["digest"] == p.registry.tag_digest(p.repository("base"), tag_of(ref)));
  // Skipped because the registry has it: the digest is still reported.
  run = p.repo.mlrepo({"build", "--push", "base", "--json-report", report.string()});
  CHECK(run.code == 0);
  doc = json::parse(mlrepo::util::read_file(report).value_or("{}"));
  CHECK(doc["results"][0]["status"] == "skipped");
  CHECK(doc["results"][0]["digest"] == p.registry.tag_digest(p.repository("base"), tag_of(ref)));
}

TEST_CASE("registry credentials: the bearer token flow, with a password or an identity token", "[promote][docker]") {
  const std::string password = "t0ken-flow-pw";
  const std::string refresh = "refresh-token-never-shown";
  Promo p({RegistryAuth::Kind::Token, "alice", password, refresh});
  TempDir config;
  Env env{{"DOCKER_CONFIG", config.path().string()}};
  mlrepo::util::write_file_atomic(config.path() / "config.json",
                                  json{{"auths", {{p.registry.host(), {{"auth", base64("alice:" + password)}}}}}}.dump());
  auto refs = p.push({"base"}, env); // docker's own push and mlrepo's checks, both through tokens
  auto before = p.registry.grants().size();
  auto run = p.repo.mlrepo({"promote", "base", "--tag", "stable"}, env);
  INFO(run.err);
  REQUIRE(run.code == 0);
  CHECK(!p.registry.tag_digest(p.repository("base"), "stable").empty());
  // mlrepo asked to read, then for the write the registry's challenge named, as alice.
  std::string mine = p.registry.grants().substr(before);
  std::string scope = "alice repository:" + p.repository("base");
  CHECK_THAT(mine, Contains(scope + ":pull ") && (Contains(scope + ":pull,push") || Contains(scope + ":push,pull")));

  // docker login with a token stores an identity token: the OAuth2 refresh grant.
  mlrepo::util::write_file_atomic(
      config.path() / "config.json",
      json{{"auths", {{p.registry.host(), {{"auth", base64("<token>:")}, {"identitytoken", refresh}}}}}}.dump());
  auto with_token = p.repo.mlrepo({"promote", "base", "--tag", "via-identity-token"}, env);
  INFO(with_token.err);
  CHECK(with_token.code == 0);
  CHECK(!p.registry.tag_digest(p.repository("base"), "via-identity-token").empty());
  CHECK_THAT(with_token.out + with_token.err, !Contains(refresh));

  // Anonymous callers may read but not write: a clear refusal, not a retry loop.
  mlrepo::util::write_file_atomic(config.path() / "config.json", "{}");
  auto anon = p.repo.mlrepo({"promote", "base", "--tag", "nope"}, env);
  CHECK(anon.code == 1);
  CHECK_THAT(anon.err, Contains("answered 401 to store") && Contains("docker login " + p.registry.host()));
  CHECK_THAT(anon.err, !Contains("retry"));
}

TEST_CASE("promote: a registry answering 503 is retried, then succeeds", "[promote][docker]") {
  Promo p;
  auto refs = p.push({"base"}); // base: its content does not depend on the registry's name
  std::string digest = p.registry.tag_digest(p.repository("base"), tag_of(refs["base"]));
  // The same registry behind a proxy whose first two answers are 503.
  FlakyProxy flaky(p.registry, 2);
  p.repo.write("mlrepo.yaml", "registry: " + flaky.host() + "/acme\nimage_prefix: " + p.images.prefix() + "\n");
  p.repo.commit();
  auto run = p.repo.mlrepo({"promote", "base", "--tag", "after-503"});
  INFO(run.err << flaky.log());
  CHECK(run.code == 0);
  CHECK_THAT(run.err, Contains("answered 503") && Contains("retry 1/") && Contains("retry 2/"));
  CHECK(p.registry.tag_digest(p.repository("base"), "after-503") == digest);

  // A 404 is an answer, never retried.
  FlakyProxy missing(p.registry, 1, 404);
  p.repo.write("mlrepo.yaml", "registry: " + missing.host() + "/acme\nimage_prefix: " + p.images.prefix() + "\n");
  p.repo.commit();
  auto absent = p.repo.mlrepo({"promote", "base", "--tag", "x"});
  CHECK(absent.code == 1);
  CHECK_THAT(absent.err, Contains("is not in the registry") && !Contains("retry"));
}

TEST_CASE("build --push puts back what a registry lost", "[promote][push][docker]") {
  Promo p;
  auto refs = p.push({"base"});
  std::string digest = p.registry.tag_digest(p.repository("base"), tag_of(refs["base"]));
  REQUIRE(!digest.empty());
  // The registry loses the image (a retention policy, a registry recreated on
  // the same port); the engine still remembers pushing it.
  auto del = run_program({"curl", "-fsS", "-X", "DELETE",
                          "http://" + p.registry.host() + "/v2/" + p.repository("base") + "/manifests/" + digest},
                         p.repo.path());
  REQUIRE(del.code == 0);
  auto promote = p.repo.mlrepo({"promote", "base", "--tag", "x"});
  CHECK(promote.code == 1);
  CHECK_THAT(promote.err, Contains("mlrepo build --push base"));
  // The registry is asked, not the engine's memory: the image is pushed again, not rebuilt.
  auto again = p.repo.mlrepo({"build", "--push", "base"});
  INFO(again.err);
  CHECK(again.code == 0);
  CHECK_THAT(again.err, Contains("pushed " + refs["base"]) && Contains("skipped"));
  CHECK(p.registry.tag_digest(p.repository("base"), tag_of(refs["base"])) == digest);
  CHECK(p.repo.mlrepo({"promote", "base", "--tag", "x"}).code == 0);
}

TEST_CASE("test --pull tests the pushed image by digest and names it in the job summary, and build pulls a pushed "
          "dependency instead of building it", "[promote][push][docker]") {
  Promo p;
  p.repo.write("app/mlrepo.yaml", "test: grep -q v1 /model.txt\n");
  p.repo.commit();
  auto refs = p.push({"app"});
  std::string digest = p.registry.tag_digest(p.repository("app"), tag_of(refs["app"]));
  REQUIRE(!digest.empty());
  p.forget_local(refs); // a fresh runner

  TempDir tmp;
  auto summary = tmp.path() / "summary.md";
  auto run = p.repo.mlrepo({"test", "app", "--pull"}, {{"GITHUB_STEP_SUMMARY", summary.string()}});
  INFO(run.err);
  REQUIRE(run.code == 0);
  std::string pulled = p.image("app") + "@" + digest;
  CHECK_THAT(run.err, Contains("pulling " + pulled) && Contains("tests passed: app"));
  CHECK_THAT(mlrepo::util::read_file(summary).value_or(""), Contains("| app | `" + pulled + "` | passed |"));
  CHECK_FALSE(image_exists(refs["app"])); // never built under its content tag here

  // A commit whose image was never pushed: nothing is built to stand in for it.
  p.repo.write("app/model.txt", "v2\n");
  p.repo.commit();
  auto missing = p.repo.mlrepo({"test", "app", "--pull"});
  CHECK(missing.code == 1);
  CHECK_THAT(missing.err, Contains("is not in the registry") && Contains("mlrepo build --push app"));

  // Building app on a machine without its base pulls the pushed base.
  auto report = tmp.path() / "report.json";
  auto build = p.repo.mlrepo({"build", "app", "--json-report", report.string()});
  INFO(build.err);
  REQUIRE(build.code == 0);
  auto doc = nlohmann::json::parse(mlrepo::util::read_file(report).value_or("{}"));
  std::map<std::string, std::string> status;
  for (const auto& r : doc["results"])
    status[r["name"]] = r["status"];
  CHECK(status["base"] == "skipped"); // pulled, not built
  CHECK(status["app"] == "built");

  // A registry that cannot answer (a laptop offline) means building it.
  p.registry.stop();
  run_program({"docker", "image", "rm", "-f", p.image("base") + ":" + tag_of(refs["base"])}, p.repo.path());
  auto offline = p.repo.mlrepo({"build", "app", "--json-report", report.string()});
  INFO(offline.err);
  REQUIRE(offline.code == 0);
  doc = nlohmann::json::parse(mlrepo::util::read_file(report).value_or("{}"));
  for (const auto& r : doc["results"])
    status[r["name"]] = r["status"];
  CHECK(status["base"] == "built");

  // --pull without a registry is a usage error naming the config.
  p.repo.write("mlrepo.yaml", "image_prefix: " + p.images.prefix() + "\n");
  auto no_registry = p.repo.mlrepo({"test", "app", "--pull"});
  CHECK(no_registry.code == 2);
  CHECK_THAT(no_registry.err, Contains("mlrepo.yaml sets no 'registry:'"));
}

namespace {

// A commit whose app image differs from every other, built and pushed;
// returns the commit.
std::string app_commit(const Promo& p, const std::string& model) {
  p.repo.write("app/model.txt", model + "\n");
  std::string sha = p.repo.commit();
  p.push({"app"});
  return sha;
}

std::string app_digest_at(const Promo& p, const std::string& sha) {
  return p.registry.tag_digest(p.repository("app"), sha);
}

} // namespace

TEST_CASE("release: versions only go forward, and a patch of an older line moves that line's tags only",
          "[promote][release][docker]") {
  Promo p;
  std::map<std::string, std::string> at; // version -> commit
  for (const char* v : {"1.3.4", "1.4.0", "2.0.0"}) {
    at[v] = app_commit(p, v);
    auto run = p.repo.mlrepo({"release", "app", v});
    INFO(run.err);
    REQUIRE(run.code == 0);
    REQUIRE(p.repo.mlrepo({"promote", "--release", "--ref", std::string("refs/tags/app/v") + v}).code == 0);
  }
  std::string latest = app_digest_at(p, at["2.0.0"]);
  REQUIRE(p.registry.tag_digest(p.repository("app"), "latest") == latest);

  // Lower than the latest, in no existing line: refused, naming the latest.
  app_commit(p, "new work");
  auto old = p.repo.mlrepo({"release", "app", "1.1.0"});
  CHECK(old.code == 2);
  CHECK_THAT(old.err, Contains("app 1.1.0 is not higher than its latest release, 2.0.0") && Contains("2.0.1"));
  // In an existing line but not above that line's latest.
  auto below = p.repo.mlrepo({"release", "app", "1.3.2"});
  CHECK(below.code == 2);
  CHECK_THAT(below.err, Contains("1.3.4 is the latest of 1.3"));
  CHECK(p.repo.git({"tag", "-l", "app/v1.*"}) == "app/v1.3.4\napp/v1.4.0\n"); // nothing tagged

  // A patch of the older 1.3 line cut from main, which holds 1.4.0 and
  // 2.0.0: its image is 2.0's work, so the 1.3 tag must not get it.
  std::string main_branch = p.repo.git({"rev-parse", "--abbrev-ref", "HEAD"});
  main_branch.erase(main_branch.find_last_not_of('\n') + 1);
  auto on_main = p.repo.mlrepo({"release", "app", "1.3.5"});
  CHECK(on_main.code == 2);
  CHECK_THAT(on_main.err, Contains("already contains the release app/v1.4.0") &&
                              Contains("git switch -c app-1.3 app/v1.3.4"));
  // A tag pushed by hand there is refused by CI's promote too, before any tag moves.
  p.repo.git({"tag", "-a", "app/v1.3.6", "-m", "by hand", "HEAD"});
  auto by_hand = p.repo.mlrepo({"promote", "--release", "--ref", "refs/tags/app/v1.3.6"});
  CHECK(by_hand.code == 2);
  CHECK_THAT(by_hand.err, Contains("app 1.3.6 would be cut from commit") && Contains("app/v1.4.0"));
  CHECK(p.registry.tag_digest(p.repository("app"), "1.3") == app_digest_at(p, at["1.3.4"]));
  CHECK(p.registry.tag_digest(p.repository("app"), "1.3.6").empty());
  p.repo.git({"tag", "-d", "app/v1.3.6"});
  CHECK(p.repo.git({"tag", "-l", "app/v1.3.*"}) == "app/v1.3.4\n"); // nothing tagged

  // From a branch off app/v1.3.4: allowed, and it says which tags move.
  p.repo.git({"switch", "-q", "-c", "app-1.3", "app/v1.3.4"});
  app_commit(p, "1.3.5 fix");
  auto patch = p.repo.mlrepo({"release", "app", "1.3.5"});
  INFO(patch.err);
  REQUIRE(patch.code == 0);
  CHECK_THAT(patch.err, Contains("patch of the older line 1.3") && Contains("gets 1.3.5, 1.3,") &&
                            Contains("latest stays on 2.0.0"));
  auto promote = p.repo.mlrepo({"promote", "--release", "--ref", "refs/tags/app/v1.3.5"});
  INFO(promote.err);
  REQUIRE(promote.code == 0);
  std::string patched = app_digest_at(p, p.repo.head());
  CHECK(p.registry.tag_digest(p.repository("app"), "1.3.5") == patched);
  CHECK(p.registry.tag_digest(p.repository("app"), "1.3") == patched);
  CHECK(p.registry.tag_digest(p.repository("app"), "1") == app_digest_at(p, at["1.4.0"]));
  CHECK(p.registry.tag_digest(p.repository("app"), "latest") == latest);
  CHECK_THAT(promote.err, Contains("does not get 'latest': a higher release holds it"));

  // A leading v is read as the version, and says so.
  p.repo.git({"switch", "-q", main_branch});
  app_commit(p, "2.1");
  auto v = p.repo.mlrepo({"release", "app", "v2.1.0"});
  CHECK(v.code == 0);
  CHECK(v.out == "app/v2.1.0\n");
  CHECK_THAT(v.err, Contains("'v2.1.0' read as the version 2.1.0") &&
                        Contains("will tag the image 2.1.0, 2.1, 2, latest"));
}

TEST_CASE("promote --release: latest, MAJOR and MAJOR.MINOR name the highest release of their line, over a random "
          "order of release tags",
          "[promote][release][docker]") {
  Promo p;
  // Each release on the commit it would really come from: a line's patch on
  // a branch off that line, so no release contains a higher one.
  std::vector<std::pair<std::string, std::string>> lineage{{"0.9.0", ""},   {"1.0.0", ""}, {"1.0.1", "1.0.0"},
                                                           {"1.1.0", ""},   {"2.0.0", ""}, {"2.0.1", "2.0.0"},
                                                           {"2.1.0-rc.1", ""}};
  std::string main_branch = p.repo.git({"rev-parse", "--abbrev-ref", "HEAD"});
  main_branch.erase(main_branch.find_last_not_of('\n') + 1);
  std::vector<std::string> versions;
  std::map<std::string, std::string> digest, commit;
  for (const auto& [v, off] : lineage) {
    if (off.empty())
      p.repo.git({"switch", "-q", main_branch});
    else
      p.repo.git({"switch", "-q", "-c", "line-" + v, commit[off]});
    versions.push_back(v);
    commit[v] = app_commit(p, v);
    digest[v] = app_digest_at(p, commit[v]);
  }
  p.repo.git({"switch", "-q", main_branch});
  // Catch's seed when one is given (--rng-seed), else a fresh one: printed,
  // so a failing order can be replayed.
  unsigned seed = Catch::rngSeed() ? Catch::rngSeed() : std::random_device{}();
  std::cerr << "promote --release random order: seed " << seed << " (replay with --rng-seed " << seed << ")\n";
  std::mt19937 rng(seed);
  std::shuffle(versions.begin(), versions.end(), rng);
  std::vector<mlrepo::release::Version> promoted;
  for (const auto& v : versions) {
    // Tagged with git directly, in any order (as hotfixes and back-ports
    // come), and promoted as CI does on each tag push.
    p.repo.git({"tag", "-a", "app/v" + v, "-m", "release " + v, commit[v]});
    auto run = p.repo.mlrepo({"promote", "--release", "--ref", "refs/tags/app/v" + v});
    INFO("seed " << seed << ", promoting " << v << ": " << run.err);
    REQUIRE(run.code == 0);
    promoted.push_back(*mlrepo::release::parse_version(v));
    // Every tag the registry now has, against the highest release that was
    // promoted in each line (the registry's storage is the oracle).
    std::map<std::string, std::string> best;
    for (const auto& r : promoted) {
      if (r.is_prerelease())
        continue;
      for (const auto& key : {std::to_string(r.major) + "." + std::to_string(r.minor), std::to_string(r.major),
                              std::string("latest")})
        if (!best.count(key) || mlrepo::release::compare(*mlrepo::release::parse_version(best[key]), r) < 0)
          best[key] = r.str();
    }
    for (const auto& [tag, version] : best) {
      INFO(tag << " should be " << version);
      CHECK(p.registry.tag_digest(p.repository("app"), tag) == digest[version]);
    }
  }
  // Re-running a promote (CI retried) changes nothing.
  REQUIRE(p.repo.mlrepo({"promote", "--release", "--ref", "refs/tags/app/v1.0.0"}).code == 0);
  CHECK(p.registry.tag_digest(p.repository("app"), "latest") == digest["2.0.1"]);

  // A checkout without the other tags (CI's shallow clone): the registry's
  // version tags still keep latest where it is.
  for (const auto& v : versions)
    if (v != "1.1.0")
      p.repo.git({"tag", "-d", "app/v" + v});
  REQUIRE(p.repo.mlrepo({"promote", "--release", "--ref", "refs/tags/app/v1.1.0"}).code == 0);
  CHECK(p.registry.tag_digest(p.repository("app"), "latest") == digest["2.0.1"]);
  CHECK(p.registry.tag_digest(p.repository("app"), "1") == digest["1.1.0"]);
}

TEST_CASE("release --push: a push that fails deletes the tag it made", "[promote][release][docker]") {
  Promo p;
  p.push({"app"});
  // No origin at all.
  auto none = p.repo.mlrepo({"release", "app", "1.0.0", "--push"});
  CHECK(none.code == 1);
  CHECK_THAT(none.err, Contains("pushing the tag app/v1.0.0 to origin failed") &&
                           Contains("the tag was deleted again, so nothing was released") && Contains("git remote -v"));
  CHECK(p.repo.git({"tag", "-l"}).empty());

  // An origin that rejects the tag.
  GitRepo origin;
  mlrepo::util::write_file_atomic(origin.path() / ".git" / "hooks" / "pre-receive",
                                  "#!/bin/sh\necho 'tags are frozen' >&2\nexit 1\n");
  fs::permissions(origin.path() / ".git" / "hooks" / "pre-receive", fs::perms::owner_all);
  p.repo.git({"remote", "add", "origin", origin.path().string()});
  auto rejected = p.repo.mlrepo({"release", "app", "1.0.0", "--push"});
  CHECK(rejected.code == 1);
  CHECK_THAT(rejected.err, Contains("tags are frozen") && Contains("the tag was deleted again"));
  CHECK(p.repo.git({"tag", "-l"}).empty());
  CHECK(origin.git({"tag", "-l"}).empty());

  // Fixed, the same command releases.
  fs::remove(origin.path() / ".git" / "hooks" / "pre-receive");
  auto ok = p.repo.mlrepo({"release", "app", "1.0.0", "--push"});
  INFO(ok.err);
  CHECK(ok.code == 0);
  CHECK(origin.git({"tag", "-l"}) == "app/v1.0.0\n");
}

TEST_CASE("promote --release: a ref that is no release tag, a tag that does not exist or names no project, and a "
          "release whose image was never pushed are refused, naming the fix",
          "[promote][release][docker]") {
  Promo p;
  p.push({"app"});
  auto release = [&](const std::string& ref) { return p.repo.mlrepo({"promote", "--release", "--ref", ref}); };

  auto branch = release("refs/heads/main");
  CHECK(branch.code == 2);
  CHECK_THAT(branch.err, Contains("'refs/heads/main' is not a release tag") && Contains("refs/tags/<project>/v"));
  auto not_semver = release("refs/tags/app/vnext");
  CHECK(not_semver.code == 2);
  CHECK_THAT(not_semver.err, Contains("does not end in a SemVer version") && Contains("churn-model/v1.2.0"));
  auto absent = release("refs/tags/app/v9.9.9");
  CHECK(absent.code == 2);
  CHECK_THAT(absent.err, Contains("app/v9.9.9"));
  auto no_env = p.repo.mlrepo({"promote", "--release"}, {{"GITHUB_REF", std::nullopt}});
  CHECK(no_env.code == 2);
  CHECK_THAT(no_env.err, Contains("GITHUB_REF is not set") && Contains("--ref"));

  // A tag by hand on a project that commit does not have.
  p.repo.git({"tag", "-a", "serve/v1.0.0", "-m", "by hand"});
  auto no_project = release("refs/tags/serve/v1.0.0");
  CHECK(no_project.code == 2);
  CHECK_THAT(no_project.err, Contains("names the project 'serve'") && Contains("mlrepo list --rev"));

  // A commit whose image never reached the registry: 'mlrepo release'
  // refuses to tag it, and a tag made by hand is refused by promote.
  p.repo.write("app/model.txt", "never pushed\n");
  p.repo.commit();
  auto cut = p.repo.mlrepo({"release", "app", "1.0.0"});
  CHECK(cut.code == 1);
  CHECK_THAT(cut.err, Contains("is not in the registry") && Contains("then release again"));
  CHECK(p.repo.git({"tag", "-l", "app/v*"}).empty());
  p.repo.git({"tag", "-a", "app/v1.0.0", "-m", "by hand"});
  auto missing = release("refs/tags/app/v1.0.0");
  CHECK(missing.code == 1);
  CHECK_THAT(missing.err, Contains(p.image("app")) && Contains("not in the registry") &&
                              Contains("mlrepo build --push"));
  CHECK(p.registry.tag_digest(p.repository("app"), "1.0.0").empty());
  CHECK(p.registry.tag_digest(p.repository("app"), "latest").empty());
}
