// `mlrepo job render`: Kubernetes manifests from each project's job, images
// pinned by the digest the real registry (Debian's docker-registry) holds.
// No cluster runs here: every manifest is checked offline against
// Kubernetes' own schemas (kubernetes-validate --strict, 1.27 to 1.33) and
// every kustomization built by `kubectl kustomize`. What no API server
// checked: admission (quotas, policies), whether the GPU resource and node
// labels exist on a cluster, and that the image can be pulled from it.
#include "support/docker.hpp"
#include "support/render_fixture.hpp"

#include "mlrepo/util/fs.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <regex>

using namespace mlrepo::test;
using Catch::Contains;

namespace {

const std::string kValidate = std::string(MLREPO_TOOLS_DIR) + "/kubernetes-validate";

// Every Kubernetes version the manifests must be valid for: one run per
// version over every file (each run loads that version's schemas).
// kubernetes-validate names each object by metadata.name and fails on a Job
// that has only generateName (valid Kubernetes): the copy it checks says name.
void expect_valid(const std::vector<fs::path>& files) {
  TempDir tmp;
  std::vector<std::string> copies;
  for (const auto& file : files) {
    auto copy = tmp.path() / (std::to_string(copies.size()) + "-" + file.filename().string());
    auto text = mlrepo::util::read_file(file).value_or("");
    REQUIRE_FALSE(text.empty());
    mlrepo::util::write_file_atomic(copy, std::regex_replace(text, std::regex("\n  generateName: "), "\n  name: "));
    copies.push_back(copy.string());
  }
  for (const char* version : {"1.27.0", "1.28.0", "1.29.0", "1.30.0", "1.31.0", "1.32.0", "1.33.0"}) {
    std::vector<std::string> argv{kValidate, "--strict", "-k", version};
    argv.insert(argv.end(), copies.begin(), copies.end());
    auto r = run_program(argv, tmp.path());
    INFO(copies.size() << " files against Kubernetes " << version << ":\n" << r.out << r.err);
    CHECK(r.code == 0);
  }
}

fs::path kustomize(const fs::path& dir, const fs::path& out) {
  auto r = run_program({"kubectl", "kustomize", dir.string()}, dir);
  INFO("kubectl kustomize " << dir << ":\n" << r.err);
  REQUIRE(r.code == 0);
  mlrepo::util::write_file_atomic(out, r.out);
  return out;
}

struct Deploy {
  Registry registry;
  ImageScope images;
  GitRepo repo;
  Deploy() {
    repo.write("mlrepo.yaml", render_workspace_config(registry.host() + "/acme", images.prefix()));
    repo.write("train/Dockerfile", "FROM " + busybox_image() + "\nCOPY train.sh /train.sh\n");
    repo.write("train/train.sh", "echo training\n");
    repo.write("train/mlrepo.yaml", kTrainJobConfig);
    repo.write("score/Dockerfile", "FROM " + busybox_image() + "\nCOPY score.sh /score.sh\n");
    repo.write("score/score.sh", "echo scoring\n");
    repo.write("score/mlrepo.yaml", "job:\n  command: sh /score.sh\n");
    // Scheduled in GitHub Actions: on the cluster only as an on-demand Job.
    repo.write("report/Dockerfile", "FROM " + busybox_image() + "\n");
    repo.write("report/mlrepo.yaml", "job:\n  schedule: '0 6 * * 1'\n  runs_on: github-actions\n");
    repo.write("lib/Dockerfile", "FROM " + busybox_image() + "\n"); // no job: nothing rendered
    repo.commit();
    auto push = repo.mlrepo({"build", "--all", "--push"});
    INFO(push.err);
    REQUIRE(push.code == 0);
  }
  std::string repository(const std::string& name) const { return "acme/" + images.prefix() + name; }
  // The digest the registry's storage holds for the project's content tag at HEAD.
  std::string digest(const std::string& name) const {
    auto tag = registry.tags(repository(name));
    for (const auto& t : tag)
      if (t == repo.head())
        return registry.tag_digest(repository(name), t);
    return "";
  }
};

} // namespace

