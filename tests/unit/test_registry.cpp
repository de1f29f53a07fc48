// The registry client's parsers and the release version rules.
#include "mlrepo/registry/client.hpp"
#include "mlrepo/registry/credentials.hpp"
#include "mlrepo/release/promote.hpp"
#include "mlrepo/release/tags.hpp"
#include "mlrepo/release/semver.hpp"
#include "mlrepo/util/base64.hpp"

#include <catch2/catch.hpp>
#include <algorithm>
#include <map>
#include <random>

using namespace mlrepo;
using namespace mlrepo::registry;
using namespace mlrepo::release;

TEST_CASE("WWW-Authenticate challenges: quoted values, commas inside quotes, escapes", "[registry]") {
  auto c = parse_challenge(
      R"(Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/x:pull,push")");
  REQUIRE(c);
  CHECK(c->scheme == "bearer");
  CHECK(c->params["realm"] == "https://ghcr.io/token");
  CHECK(c->params["service"] == "ghcr.io");
  CHECK(c->params["scope"] == "repository:acme/x:pull,push");
  auto b = parse_challenge(R"(Basic realm="a \"quoted\" realm")");
  REQUIRE(b);
  CHECK(b->scheme == "basic");
  CHECK(b->params["realm"] == "a \"quoted\" realm");
  auto unquoted = parse_challenge("Bearer realm=https://r/t, service=r");
  REQUIRE(unquoted);
  CHECK(unquoted->params["service"] == "r");
  CHECK_FALSE(parse_challenge(""));
}

TEST_CASE("image names as the registry API addresses them", "[registry]") {
  auto hub = parse_image_name("python:3.11");
  CHECK(hub.registry == "docker.io");
  CHECK(hub.repository == "library/python");
  CHECK(hub.reference == "3.11");
  auto ns = parse_image_name("docker.io/acme/x:1");
  CHECK(ns.repository == "acme/x");
  auto local = parse_image_name("localhost:5000/team/app:content-1");
  CHECK(local.registry == "localhost:5000");
  CHECK(local.repository == "team/app");
  CHECK(local.str() == "localhost:5000/team/app:content-1");
  auto pinned = parse_image_name("ghcr.io/a/b@sha256:0123");
  CHECK(pinned.reference == "sha256:0123");
  CHECK(pinned.str() == "ghcr.io/a/b@sha256:0123");
  CHECK_THROWS_AS(parse_image_name("ghcr.io/a/b"), UsageError);
  CHECK_THROWS_AS(parse_image_name("ghcr.io/A/b:1"), UsageError);
}

TEST_CASE("plain HTTP only for loopback registries", "[registry]") {
  CHECK(is_loopback("localhost:5000"));
  CHECK(is_loopback("localhost"));
  CHECK(is_loopback("127.0.0.1:5000"));
  CHECK(is_loopback("127.1.2.3"));
  CHECK(is_loopback("[::1]:5000"));
  CHECK_FALSE(is_loopback("ghcr.io"));
  CHECK_FALSE(is_loopback("localhost.example.com:5000"));
  CHECK_FALSE(is_loopback("10.0.0.1:5000"));
  CHECK_FALSE(is_loopback("127example.com"));
}

TEST_CASE("docker config keys normalise to registry hosts", "[registry]") {
  CHECK(normalise_registry_host("https://index.docker.io/v1/") == "docker.io");
  CHECK(normalise_registry_host("https://ghcr.io") == "ghcr.io");
  CHECK(normalise_registry_host("http://localhost:5000/v2/") == "localhost:5000");
  CHECK(normalise_registry_host("registry-1.docker.io") == "docker.io");
}

TEST_CASE("SemVer: what a release version may be", "[release]") {
  auto v = parse_version("1.2.3-rc.1");
  REQUIRE(v);
  CHECK(v->major == 1);
  CHECK(v->prerelease == "rc.1");
  CHECK(v->is_prerelease());
  std::string why;
  CHECK_FALSE(parse_version("1.2", &why));
  CHECK(why == "not MAJOR.MINOR.PATCH");
  CHECK_FALSE(parse_version("01.2.3", &why));
  CHECK_THAT(why, Catch::Contains("leading zero"));
  CHECK_FALSE(parse_version("1.2.3-rc..1", &why));
  CHECK_FALSE(parse_version("1.2.3-01", &why));
  CHECK_FALSE(parse_version("1.2.x"));
  CHECK_FALSE(parse_version("99999999999999999999.0.0")); // never an out_of_range
  CHECK(parse_version("1.0.0+build.5")->build == "build.5");
}

TEST_CASE("SemVer precedence, as semver.org orders its example", "[release]") {
  std::vector<std::string> order{"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
                                 "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.10.0", "2.0.0"};
  for (size_t i = 0; i + 1 < order.size(); ++i) {
    INFO(order[i] << " < " << order[i + 1]);
    CHECK(compare(*parse_version(order[i]), *parse_version(order[i + 1])) < 0);
    CHECK(compare(*parse_version(order[i + 1]), *parse_version(order[i])) > 0);
  }
  CHECK(compare(*parse_version("1.0.0+a"), *parse_version("1.0.0+b")) == 0);
}

