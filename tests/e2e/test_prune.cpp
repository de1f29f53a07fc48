// `mlrepo prune` against Debian's docker-registry with deletes enabled and
// disabled. The registry's own storage is the oracle: which manifests the
// repository still links after the run.
#include "support/docker.hpp"

#include "mlrepo/registry/client.hpp"
#include "mlrepo/util/fs.hpp"

#include <catch2/catch.hpp>
#include <ctime>
#include <map>
#include <optional>
#include <set>

using namespace mlrepo::test;
using Catch::Contains;
using nlohmann::json;

namespace {

struct History {
  Registry registry;
  ImageScope images;
  GitRepo repo;
  int day = 0;
  explicit History(const RegistryAuth& auth = {}) : registry(auth) {
    repo.write("mlrepo.yaml", "registry: " + registry.host() + "/acme\nimage_prefix: " + images.prefix() +
                                  "\ndefault_branch_tags: [latest]\nprune: {keep_last: 3}\n");
    repo.write("base/Dockerfile", "FROM " + busybox_image() + "\nCOPY base.txt /base.txt\n");
    repo.write("base/base.txt", "base 0\n");
    repo.write("app/Dockerfile", "FROM " + image("base") + "\nCOPY model.txt /model.txt\n");
    repo.write("app/model.txt", "model 0\n");
    repo.write("old/Dockerfile", "FROM " + busybox_image() + "\nCOPY old.txt /old.txt\n");
    repo.write("old/old.txt", "old 0\n");
  }
  std::string repository(const std::string& name) const { return "acme/" + images.prefix() + name; }
  std::string image(const std::string& name) const { return registry.host() + "/" + repository(name); }
  // Commits on its own day (the image's created label is the commit's time),
  // or `seconds_ago` before now.
  std::string commit(std::optional<long> seconds_ago = std::nullopt) {
    ++day;
    char date[32];
    if (seconds_ago) {
      std::time_t at = std::time(nullptr) - *seconds_ago;
      std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&at));
    } else {
      std::snprintf(date, sizeof date, "2026-01-%02dT12:00:00Z", day);
    }
    repo.git({"add", "-A"});
    auto run = run_program({"git", "commit", "-q", "-m", "day " + std::to_string(day)}, repo.path(),
                           {{"GIT_COMMITTER_DATE", date}, {"GIT_AUTHOR_DATE", date}});
    REQUIRE(run.code == 0);
    return repo.head();
  }
  void push() const {
    auto run = repo.mlrepo({"build", "--all", "--push"});
    INFO(run.err);
    REQUIRE(run.code == 0);
  }
  std::string digest(const std::string& name, const std::string& tag) const {
    return registry.tag_digest(repository(name), tag);
  }
};

} // namespace