TEST_CASE("job render: CronJobs and a Job template, pinned by the registry's digest, valid for Kubernetes 1.27-1.33",
          "[render][docker]") {
  Deploy d;
  auto run = d.repo.mlrepo({"job", "render", "--all"});
  INFO(run.err);
  REQUIRE(run.code == 0);
  auto dir = d.repo.path() / "deploy/k8s";
  CHECK(fs::exists(dir / "train/cronjob.yaml"));
  CHECK(fs::exists(dir / "train/cronjob-2.yaml")); // one CronJob per cron
  CHECK(fs::exists(dir / "score/job.yaml"));
  CHECK_FALSE(fs::exists(dir / "lib"));
  auto train = mlrepo::util::read_file(dir / "train/cronjob.yaml").value_or("");
  std::string image = d.registry.host() + "/" + d.repository("train") + "@" + d.digest("train");
  REQUIRE_FALSE(d.digest("train").empty());
  CHECK_THAT(train, Contains("image: '" + image + "'"));
  CHECK_THAT(train, !Contains(":latest") && !Contains("image: '" + d.registry.host() + "/" + d.repository("train") + ":"));
  CHECK_THAT(run.err, Contains("train: " + image));
  std::vector<fs::path> written{dir / "train/cronjob.yaml", dir / "train/cronjob-2.yaml", dir / "score/job.yaml"};

  // The exact YAML, with what changes from run to run replaced.
  std::string shown = std::regex_replace(train, std::regex("sha256:[0-9a-f]{64}"), "sha256:DIGEST");
  shown = std::regex_replace(shown, std::regex("[0-9a-f]{40}"), "COMMIT");
  shown = std::regex_replace(shown, std::regex("content-[0-9a-f]+"), "content-HASH");
  shown = std::regex_replace(shown, std::regex(d.registry.host() + "/acme/" + d.images.prefix()), "REGISTRY/acme/");
  auto prefix = d.images.prefix();
  shown = std::regex_replace(shown, std::regex(prefix.substr(0, prefix.size() - 1)), "PREFIX");
  auto golden_file = fs::path(MLREPO_SOURCE_DIR) / "tests/golden/k8s/train-cronjob.yaml";
  if (std::getenv("MLREPO_UPDATE_GOLDEN")) { // review the diff before committing it
    // Never in CI: there it would make the comparison below pass by definition.
    INFO("MLREPO_UPDATE_GOLDEN is set under CI: the golden file would be rewritten, not checked");
    REQUIRE_FALSE(std::getenv("CI"));
    mlrepo::util::write_file_atomic(golden_file, shown);
  }
  auto golden = mlrepo::util::read_file(golden_file);
  REQUIRE(golden);
  CHECK(shown == *golden);

  // Each kustomization builds, and what it builds is valid: the base and
  // one overlay per environment, each what --env renders.
  TempDir tmp;
  written.push_back(kustomize(dir / "train", tmp.path() / "train.yaml"));
  auto prod = kustomize(dir / "train/overlays/prod", tmp.path() / "prod.yaml");
  written.push_back(prod);
  CHECK_THAT(mlrepo::util::read_file(prod).value_or(""), Contains("namespace: ml-prod") && Contains("16Gi"));
  auto staging = kustomize(dir / "train/overlays/staging", tmp.path() / "staging.yaml");
  written.push_back(staging);
  expect_valid(written);
  CHECK_THAT(mlrepo::util::read_file(staging).value_or(""), Contains("suspend: true") && Contains("0 5 * * *"));
  REQUIRE(d.repo.mlrepo({"job", "render", "train", "--env", "prod", "-o", "rendered-prod"}).code == 0);
  CHECK(mlrepo::util::read_file(dir / "train/overlays/prod/cronjob.yaml") ==
        mlrepo::util::read_file(d.repo.path() / "rendered-prod/train/cronjob.yaml"));
  fs::remove_all(d.repo.path() / "rendered-prod");
  auto score_built = mlrepo::util::read_file(kustomize(dir / "score", tmp.path() / "score.yaml")).value_or("");
  CHECK_THAT(score_built, !Contains("kind: Job")); // created on demand, never applied

  // The Job template: generateName, so each create is a new run.
  auto score = mlrepo::util::read_file(dir / "score/job.yaml").value_or("");
  CHECK_THAT(score, Contains("generateName: 'score-'") && Contains("- '/bin/sh'") && Contains("restartPolicy: Never") &&
                        Contains("ttlSecondsAfterFinished: 86400") && Contains("backoffLimit: 0"));

  // In sync, then drift, then a hand-written file that is never touched.
  CHECK(d.repo.mlrepo({"job", "render", "--all", "--check"}).code == 0);
  mlrepo::util::write_file_atomic(dir / "train/cronjob.yaml", train + "# edited\n");
  auto drift = d.repo.mlrepo({"job", "render", "--all", "--check"});
  CHECK(drift.code == 1);
  CHECK_THAT(drift.err, Contains("stale: deploy/k8s/train/cronjob.yaml"));
  mlrepo::util::write_file_atomic(dir / "train/cronjob.yaml", "# mine\n");
  auto foreign = d.repo.mlrepo({"job", "render", "--all"});
  CHECK(foreign.code == 2);
  CHECK_THAT(foreign.err, Contains("deploy/k8s/train/cronjob.yaml exists and was not generated by mlrepo"));
  CHECK(mlrepo::util::read_file(dir / "train/cronjob.yaml").value_or("") == "# mine\n");
  CHECK(mlrepo::util::read_file(dir / "score/job.yaml").value_or("") == score); // nothing half-written
}

