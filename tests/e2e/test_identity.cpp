// Dependencies by image identity, inputs read from Dockerfiles, and the
// naming errors a large repository meets on its first run.
#include "support/repo.hpp"

#include <catch2/catch.hpp>
#include <fstream>

using namespace mlrepo::test;
using Catch::Contains;
using nlohmann::json;
using Lines = std::vector<std::string>;

namespace {

Lines changed(const GitRepo& r, const std::string& base) {
  auto run = r.mlrepo({"changed", "--base", base});
  INFO(run.err);
  REQUIRE(run.code == 0);
  return run.lines();
}

json reasons_of(const GitRepo& r, const std::string& base, const std::string& name) {
  auto run = r.mlrepo({"changed", "--base", base, "--json"});
  INFO(run.err);
  REQUIRE(run.code == 0);
  const json j = run.json(); // the loop below must not outlive it
  for (const auto& c : j["changed"])
    if (c["name"] == name)
      return c["reasons"];
  return json();
}

} // namespace

TEST_CASE("identity: a reference names a project only by its image repository or bare local name",
          "[graph][identity]") {
  GitRepo r;
  r.write("mlrepo.yaml", "registry: ghcr.io/acme\n");
  r.write("images/ml-base/Dockerfile", "FROM scratch\n");
  r.write("images/base-notebook/Dockerfile", "FROM scratch\n");
  r.write("frameworks/pytorch/Dockerfile", "FROM scratch\n");
  // The registry spelling, through a stage alias.
  r.write("a/Dockerfile", "FROM ghcr.io/acme/ml-base:1.2 AS b\nFROM b\n");
  // Nested ARG defaults, as docker-stacks writes them.
  r.write("b/Dockerfile", "ARG REGISTRY=ghcr.io\nARG OWNER=acme\n"
                          "ARG BASE=$REGISTRY/$OWNER/base-notebook\nFROM $BASE\n");
  // The bare local name, in COPY --from and RUN --mount.
  r.write("c/Dockerfile", "FROM scratch\nCOPY --from=a:latest /x /x\n"
                          "RUN --mount=type=bind,from=b,target=/w true\n");
  // Docker Hub spellings of the bare local name.
  r.write("d/Dockerfile", "FROM docker.io/library/ml-base\nFROM library/base-notebook:3\n");
  // Outside images whose last component equals a project's name.
  r.write("e/Dockerfile", "FROM nvcr.io/nvidia/pytorch:22.08-py3\n"
                          "FROM localhost:5000/ml-base\nFROM ghcr.io/other/base-notebook\n");
  // Pinned by digest: the published image, not this tree's.
  r.write("f/Dockerfile", "FROM ghcr.io/acme/ml-base@sha256:0123\n");
  r.commit();
  CHECK(graph_edges(r) == json::array({graph_edge("a", "ml-base"), graph_edge("b", "base-notebook"), graph_edge("c", "a"),
                                    graph_edge("c", "b"), graph_edge("d", "ml-base"), graph_edge("d", "base-notebook")}));

  // A README edit in pytorch changes pytorch alone, not NVIDIA's users.
  std::string base = r.head();
  r.write("frameworks/pytorch/README.md", "x");
  r.commit();
  CHECK(changed(r, base) == Lines{"pytorch"});

  // Near misses are reported, with the registry that would make them one.
  auto graph = r.mlrepo({"graph", "-v"});
  CHECK(graph.code == 0);
  CHECK_THAT(graph.err, Contains("e/Dockerfile:1: FROM nvcr.io/nvidia/pytorch:22.08-py3 is an outside "
                                 "image, not project 'pytorch' (frameworks/pytorch") &&
                            Contains("'registry: nvcr.io/nvidia'") &&
                            Contains("e/Dockerfile:2: FROM localhost:5000/ml-base") &&
                            Contains("'registry: localhost:5000'") &&
                            Contains("e/Dockerfile:3: FROM ghcr.io/other/base-notebook"));
  CHECK_THAT(r.mlrepo({"graph"}).err, !Contains("near miss"));
  auto doctor = r.mlrepo({"doctor"});
  CHECK_THAT(doctor.out + doctor.err, Contains("FROM nvcr.io/nvidia/pytorch:22.08-py3 is an outside image") &&
                                          Contains("registry: nvcr.io/nvidia"));
}