TEST_CASE("prune: over 12 commits with releases, a base and a removed project, exactly the protected set stays",
          "[prune][docker]") {
  History h;
  // The oracle's record: each project's images in the order they appeared,
  // and which base image each app image was built FROM.
  std::map<std::string, std::vector<std::string>> made; // project -> digests, oldest first
  std::map<std::string, std::string> app_base;          // app digest -> base digest
  std::set<std::string> releases;                       // app digests with a release
  auto record = [&](const std::string& sha) {
    for (const char* name : {"base", "app", "old"}) {
      std::string d = h.digest(name, sha);
      if (d.empty())
        continue; // old, once removed
      auto& list = made[name];
      if (std::find(list.begin(), list.end(), d) == list.end())
        list.push_back(d);
    }
    app_base[h.digest("app", sha)] = h.digest("base", sha);
  };
  // 12 commits hold every case: app changes, base rebuilds (app rebuilds on
  // each), commits that build nothing, a project changed then removed, and
  // two releases, the first on a base that later falls out of the newest 3.
  const std::map<int, const char*> change = {{3, "base"}, {4, "README"}, {5, "base"}, {7, "base"},
                                             {8, "README"}, {9, "base"}};
  for (int i = 1; i <= 12; ++i) {
    std::string what = change.count(i) ? change.at(i) : "app";
    if (what == "base")
      h.repo.write("base/base.txt", "base " + std::to_string(i) + "\n"); // app rebuilds on the new base
    else if (what == "app")
      h.repo.write("app/model.txt", "model " + std::to_string(i) + "\n");
    else
      h.repo.write("README.md", "day " + std::to_string(i) + "\n"); // nothing to build: new commit tags only
    if (i == 8)
      h.repo.remove("old/Dockerfile");
    else if (i == 2 || i == 4 || i == 6)
      h.repo.write("old/old.txt", "old " + std::to_string(i) + "\n");
    std::string sha = h.commit();
    h.push();
    record(sha);
    if (i == 2 || i == 10) {
      std::string version = i == 2 ? "1.0.0" : "1.1.0";
      REQUIRE(h.repo.mlrepo({"release", "app", version}).code == 0);
      auto promote = h.repo.mlrepo({"promote", "--release", "--ref", "refs/tags/app/v" + version});
      INFO(promote.err);
      REQUIRE(promote.code == 0);
      releases.insert(h.digest("app", sha));
    }
  }
  REQUIRE(made["app"].size() >= 8);
  REQUIRE(made["base"].size() == 5);
  REQUIRE(made["old"].size() == 4);

  // What must stay, computed from the record alone.
  std::set<std::string> keep_app(releases.begin(), releases.end());
  keep_app.insert(h.digest("app", "latest"));
  for (size_t k = made["app"].size() - 3; k < made["app"].size(); ++k)
    keep_app.insert(made["app"][k]); // the newest 3 (each image is a later day than the one before)
  std::set<std::string> keep_base{h.digest("base", "latest")};
  for (size_t k = made["base"].size() - 3; k < made["base"].size(); ++k)
    keep_base.insert(made["base"][k]);
  for (const auto& d : keep_app)
    keep_base.insert(app_base[d]); // a kept app image's FROM
  REQUIRE(keep_base.size() < made["base"].size()); // something of base goes, or the test proves little

  auto stays = [&](const std::string& name, const std::string& d) {
    return name == "app" ? keep_app.count(d) > 0 : name == "base" ? keep_base.count(d) > 0 : false;
  };

  // The dry run: says what would go and why the rest stays; deletes nothing.
  auto dry = h.repo.mlrepo({"prune", "--all", "--removed", "--dry-run", "--json"});
  INFO(dry.err);
  REQUIRE(dry.code == 0);
  auto plan = dry.json();
  CHECK(plan["dry_run"] == true);
  CHECK(plan["keep_last"] == 3);
  std::map<std::string, json> by_name;
  for (const auto& p : plan["projects"])
    by_name[p["name"].get<std::string>()] = p;
  REQUIRE(by_name.count("app"));
  REQUIRE(by_name.count("base"));
  REQUIRE(by_name.count("old")); // the removed project
  CHECK(by_name["old"]["removed"] == true);
  for (const char* name : {"app", "base"}) {
    for (const auto& k : by_name[name]["kept"]) {
      INFO(name << " keeps " << k.dump());
      CHECK(stays(name, k["digest"]));
      CHECK_FALSE(k["reason"].get<std::string>().empty());
    }
    for (const auto& d : by_name[name]["deleted"]) {
      INFO(name << " deletes " << d.dump());
      CHECK_FALSE(stays(name, d["digest"]));
    }
    CHECK(by_name[name]["kept"].size() + by_name[name]["deleted"].size() == made[name].size());
  }
  bool said_base = false, said_release = false;
  for (const auto& k : by_name["base"]["kept"])
    said_base |= k["reason"].get<std::string>().find("the base of a kept image of app") != std::string::npos;
  for (const auto& k : by_name["app"]["kept"])
    said_release |= k["reason"].get<std::string>().find("release 1.") != std::string::npos;
  CHECK(said_base);
  CHECK(said_release);
  for (const auto& [name, list] : made)
    for (const auto& d : list)
      CHECK(h.registry.has_manifest(h.repository(name), d)); // nothing deleted yet

  // The real run: each deletion printed; the storage holds exactly the kept set.
  auto run = h.repo.mlrepo({"prune", "--all", "--removed"});
  INFO(run.err);
  REQUIRE(run.code == 0);
  size_t deleted_lines = 0;
  for (size_t pos = 0; (pos = run.out.find("deleted ", pos)) != std::string::npos; ++pos)
    ++deleted_lines;
  size_t expected_deleted = 0;
  for (const auto& [name, list] : made)
    for (const auto& d : list) {
      INFO(name << " " << d);
      CHECK(h.registry.has_manifest(h.repository(name), d) == stays(name, d));
      expected_deleted += stays(name, d) ? 0 : 1;
    }
  CHECK(deleted_lines == expected_deleted);
  // The release and moving tags still name what they named.
  for (const char* tag : {"1.0.0", "1.1.0", "1", "1.1", "latest"})
    CHECK_FALSE(h.digest("app", tag).empty());
  // A kept image still pulls and runs: its base's layers are all there.
  docker({"image", "rm", "-f", h.image("app") + ":latest"});
  CHECK(run_program({"docker", "pull", "-q", h.image("app") + ":latest"}, h.repo.path()).code == 0);

  // Nothing left to do: a second run deletes nothing.
  auto again = h.repo.mlrepo({"prune", "--all", "--removed", "--json"});
  REQUIRE(again.code == 0);
  for (const auto& p : again.json()["projects"])
    CHECK(p["deleted"].empty());
}