TEST_CASE("job render: an environment's namespace, env, resources, schedule and suspend, and -o -",
          "[render][docker]") {
  Deploy d;
  auto prod = d.repo.mlrepo({"job", "render", "--all", "--env", "prod", "-o", "deploy/prod"});
  INFO(prod.err);
  REQUIRE(prod.code == 0);
  auto train = mlrepo::util::read_file(d.repo.path() / "deploy/prod/train/cronjob.yaml").value_or("");
  CHECK_THAT(train, Contains("namespace: 'ml-prod'") && Contains("name: 'STAGE'") && Contains("value: 'prod'") &&
                        Contains("memory: '16Gi'") && Contains("app.kubernetes.io/instance: 'prod'"));
  // GPU node pools are tainted: the environment's tolerations replace the
  // default one; its pod annotations reach the pod; the pull policy the container.
  CHECK_THAT(train, Contains("tolerations:\n") && Contains("- key: 'dedicated'\n") &&
                        Contains("operator: Equal\n") && Contains("value: 'gpu'\n") &&
                        !Contains("key: 'nvidia.com/gpu'") && Contains("'sidecar.istio.io/inject': 'false'") &&
                        Contains("imagePullPolicy: IfNotPresent"));
  auto staging = d.repo.mlrepo({"job", "render", "train", "--env", "staging", "-o", "-"});
  REQUIRE(staging.code == 0);
  CHECK_THAT(staging.out, Contains("schedule: '0 5 * * *'") && Contains("suspend: true") &&
                              !Contains("cronjob-2") && !Contains("kind: Kustomization"));
  TempDir tmp;
  mlrepo::util::write_file_atomic(tmp.path() / "stream.yaml", staging.out);
  expect_valid({d.repo.path() / "deploy/prod/train/cronjob.yaml", tmp.path() / "stream.yaml"});
  // The secret is a reference into the cluster's Secret, never a value.
  CHECK_THAT(staging.out, Contains("secretKeyRef:") && Contains("name: 'mlrepo-job-secrets'") &&
                              Contains("key: 'TRAIN_DB_PASSWORD'"));
  // A job scheduled in GitHub Actions never becomes a CronJob too (it would
  // run twice), and an environment's schedule does not turn an on-demand
  // job into a scheduled one unless it opts in.
  auto report = d.repo.mlrepo({"job", "render", "report", "--env", "staging", "-o", "-"});
  INFO(report.err);
  REQUIRE(report.code == 0);
  CHECK_THAT(report.out, Contains("kind: Job\n") && !Contains("kind: CronJob") &&
                             Contains("Its schedule runs in GitHub Actions (job.runs_on: github-actions)"));
  auto on_demand = d.repo.mlrepo({"job", "render", "score", "--env", "staging", "-o", "-"});
  REQUIRE(on_demand.code == 0);
  CHECK_THAT(on_demand.out, Contains("kind: Job\n") && !Contains("kind: CronJob") &&
                                Contains("job.schedule_from_environment: true"));
  auto unknown = d.repo.mlrepo({"job", "render", "--all", "--env", "qa"});
  CHECK(unknown.code == 2);
  CHECK_THAT(unknown.err, Contains("no environment 'qa'") && Contains("prod, staging"));
}