TEST_CASE("identity: name_from path and image_prefix keep FROM edges", "[graph][identity]") {
  GitRepo r;
  r.write("mlrepo.yaml", "registry: ghcr.io/acme\nimage_prefix: ml-\nname_from: path\n");
  r.write("images/base/Dockerfile", "FROM scratch\n");
  r.write("apps/api/Dockerfile", "FROM ghcr.io/acme/ml-images-base:1\n");
  r.write("apps/web/Dockerfile", "FROM ml-images-base\n");
  r.write("apps/old/Dockerfile", "FROM images-base\n"); // without the prefix: not the project
  r.commit();
  CHECK(graph_edges(r) == json::array({graph_edge("apps-api", "images-base"), graph_edge("apps-web", "images-base")}));
  auto list = r.mlrepo({"list", "--json"}).json();
  CHECK(list["projects"][0]["image"] == "ghcr.io/acme/ml-apps-api");
}

TEST_CASE("identity: the build never tags an image that is not a project's own",
          "[build][docker][identity]") {
  GitRepo r;
  r.write("mlrepo.yaml", "registry: localhost:5000/acme\n");
  r.write("frameworks/pytorch/Dockerfile", "FROM scratch\n");
  r.write("models/bert/Dockerfile", "FROM nvcr.io/nvidia/pytorch:22.08-py3\n");
  r.write("models/gpt/Dockerfile", "FROM localhost:5000/acme/pytorch:1\n");
  r.commit();
  auto dry = r.mlrepo({"build", "--all", "--dry-run"});
  INFO(dry.err);
  REQUIRE(dry.code == 0);
  bool own_tagged = false;
  for (const auto& line : dry.lines()) {
    CHECK_THAT(line, !(Contains("docker tag") && Contains("nvcr.io")));
    own_tagged |= line.find("docker tag") != std::string::npos &&
                  line.find("localhost:5000/acme/pytorch:1") != std::string::npos;
  }
  CHECK(own_tagged); // gpt's FROM names pytorch's own repository: it is re-pointed
  CHECK(graph_edges(r) == json::array({graph_edge("gpt", "pytorch")}));
}

TEST_CASE("identity: registry and image_prefix must be valid references", "[config][identity]") {
  GitRepo r;
  r.write("a/Dockerfile", "FROM scratch\n");
  struct Case {
    const char* yaml;
    const char* key;
  };
  for (auto c : {Case{"registry: ghcr.io/Acme\n", "'registry'"},
                 Case{"registry: https://ghcr.io/acme\n", "'registry'"},
                 Case{"registry: MyOrg\n", "'registry'"},
                 Case{"registry: ghcr.io//acme\n", "'registry'"},
                 Case{"image_prefix: ML-\n", "'image_prefix'"},
                 Case{"image_prefix: \"ml@\"\n", "'image_prefix'"}}) {
    r.write("mlrepo.yaml", c.yaml);
    auto run = r.mlrepo({"list"});
    INFO(c.yaml << run.err);
    CHECK(run.code == 2);
    CHECK_THAT(run.err, Contains("mlrepo.yaml:1") && Contains(c.key));
  }
  for (auto ok : {"registry: localhost:5000\n", "registry: ghcr.io/acme/team\n", "registry: acme\n",
                  "registry: registry.example.com:8443/a_b/c-d\nimage_prefix: team/\n"}) {
    r.write("mlrepo.yaml", ok);
    auto run = r.mlrepo({"list"});
    INFO(ok << run.err);
    CHECK(run.code == 0);
  }
}