TEST_CASE("prune: age and --keep-last, and a registry that refuses deletes deletes nothing and says what to use",
          "[prune][docker]") {
  RegistryAuth no_deletes;
  no_deletes.deletes = false;
  History h(no_deletes);
  h.repo.remove("old/Dockerfile");
  std::vector<std::string> shas;
  // Two old images (January 2026) and two young ones: two days and an hour old.
  const std::optional<long> ages[] = {std::nullopt, std::nullopt, 2 * 86400, 3600};
  for (int i = 1; i <= 4; ++i) {
    h.repo.write("app/model.txt", "model " + std::to_string(i) + "\n");
    shas.push_back(h.commit(ages[i - 1]));
    h.push();
  }
  // The newest N counts every image: the newest is also latest.
  auto dry = h.repo.mlrepo({"prune", "app", "--keep-last", "2", "--dry-run"});
  INFO(dry.err);
  REQUIRE(dry.code == 0);
  CHECK_THAT(dry.out, Contains("keep   " + h.digest("app", shas[3])) && Contains("default-branch tag latest"));
  CHECK_THAT(dry.out, Contains("keep   " + h.digest("app", shas[2])) && Contains("one of the newest 2"));
  CHECK_THAT(dry.out, Contains("delete " + h.digest("app", shas[0])));
  CHECK_THAT(dry.out, Contains("2 images would be deleted, 2 kept"));
  // By age alone: the two old ones go, the two-day-old one stays by age, the
  // newest by its tag.
  auto mix = h.repo.mlrepo({"prune", "app", "--keep-last", "0", "--older-than", "3d", "--dry-run"});
  INFO(mix.err);
  REQUIRE(mix.code == 0);
  CHECK_THAT(mix.out, Contains("delete " + h.digest("app", shas[0])) && Contains("delete " + h.digest("app", shas[1])));
  CHECK_THAT(mix.out, Contains("keep   " + h.digest("app", shas[2])) && Contains("younger than 3d"));
  CHECK_THAT(mix.out, Contains("keep   " + h.digest("app", shas[3])));
  CHECK_THAT(mix.out, Contains("2 images would be deleted, 2 kept"));
  auto hours = h.repo.mlrepo({"prune", "app", "--keep-last", "0", "--older-than", "36h", "--dry-run"});
  REQUIRE(hours.code == 0);
  CHECK_THAT(hours.out, Contains("delete " + h.digest("app", shas[2])) && Contains("3 images would be deleted, 1 kept"));
  auto young = h.repo.mlrepo({"prune", "app", "--keep-last", "0", "--older-than", "100000d", "--dry-run"});
  REQUIRE(young.code == 0);
  CHECK_THAT(young.out, Contains("younger than 100000d") && Contains("0 images would be deleted"));
  auto bad = h.repo.mlrepo({"prune", "app", "--older-than", "soon"});
  CHECK(bad.code == 2);
  CHECK_THAT(bad.err, Contains("--older-than") && Contains("90s"));
  auto none = h.repo.mlrepo({"prune"});
  CHECK(none.code == 2);
  CHECK_THAT(none.err, Contains("which projects") && Contains("--all"));

  auto refused = h.repo.mlrepo({"prune", "app", "--keep-last", "1"});
  CHECK(refused.code == 1);
  CHECK_THAT(refused.err, Contains("does not allow deleting") && Contains("405") && Contains("nothing was deleted") &&
                              Contains("retention"));
  for (const auto& sha : shas)
    CHECK(h.registry.has_manifest(h.repository("app"), h.digest("app", sha)));
}

TEST_CASE("registry client: the tag list is read across every page", "[prune][docker]") {
  History h;
  h.repo.remove("old/Dockerfile");
  h.commit();
  h.push();
  // 20 more tags on one image, registry-side.
  for (int i = 0; i < 20; ++i)
    REQUIRE(h.repo.mlrepo({"promote", "app", "--tag", "extra-" + std::to_string(i)}).code == 0);
  struct None : mlrepo::registry::CredentialSource {
    mlrepo::registry::Credentials lookup(const std::string&) override { return {}; }
    std::string origin(const std::string&) override { return "none"; }
  } none;
  mlrepo::registry::ClientOptions options;
  options.page_size = 3;
  mlrepo::registry::Client client(none, options);
  auto tags = client.list_tags(mlrepo::registry::parse_image_name(h.image("app") + ":x"));
  std::sort(tags.begin(), tags.end());
  CHECK(tags == h.registry.tags(h.repository("app")));
  CHECK(tags.size() >= 22);
}