TEST_CASE("job render: what Kubernetes would refuse, or an image not in the registry, writes nothing",
          "[render][docker]") {
  Deploy d;
  std::string long_name(51, 'a'); // its second CronJob, <name>-2, would have 53 characters
  d.repo.write(long_name + "/Dockerfile", "FROM " + busybox_image() + "\n");
  d.repo.write(long_name + "/mlrepo.yaml", "job:\n  schedule: ['@daily', '@hourly']\n  runs_on: kubernetes\n");
  d.repo.commit();
  auto too_long = d.repo.mlrepo({"job", "render", "--all"});
  CHECK(too_long.code == 2);
  CHECK_THAT(too_long.err, Contains(long_name + "/mlrepo.yaml:") && Contains("52") && Contains("at most 50 characters"));
  CHECK_FALSE(fs::exists(d.repo.path() / "deploy/k8s"));

  // Fixed by a shorter schedule list; but that commit's image was never pushed.
  d.repo.write(long_name + "/mlrepo.yaml", "job:\n  schedule: '@daily'\n  runs_on: kubernetes\n");
  d.repo.commit();
  auto missing = d.repo.mlrepo({"job", "render", "--all"});
  CHECK(missing.code == 1);
  CHECK_THAT(missing.err, Contains("is not in the registry") && Contains("mlrepo build --push " + long_name));
  CHECK_FALSE(fs::exists(d.repo.path() / "deploy/k8s"));

  d.repo.write("mlrepo.yaml", "registry: " + d.registry.host() + "/acme\nkubernetes:\n  namespace: ML_Team\n");
  d.repo.commit();
  auto ns = d.repo.mlrepo({"job", "render", "train", "-o", "-"});
  CHECK(ns.code == 2);
  CHECK_THAT(ns.err, Contains("mlrepo.yaml:3") && Contains("namespace") && Contains("at most 63"));
}

