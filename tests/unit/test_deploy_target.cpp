// The deploy target table: Kubernetes is its first row, and rendering through
// the row gives the golden CronJob byte for byte (the e2e render test checks
// the same file through `mlrepo job render` against a real registry).
#include "mlrepo/deploy/target.hpp"
#include "mlrepo/git/handles.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"
#include "mlrepo/workspace.hpp"
#include "support/render_fixture.hpp"
#include "support/repo.hpp"

#include <catch2/catch.hpp>

using namespace mlrepo;
using Catch::Contains;

TEST_CASE("deploy targets: the Kubernetes row renders the golden CronJob unchanged", "[deploy]") {
  git::Library libgit2;
  test::GitRepo r;
  r.write("mlrepo.yaml", test::render_workspace_config("registry.example/acme", "prefix-"));
  r.write("train/Dockerfile", "FROM scratch\n");
  r.write("train/mlrepo.yaml", test::kTrainJobConfig);
  r.commit();
  auto repo = git::Repository::discover(r.path().string());
  View view = open_view(repo, std::nullopt);
  auto i = view.graph.find("train");
  REQUIRE(i);
  const auto& train = view.graph.projects()[*i];

  REQUIRE(deploy::targets().size() >= 1);
  const auto& k8s = deploy::target_named("kubernetes");
  CHECK(&k8s == &deploy::targets()[0]);
  CHECK(k8s.runs_on == config::JobTarget::Kubernetes);
  CHECK(k8s.default_dir(view.config) == view.config.kubernetes.dir);
  deploy::PinnedImage image{"REGISTRY/acme/train@sha256:DIGEST", "COMMIT", "content-HASH", ""};
  auto files = k8s.render({train, view.config, image, std::nullopt, "deploy/k8s"});
  std::map<std::string, std::string> by_path;
  for (const auto& f : files)
    by_path[f.path] = f.content;
  auto golden = util::read_file(std::string(MLREPO_SOURCE_DIR) + "/tests/golden/k8s/train-cronjob.yaml");
  REQUIRE(golden);
  // As the e2e test does: the prefix's stem reads PREFIX in the golden file.
  std::string shown = by_path["deploy/k8s/train/cronjob.yaml"];
  for (size_t at; (at = shown.find("'prefix'")) != std::string::npos;)
    shown.replace(at, 8, "'PREFIX'");
  CHECK(shown == *golden);
  CHECK(by_path.count("deploy/k8s/train/cronjob-2.yaml"));
  CHECK(by_path.count("deploy/k8s/train/kustomization.yaml"));
  CHECK(by_path.count("deploy/k8s/train/overlays/prod/cronjob.yaml")); // each environment's overlay
  CHECK(by_path.count("deploy/k8s/train/overlays/staging/kustomization.yaml"));
  for (const auto& [path, text] : by_path)
    CHECK_THAT(text, Contains(k8s.marker));

  // A stream is the objects alone; one environment has no overlays.
  auto stream = k8s.render({train, view.config, image, std::string("prod"), "-"});
  for (const auto& f : stream)
    CHECK_THAT(f.path, !Contains("kustomization") && !Contains("overlays"));
  CHECK_THROWS_AS(k8s.require_env(view.config, "nope"), UsageError);
  CHECK_THROWS_AS(deploy::target_named("nomad"), UsageError);
  // The deploy job's credential in CI: the kubeconfig secret, as KUBECONFIG.
  auto credential = k8s.ci_credential(view.config);
  REQUIRE(credential);
  CHECK(credential->variable == "KUBECONFIG");
  CHECK(credential->secret == view.config.kubernetes.kubeconfig_secret);
}