TEST_CASE("inputs: COPY sources from a context wider than the project are inputs", "[changed][identity]") {
  GitRepo r;
  r.write("libs/mlcommon/mlcommon/features.py", "x = 1\n");
  r.write("libs/other/requirements.txt", "numpy\n");
  r.write("libs/other/other.py", "\n");
  r.write("data/readme.md", "\n");
  r.write("projects/churn/Dockerfile",
          "FROM scratch\nARG LIB=libs/mlcommon\nCOPY ${LIB} /opt/lib\n"
          "COPY [\"libs/*/requirements.txt\", \"/req/\"]\nCOPY projects/churn/src /app\n"
          "COPY --from=busybox /bin/sh /bin/sh\nADD https://example.com/x.tgz /x\n");
  r.write("projects/churn/mlrepo.yaml", "context: ../..\n");
  r.write("projects/churn/src/main.py", "\n");
  // A narrow context copies only its own files: no extra inputs.
  r.write("projects/narrow/Dockerfile", "FROM scratch\nCOPY libs /libs\n");
  std::string base = r.commit();

  r.write("libs/mlcommon/mlcommon/features.py", "x = 2\n");
  std::string one = r.commit();
  CHECK(changed(r, base) == Lines{"churn"});
  CHECK(reasons_of(r, base, "churn") ==
        json::array({{{"kind", "dependency"},
                      {"detail", "libs/mlcommon/mlcommon/features.py (COPY libs/mlcommon at "
                                 "projects/churn/Dockerfile:3)"}}}));

  r.write("libs/other/requirements.txt", "numpy==2\n");
  r.commit();
  CHECK(changed(r, one) == Lines{"churn"});
  std::string two = r.head();
  r.write("libs/other/other.py", "# not copied\n");
  r.write("data/readme.md", "more\n");
  r.commit();
  CHECK(changed(r, two).empty());

  // The inputs are in the generated workflow's filter too.
  auto gen = r.mlrepo({"ci", "generate"});
  INFO(gen.err);
  REQUIRE(gen.code == 0);
  std::ifstream wf((r.path() / ".github/workflows/mlrepo-churn.yml").string());
  std::string text((std::istreambuf_iterator<char>(wf)), std::istreambuf_iterator<char>());
  CHECK_THAT(text, Contains("libs/mlcommon/**") && Contains("libs/*/requirements.txt"));
}

TEST_CASE("inputs: a bare depends_on word that is a project and a top-level path is ambiguous",
          "[graph][identity]") {
  GitRepo r;
  r.write("api/schema.json", "{}\n");
  r.write("services/api/Dockerfile", "FROM scratch\n");
  r.write("services/web/Dockerfile", "FROM scratch\n");
  r.write("services/web/mlrepo.yaml", "depends_on: [api]\n");
  r.commit();
  auto run = r.mlrepo({"graph"});
  CHECK(run.code == 2);
  CHECK_THAT(run.err, Contains("services/web/mlrepo.yaml:1") && Contains("'./api'") &&
                          Contains("'services/api'"));
  r.write("services/web/mlrepo.yaml", "depends_on: [./api]\n");
  CHECK(graph_edges(r) == json::array());
  r.write("services/web/mlrepo.yaml", "depends_on: [services/api]\n");
  CHECK(graph_edges(r) == json::array({graph_edge("web", "api", "depends_on")}));
}

TEST_CASE("inputs: a change to registry, image_prefix, name_from or docker touches every project",
          "[changed][identity]") {
  GitRepo r;
  r.write("mlrepo.yaml", "registry: ghcr.io/acme\ndefault_branch: main\n");
  r.write("a/Dockerfile", "FROM scratch\n");
  r.write("b/Dockerfile", "FROM scratch\n");
  std::string base = r.commit();
  r.write("mlrepo.yaml", "registry: ghcr.io/acme\ndefault_branch: main\n# a comment\n");
  r.commit();
  CHECK(changed(r, base).empty());
  for (auto yaml : {"registry: ghcr.io/acme2\n", "registry: ghcr.io/acme\nimage_prefix: x-\n",
                    "registry: ghcr.io/acme\nname_from: path\n", "registry: ghcr.io/acme\ndocker: podman\n"}) {
    r.write("mlrepo.yaml", std::string(yaml) + "default_branch: main\n");
    auto run = r.mlrepo({"changed", "--base", base, "--json"});
    INFO(yaml << run.err);
    REQUIRE(run.code == 0);
    auto j = run.json();
    REQUIRE(j["changed"].size() == 2);
    CHECK(j["changed"][0]["reasons"][0]["kind"] == "global");
    CHECK_THAT(j["changed"][0]["reasons"][0]["detail"].get<std::string>(), Contains("mlrepo.yaml"));
  }
}

TEST_CASE("names: every collision and invalid name in one run", "[list][identity]") {
  GitRepo r;
  for (auto dir : {"a/model", "b/model", "c/model", "x/tool", "y/tool", "z/My Model"})
    r.write(std::string(dir) + "/Dockerfile", "FROM scratch\n");
  r.write("w/mlrepo.yaml", "name: Bad_Name\n");
  r.write("w/Dockerfile", "FROM scratch\n");
  auto run = r.mlrepo({"list"});
  CHECK(run.code == 2);
  CHECK_THAT(run.err, Contains("'a/model', 'b/model' and 'c/model' are all named 'model'") &&
                          Contains("'x/tool' and 'y/tool' are both named 'tool'") &&
                          Contains("z/My Model") && Contains("w/mlrepo.yaml:1") &&
                          Contains("a/model/mlrepo.yaml, b/model/mlrepo.yaml or c/model/mlrepo.yaml") &&
                          Contains("name_from: path") && Contains("upper-case"));
}