TEST_CASE("job deploy: each project's CronJobs reach kubectl apply --server-side as one stream, a Job template never",
          "[render][docker]") {
  Deploy d;
  // kubectl replaced by a recorder: no cluster runs here. It keeps argv,
  // stdin and the KUBECONFIG it was given; the test validates what it got.
  TempDir tmp;
  auto recorder = tmp.path() / "kubectl";
  mlrepo::util::write_file_atomic(recorder, "#!/bin/sh\nprintf '%s\\n' \"$*\" >> \"$0.args\"\n"
                                            "cat > \"$0.$(wc -l < \"$0.args\").yaml\"\n"
                                            "[ -z \"$FAIL\" ] || { echo \"$FAIL\" >&2; exit 1; }\n"
                                            "echo 'cronjob.batch/train serverside-applied'\n");
  fs::permissions(recorder, fs::perms::owner_all);
  auto run = d.repo.mlrepo({"job", "deploy", "--all", "--env", "prod", "--kubectl", recorder.string()});
  INFO(run.err);
  REQUIRE(run.code == 0);
  std::string image = d.registry.host() + "/" + d.repository("train") + "@" + d.digest("train");
  CHECK_THAT(run.out, Contains("train\tapplied\t" + image) && Contains("score\tnot applied") &&
                         Contains("report\tnot applied"));
  CHECK_THAT(run.err, Contains("score: no schedule, so nothing to apply") &&
                          Contains("report: its schedule runs in GitHub Actions"));
  auto args = mlrepo::util::read_file(tmp.path() / "kubectl.args").value_or("");
  CHECK(args == "apply --server-side --field-manager=mlrepo --force-conflicts -f -\n"); // once: train only
  auto stream = tmp.path() / "kubectl.1.yaml";
  auto text = mlrepo::util::read_file(stream).value_or("");
  CHECK_THAT(text, Contains("name: 'train'") && Contains("name: 'train-2'") && Contains("namespace: 'ml-prod'") &&
                       Contains("image: '" + image + "'") && !Contains("generateName"));

  auto failed = d.repo.mlrepo({"job", "deploy", "train", "--kubectl", recorder.string()},
                              {{"FAIL", "error: the server has asked for the client to provide credentials"}});
  CHECK(failed.code == 1);
  CHECK_THAT(failed.err, Contains("kubectl could not apply the job of train") && Contains("credentials") &&
                             Contains("KUBECONFIG"));

  // --dry-run renders and says what it would apply; kubectl is never started.
  auto dry = d.repo.mlrepo({"job", "deploy", "--all", "--env", "prod", "--dry-run", "--kubectl", recorder.string()});
  INFO(dry.err);
  CHECK(dry.code == 0);
  CHECK_THAT(dry.out, Contains("train\tnot applied\t" + image));
  CHECK_THAT(dry.err, Contains("==> train: ") && Contains("apply --server-side"));
  CHECK(mlrepo::util::read_file(tmp.path() / "kubectl.args").value_or("") ==
        "apply --server-side --field-manager=mlrepo --force-conflicts -f -\n" // the first deploy
        "apply --server-side --field-manager=mlrepo --force-conflicts -f -\n"); // the failed one; no third

  // --release: kubectl receives the release tag's image, not HEAD's.
  auto cut = d.repo.mlrepo({"release", "train", "1.0.0"});
  INFO(cut.err);
  REQUIRE(cut.code == 0);
  d.repo.write("train/train.sh", "echo training v2\n");
  d.repo.commit();
  auto push = d.repo.mlrepo({"build", "train", "--push"});
  INFO(push.err);
  REQUIRE(push.code == 0);
  std::string head_image = d.registry.host() + "/" + d.repository("train") + "@" + d.digest("train");
  REQUIRE(head_image != image);
  auto released = d.repo.mlrepo({"job", "deploy", "train", "--release", "1.0.0", "--kubectl", recorder.string()});
  INFO(released.err);
  REQUIRE(released.code == 0);
  CHECK_THAT(released.out, Contains("train\tapplied\t" + image));
  auto sent = mlrepo::util::read_file(tmp.path() / "kubectl.3.yaml").value_or("");
  CHECK_THAT(sent, Contains("image: '" + image + "'") && Contains("mlrepo.dev/release: '1.0.0'") &&
                       !Contains(head_image));
  expect_valid({stream, tmp.path() / "kubectl.3.yaml"});
  auto rendered = d.repo.mlrepo({"job", "render", "train", "--release", "1.0.0", "-o", "-"});
  REQUIRE(rendered.code == 0);
  CHECK_THAT(rendered.out, Contains("image: '" + image + "'") && !Contains(head_image));
  auto at_head = d.repo.mlrepo({"job", "render", "train", "-o", "-"});
  REQUIRE(at_head.code == 0);
  CHECK_THAT(at_head.out, Contains("image: '" + head_image + "'"));
  auto unknown = d.repo.mlrepo({"job", "deploy", "train", "--release", "9.9.9", "--kubectl", recorder.string()});
  CHECK(unknown.code == 2);
  CHECK_THAT(unknown.err, Contains("there is no release train 9.9.9") && Contains("git tag -l"));
  CHECK_FALSE(fs::exists(tmp.path() / "kubectl.4.yaml"));
}