TEST_CASE("release tags: the first release of each line gets every moving tag", "[release]") {
  CHECK(release_tags(*parse_version("1.2.3"), {}) == std::vector<std::string>{"1.2.3", "1.2", "1", "latest"});
  CHECK(release_tags(*parse_version("0.4.0"), {*parse_version("0.4.0")}) ==
        std::vector<std::string>{"0.4.0", "0.4", "0", "latest"});
  // A release candidate never moves 1, 1.3 or latest.
  CHECK(release_tags(*parse_version("1.3.0-rc.1"), {}) == std::vector<std::string>{"1.3.0-rc.1"});
}

TEST_CASE("release tags: moving tags never go back to an older release", "[release]") {
  std::vector<Version> released;
  for (const char* v : {"1.1.0", "1.3.4", "1.4.0", "2.0.0", "2.1.0-rc.1"})
    released.push_back(*parse_version(v));
  auto tags = [&](const char* v) { return release_tags(*parse_version(v), released); };
  // The case users met: 1.1.0 promoted after 2.0.0 moved latest back.
  CHECK(tags("1.1.0") == std::vector<std::string>{"1.1.0", "1.1"});
  // A patch of an older line moves that line's tags only.
  CHECK(tags("1.3.5") == std::vector<std::string>{"1.3.5", "1.3"});
  CHECK(tags("1.4.1") == std::vector<std::string>{"1.4.1", "1.4", "1"});
  // A pre-release outranks nothing: 2.0.1 still gets latest over 2.1.0-rc.1.
  CHECK(tags("2.0.1") == std::vector<std::string>{"2.0.1", "2.0", "2", "latest"});
  // Promoting the same release again gives the same tags (CI re-runs).
  CHECK(tags("2.0.0") == std::vector<std::string>{"2.0.0", "2.0", "2", "latest"});
}

TEST_CASE("release tags: over any release order, each moving tag names the highest release of its line",
          "[release]") {
  std::vector<std::string> all{"0.1.0", "0.1.1", "0.2.0", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0",
                               "1.1.1", "1.2.0-beta", "1.2.0", "2.0.0", "2.0.1", "2.1.0", "3.0.0-rc.2"};
  std::mt19937 rng(20261204);
  for (int round = 0; round < 200; ++round) {
    std::shuffle(all.begin(), all.end(), rng);
    std::map<std::string, std::string> moving; // tag -> version it names
    std::vector<Version> released;
    for (const auto& text : all) {
      auto v = *parse_version(text);
      released.push_back(v);
      for (const auto& t : release_tags(v, released))
        moving[t] = text;
      // The oracle: the highest non-pre-release so far in each line.
      std::map<std::string, Version> best;
      for (const auto& r : released) {
        if (r.is_prerelease())
          continue;
        for (auto key : {std::to_string(r.major) + "." + std::to_string(r.minor), std::to_string(r.major),
                         std::string("latest")})
          if (!best.count(key) || compare(best[key], r) < 0)
            best[key] = r;
      }
      for (const auto& [tag, v_best] : best) {
        INFO("round " << round << ", after " << text << ": " << tag);
        CHECK(moving[tag] == v_best.str());
      }
    }
  }
}

TEST_CASE("release refs: <project>/v<VERSION>, with or without refs/tags/", "[release]") {
  auto r = parse_release_ref("refs/tags/churn-model/v1.2.0");
  CHECK(r.project == "churn-model");
  CHECK(r.version.str() == "1.2.0");
  CHECK(parse_release_ref("teams/nlp/v2.0.0-beta.1").project == "teams/nlp");
  CHECK_THROWS_WITH(parse_release_ref("refs/heads/main"), Catch::Contains("not a release tag"));
  CHECK_THROWS_WITH(parse_release_ref("refs/tags/v1.2.0"), Catch::Contains("not a release tag"));
  CHECK_THROWS_WITH(parse_release_ref("refs/tags/app/v1.2"), Catch::Contains("SemVer"));
  CHECK_THROWS_AS(parse_release_ref("refs/heads/app/v1.2.0"), UsageError);
}

TEST_CASE("base64 both ways, as docker login writes it", "[registry]") {
  using mlrepo::util::base64_decode;
  using mlrepo::util::base64_encode;
  CHECK(base64_encode("user:pass") == "dXNlcjpwYXNz");
  CHECK(base64_encode("a") == "YQ==");
  CHECK(base64_decode("dXNlcjpwYXNz") == "user:pass");
  CHECK(base64_decode("YQ") == "a");
  CHECK_FALSE(base64_decode("not base64!"));
}