TEST_CASE("names: Docker's limit is 255 characters for the whole repository", "[list][identity]") {
  GitRepo r;
  std::string long_name(200, 'a');
  r.write("p/Dockerfile", "FROM scratch\n");
  r.write("p/mlrepo.yaml", "name: " + long_name + "\n");
  auto run = r.mlrepo({"list"});
  INFO(run.err);
  CHECK(run.code == 0);
  r.write("mlrepo.yaml", "registry: registry.example.com/" + std::string(60, 'n') + "\n");
  run = r.mlrepo({"list"});
  CHECK(run.code == 2);
  CHECK_THAT(run.err, Contains("at most 255") && Contains("p/mlrepo.yaml"));
}

TEST_CASE("names: a UTF-8 byte-order mark is ignored in Dockerfiles and configs", "[graph][identity]") {
  GitRepo r;
  r.write("mlrepo.yaml", "\xEF\xBB\xBFregistry: ghcr.io/acme\n");
  r.write("base/Dockerfile", "\xEF\xBB\xBF" "FROM scratch\n");
  r.write("app/Dockerfile", "\xEF\xBB\xBF" "FROM ghcr.io/acme/base\n");
  r.write("app/mlrepo.yaml", "\xEF\xBB\xBFname: app\n");
  r.commit();
  CHECK(graph_edges(r) == json::array({graph_edge("app", "base")}));
}

TEST_CASE("identity: near misses in the workspace's own namespace, pinned references and a project's own base",
          "[identity]") {
  GitRepo r;
  r.write("mlrepo.yaml", "registry: ghcr.io/acme\nimage_prefix: team/\n");
  r.write("images/py-base/Dockerfile", "FROM scratch\n");
  r.write("a/Dockerfile", "FROM ghcr.io/acme/team/py-bse:1\n");  // a typo in our own namespace
  r.write("b/Dockerfile", "FROM ghcr.io/acme/py-base:1\n");       // without the image_prefix
  r.write("c/Dockerfile", "FROM ghcr.io/acme/team/py-base@sha256:" + std::string(64, 'a') + "\n");
  r.write("d/Dockerfile", "FROM ghcr.io/acme/team/d:previous\n"); // its own repository
  r.write("e/Dockerfile", "FROM minio.example/e:1\n");            // its own image elsewhere: nothing to say
  r.commit();
  auto graph = r.mlrepo({"graph", "-v"});
  INFO(graph.err);
  REQUIRE(graph.code == 0);
  CHECK_THAT(graph.err, Contains("a/Dockerfile:1: FROM ghcr.io/acme/team/py-bse:1") &&
                            Contains("did you mean ghcr.io/acme/team/py-base (project 'py-base')?"));
  CHECK_THAT(graph.err, Contains("b/Dockerfile:1: FROM ghcr.io/acme/py-base:1 is not project 'py-base': its image is "
                                 "ghcr.io/acme/team/py-base"));
  CHECK_THAT(graph.err, Contains("c/Dockerfile:1") && Contains("pinned by digest") && Contains("drop the @sha256"));
  CHECK_THAT(graph.err, !Contains("e/Dockerfile") && !Contains("'registry: minio"));
  // A project FROM its own repository: list and doctor warn without -v.
  auto list = r.mlrepo({"list"});
  CHECK(list.code == 0);
  CHECK_THAT(list.err, Contains("d/Dockerfile:1: FROM ghcr.io/acme/team/d:previous is project 'd''s own image "
                                "repository") && Contains("overwriting the base's tags"));
  auto cached = r.mlrepo({"list", "--rev", "HEAD"});
  auto again = r.mlrepo({"list", "--rev", "HEAD"}); // from the discovery cache
  CHECK_THAT(again.err, Contains("'d''s own image repository"));
  auto doctor = r.mlrepo({"doctor"});
  CHECK_THAT(doctor.out + doctor.err, Contains("'d''s own image repository"));
}