TEST_CASE("job render: -o names the same files however it is spelt, and a committed render stays current",
          "[render][docker]") {
  Deploy d;
  auto abs = d.repo.path() / "k8s";
  auto first = d.repo.mlrepo({"job", "render", "--all", "-o", abs.string()});
  INFO(first.err);
  REQUIRE(first.code == 0);
  CHECK_THAT(first.err, Contains("0 deleted"));
  CHECK(fs::exists(abs / "train/cronjob.yaml"));
  CHECK(fs::exists(abs / "score/job.yaml"));
  auto train = mlrepo::util::read_file(abs / "train/cronjob.yaml").value_or("");

  // Every spelling of that directory: in sync, and a second write deletes nothing.
  fs::create_directories(d.repo.path() / "sub");
  fs::create_directory_symlink(abs, d.repo.path() / "link");
  struct Spelling {
    std::string dir, cwd;
  };
  for (const auto& s : {Spelling{abs.string(), ""}, Spelling{abs.string() + "/", ""}, Spelling{"k8s", ""},
                        Spelling{"./sub/../k8s", ""}, Spelling{"../k8s", "sub"}, Spelling{"link", ""},
                        Spelling{(d.repo.path() / "link").string(), "sub"}}) {
    INFO("-o " << s.dir << " from '" << s.cwd << "'");
    auto check = d.repo.mlrepo({"job", "render", "--all", "-o", s.dir, "--check"}, {}, s.cwd);
    INFO(check.err);
    CHECK(check.code == 0);
    auto again = d.repo.mlrepo({"job", "render", "--all", "-o", s.dir}, {}, s.cwd);
    CHECK(again.code == 0);
    CHECK_THAT(again.err, Contains("0 created, 0 updated, 0 deleted"));
    CHECK(mlrepo::util::read_file(abs / "train/cronjob.yaml").value_or("") == train);
    CHECK(fs::exists(abs / "score/job.yaml"));
  }
  // Outside the repository, too.
  TempDir outside;
  REQUIRE(d.repo.mlrepo({"job", "render", "--all", "-o", outside.path().string()}).code == 0);
  CHECK(mlrepo::util::read_file(outside.path() / "train/cronjob.yaml").value_or("") == train);
  auto outside_check = d.repo.mlrepo({"job", "render", "--all", "-o", outside.path().string(), "--check"});
  INFO(outside_check.err);
  CHECK(outside_check.code == 0);

  // Committed, then an unrelated commit: the render describes the job and
  // the image, not the commit checked out, so it is still current.
  fs::remove(d.repo.path() / "link");
  fs::remove_all(d.repo.path() / "sub");
  REQUIRE(d.repo.mlrepo({"job", "render", "--all"}).code == 0);
  d.repo.commit("rendered manifests");
  d.repo.write("README.md", "# the team's repository\n");
  d.repo.commit("readme");
  auto committed = d.repo.mlrepo({"job", "render", "--all", "--check"});
  INFO(committed.err);
  CHECK(committed.code == 0);
  CHECK_THAT(committed.err, Contains("in sync"));
  CHECK_THAT(train, !Contains(d.repo.head()) && !Contains("mlrepo.dev/commit"));
}

TEST_CASE("job render and deploy: every problem at once, uncommitted work and other branches said, an unreachable "
          "cluster is exit 3 naming what was applied",
          "[render][docker]") {
  Deploy d;
  // No cluster answers: exit 3, and exactly what was applied (nothing).
  TempDir tmp;
  auto unreachable = tmp.path() / "kubectl";
  mlrepo::util::write_file_atomic(unreachable, "#!/bin/sh\ncat > /dev/null\necho 'Unable to connect to the server: "
                                               "dial tcp 127.0.0.1:1: connect: connection refused' >&2\nexit 1\n");
  fs::permissions(unreachable, fs::perms::owner_all);
  auto deploy = d.repo.mlrepo({"job", "deploy", "--all", "--kubectl", unreachable.string()});
  CHECK(deploy.code == 3);
  CHECK_THAT(deploy.err, Contains("cannot reach the cluster") && Contains("nothing was applied") &&
                             !Contains("projects before it were applied"));

  // An environment rendered from another branch pins that branch's images: said.
  d.repo.git({"checkout", "-q", "-b", "try-prod"});
  auto branch = d.repo.mlrepo({"job", "render", "train", "--env", "prod", "-o", "-"});
  CHECK(branch.code == 0);
  CHECK_THAT(branch.err, Contains("rendering the environment prod from the branch try-prod"));
  auto base = d.repo.mlrepo({"job", "render", "train", "-o", "-"});
  CHECK_THAT(base.err, !Contains("from the branch"));

  // Two projects Kubernetes would refuse: both, each at the line giving its name.
  d.repo.write("Bad_One/Dockerfile", "FROM " + busybox_image() + "\n");
  d.repo.write("Bad_One/mlrepo.yaml", "job:\n  schedule: '@daily'\n  runs_on: kubernetes\n");
  std::string long_name(56, 'b');
  d.repo.write("long/Dockerfile", "FROM " + busybox_image() + "\n");
  d.repo.write("long/mlrepo.yaml", "name: " + long_name + "\njob:\n  schedule: '@daily'\n  runs_on: kubernetes\n");
  d.repo.commit();
  auto names = d.repo.mlrepo({"job", "render", "--all"});
  CHECK(names.code == 2);
  CHECK_THAT(names.err, Contains("2 problems Kubernetes would refuse") && Contains("Bad_One/mlrepo.yaml:") &&
                            Contains("'bad_one' is not a Kubernetes name") && Contains("long/mlrepo.yaml:1") &&
                            Contains("shorten 'name:'"));
  CHECK_FALSE(fs::exists(d.repo.path() / "deploy/k8s"));

  // Fixed names, never pushed: every missing image at once.
  d.repo.write("Bad_One/mlrepo.yaml", "name: bad-one\njob:\n  schedule: '@daily'\n  runs_on: kubernetes\n");
  d.repo.write("long/mlrepo.yaml", "name: long\njob:\n  schedule: '@daily'\n  runs_on: kubernetes\n");
  d.repo.commit();
  auto missing = d.repo.mlrepo({"job", "render", "--all"});
  CHECK(missing.code == 1);
  CHECK_THAT(missing.err, Contains("2 images missing from the registry") && Contains("mlrepo build --push bad-one") &&
                              Contains("mlrepo build --push long"));
  CHECK_FALSE(fs::exists(d.repo.path() / "deploy/k8s"));

  // A committed change never pushed, and uncommitted work on top: render
  // pins HEAD, so it says to commit first rather than to push the dirty image.
  d.repo.write("train/train.sh", "echo training harder\n");
  d.repo.commit();
  d.repo.write("train/train.sh", "echo training hardest\n");
  auto dirty = d.repo.mlrepo({"job", "render", "train", "-o", "-"});
  CHECK(dirty.code == 1);
  CHECK_THAT(dirty.err, Contains("render pins the commit at HEAD, and uncommitted changes reach train's image") &&
                            Contains("commit first"));
}
