// `mlrepo job list` and `mlrepo job run` against the real Docker engine and a
// real registry: the job spec as the local engine runs it.
#include "support/docker.hpp"

#include "mlrepo/util/fs.hpp"
#include "mlrepo/util/text.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <thread>

using namespace mlrepo::test;
using Catch::Contains;

namespace {

struct JobRepo {
  GitRepo repo;
  ImageScope images;
  explicit JobRepo(const std::string& workspace_extra = "") {
    repo.write("mlrepo.yaml", "image_prefix: " + images.prefix() + "\n" + workspace_extra);
    repo.write("nojob/Dockerfile", "FROM " + busybox_image() + "\n");
  }
  // A project whose mlrepo.yaml is `config`, with an image that has sh.
  void project(const std::string& name, const std::string& config) const {
    repo.write(name + "/Dockerfile", "FROM " + busybox_image() + "\nCMD [\"echo\", \"the image's own CMD\"]\n");
    repo.write(name + "/mlrepo.yaml", config);
  }
  std::string image(const std::string& name) const { return images.prefix() + name; }
};

std::string containers() {
  return run_program({"docker", "ps", "-a", "--format", "{{.Image}} {{.Names}}"}, fs::temp_directory_path()).out;
}

std::string sha256_hex(const std::string& text) {
  TempDir tmp;
  mlrepo::util::write_file_atomic(tmp.path() / "v", text);
  auto r = run_program({"sha256sum", (tmp.path() / "v").string()}, tmp.path());
  return r.out.substr(0, 64);
}

// Image IDs of every tag of repository `name` ("" when there is none).
std::string images_of(const std::string& name) {
  return docker({"images", "-q", "--filter", "reference=" + name});
}

void remove_images(const std::string& name) {
  for (const auto& ref : mlrepo::util::split_words(
           docker({"images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference=" + name})))
    docker({"image", "rm", "-f", ref});
}

// The host's address on docker's default bridge, as a container sees it.
std::string bridge_gateway() {
  auto route = docker({"run", "--rm", busybox_image(), "ip", "-4", "route"});
  auto at = route.find("default via ");
  if (at == std::string::npos)
    return "";
  auto start = at + 12;
  return route.substr(start, route.find(' ', start) - start);
}

// Waits until `file` contains `text` (up to a minute).
bool wait_for(const fs::path& file, const std::string& text) {
  for (int i = 0; i < 600; ++i) {
    if (mlrepo::util::read_file(file).value_or("").find(text) != std::string::npos)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

} // namespace

TEST_CASE("job run: env, a secret by name, args and the summary", "[job][docker]") {
  JobRepo r;
  r.project("train", "job:\n"
                     "  command: [sh, -c, 'echo \"dir=$MODEL_DIR args=$*\"; printf %s \"$DB_PASSWORD\" | sha256sum', "
                     "job]\n"
                     "  args: ['--epochs', '20']\n"
                     "  env: {MODEL_DIR: /models}\n"
                     "  secrets: {DB_PASSWORD: TEST_DB_PASSWORD}\n");
  r.repo.commit();
  const std::string secret = "s3cr3t-v4lue with spaces";
  TempDir tmp;
  auto summary = tmp.path() / "summary.md";
  auto run = r.repo.mlrepo({"--verbose", "job", "run", "train"},
                           {{"TEST_DB_PASSWORD", secret}, {"GITHUB_STEP_SUMMARY", summary.string()}});
  INFO(run.err);
  REQUIRE(run.code == 0);
  CHECK_THAT(run.out, Contains("dir=/models args=--epochs 20"));
  // The container got the value; nothing mlrepo printed or logged has it.
  CHECK_THAT(run.out, Contains(sha256_hex(secret)));
  CHECK_THAT(run.out + run.err, !Contains(secret) && !Contains("s3cr3t"));
  // The logged docker argv names the variable only.
  CHECK_THAT(run.err, Contains("-e DB_PASSWORD ") && Contains("-e MODEL_DIR=/models"));
  // One summary line: digest, attempts, duration, exit code.
  auto id = mlrepo::util::last_line(
      docker({"image", "inspect", "--format", "{{.Id}}", r.image("train") + ":" + r.repo.head()}));
  // Never pushed: the engine's image ID, labelled so (render and promote
  // show registry digests, which this image does not have).
  CHECK_THAT(run.err, Contains("train: succeeded on attempt 1/1 in ") && Contains("(exit code 0)") &&
                          Contains("(image ID " + id + ", not pushed)"));
  auto md = mlrepo::util::read_file(summary).value_or("");
  CHECK_THAT(md, Contains("### Job train: succeeded") && Contains(id) && Contains("| 1/1 |") &&
                     Contains("| image ID (not pushed) |"));
  CHECK_THAT(md, !Contains("s3cr3t"));

  SECTION("arguments after -- and --args replace job.args") {
    auto dash = r.repo.mlrepo({"job", "run", "train", "--", "--epochs", "1"}, {{"TEST_DB_PASSWORD", "x"}});
    CHECK(dash.code == 0);
    CHECK_THAT(dash.out, Contains("args=--epochs 1\n"));
    auto str = r.repo.mlrepo({"job", "run", "train", "--args", "'a b' c"}, {{"TEST_DB_PASSWORD", "x"}});
    CHECK(str.code == 0);
    CHECK_THAT(str.out, Contains("args=a b c\n"));
    auto empty = r.repo.mlrepo({"job", "run", "train", "--args", ""}, {{"TEST_DB_PASSWORD", "x"}});
    CHECK(empty.code == 0);
    CHECK_THAT(empty.out, Contains("args=--epochs 20\n"));
    auto both = r.repo.mlrepo({"job", "run", "train", "--args", "x", "--", "y"}, {{"TEST_DB_PASSWORD", "x"}});
    CHECK(both.code == 2);
    CHECK_THAT(both.err, Contains("either after '--' or with --args"));
    CHECK(both.out.empty()); // nothing ran
    auto open_quote = r.repo.mlrepo({"job", "run", "train", "--args", "'a b"}, {{"TEST_DB_PASSWORD", "x"}});
    CHECK(open_quote.code == 2);
    CHECK_THAT(open_quote.err, Contains("--args"));
  }
  SECTION("a missing secret stops the run before anything builds, naming it") {
    remove_images(r.image("train"));
    for (const Env& env : {Env{}, Env{{"TEST_DB_PASSWORD", ""}}}) {
      auto missing = r.repo.mlrepo({"job", "run", "train"}, env);
      CHECK(missing.code == 2);
      CHECK_THAT(missing.err, Contains("TEST_DB_PASSWORD") && Contains("train/mlrepo.yaml") &&
                                  Contains("export TEST_DB_PASSWORD="));
    }
    CHECK(images_of(r.image("train")).empty());
  }
  SECTION("the image's own CMD when the job has no command, from inside the project") {
    r.project("plain", "job:\n  timeout: 5m\n");
    r.repo.commit();
    auto plain = r.repo.mlrepo({"job", "run"}, {}, "plain");
    INFO(plain.err);
    CHECK(plain.code == 0);
    CHECK(plain.out == "the image's own CMD\n");
  }
  SECTION("a project without a job, and an unknown project") {
    auto none = r.repo.mlrepo({"job", "run", "nojob"});
    CHECK(none.code == 2);
    CHECK_THAT(none.err, Contains("nojob has no job") && Contains("nojob/mlrepo.yaml") && Contains("job:"));
    auto unknown = r.repo.mlrepo({"job", "run", "nope"});
    CHECK(unknown.code == 2);
    CHECK_THAT(unknown.err, Contains("nope"));
  }
}

TEST_CASE("job run: the timeout stops the container and fails the run, saying so", "[job][docker]") {
  JobRepo r;
  r.project("slow", "job:\n  command: [sh, -c, 'echo started; sleep 300']\n  timeout: 3s\n  retries: 2\n");
  r.repo.commit();
  auto before = std::chrono::steady_clock::now();
  auto run = r.repo.mlrepo({"job", "run", "slow"});
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - before).count();
  INFO(run.err);
  CHECK(run.code == 1);
  CHECK_THAT(run.out, Contains("started"));
  // One deadline for the whole job: no retry after it passed.
  CHECK_THAT(run.err, Contains("slow: timed out after 3s") && Contains("attempt 1/3") && !Contains("attempt 2/3"));
  CHECK(took < 30);
  CHECK(no_container_left(r.image("slow")));
}

TEST_CASE("job run: a job that fails twice succeeds within its retries, each attempt a fresh container",
          "[job][docker]") {
  // A counter on the host that every attempt's container asks: the first two
  // attempts see 1 and 2 and fail, the third sees 3 and succeeds.
  auto gateway = bridge_gateway();
  REQUIRE_FALSE(gateway.empty());
  TempDir tmp;
  // The counter chooses its port and says which once it listens: no port
  // another test could take first, and no probing.
  Background counter({"python3", std::string(MLREPO_SOURCE_DIR) + "/tests/fixtures/capture_http.py", "0",
                      (tmp.path() / "posts").string(), gateway},
                     tmp.path());
  int port = wait_for_port_file(tmp.path() / "posts.port");
  // The counter answers (it came up), before any attempt relies on it: a
  // POST, which the GET count leaves alone.
  auto probe = run_program({"python3", "-c",
                            "import sys,urllib.request; print(urllib.request.urlopen(sys.argv[1], b'probe').read().decode())",
                            "http://" + gateway + ":" + std::to_string(port) + "/"},
                           tmp.path());
  REQUIRE(probe.code == 0);
  REQUIRE(probe.out == "ok\n");
  JobRepo r;
  std::string url = "http://" + gateway + ":" + std::to_string(port) + "/";
  std::string command = "n=$(wget -qO- " + url + "); echo attempt-sees-$n; test -e /tmp/dirty && exit 9; "
                        "touch /tmp/dirty; [ \"$n\" -ge 3 ] || exit 4";
  r.project("flaky", "job:\n  command: [sh, -c, '" + command + "']\n  retries: 2\n");
  r.project("flakier", "job:\n  command: [sh, -c, '" + command + "']\n  retries: 1\n");
  r.repo.commit();

  auto run = r.repo.mlrepo({"job", "run", "flaky"});
  INFO(run.out << run.err);
  CHECK(run.code == 0);
  CHECK_THAT(run.out, Contains("attempt-sees-1") && Contains("attempt-sees-2") && Contains("attempt-sees-3"));
  CHECK_THAT(run.err, Contains("flaky: attempt 1/3 failed with exit code 4; retrying (2 retries left)") &&
                          Contains("attempt 2/3 failed with exit code 4; retrying (1 retry left)") &&
                          Contains("flaky: succeeded on attempt 3/3"));

  // Two attempts that both fail (the counter is at 4 and 5 now: make it
  // fail anyway): the last attempt's exit code is the one reported.
  r.project("flakier", "job:\n  command: [sh, -c, 'wget -qO- " + url + "; exit 6']\n  retries: 1\n");
  r.repo.commit();
  auto fail = r.repo.mlrepo({"job", "run", "flakier"});
  CHECK(fail.code == 1);
  CHECK_THAT(fail.err, Contains("attempt 1/2 failed with exit code 6; retrying") &&
                           Contains("attempt 2/2 failed with exit code 6") &&
                           Contains("flakier: failed on attempt 2/2") && Contains("(exit code 6)"));
}

TEST_CASE("job run: Ctrl-C stops the container and exits 130", "[job][docker]") {
  JobRepo r;
  // sleep ignores SIGTERM as PID 1 would: the job's --init makes it stop.
  // The marker is spelt so that only the container's output has it, not the
  // command line mlrepo logs before the container exists.
  r.project("long", "job:\n  command: [sh, -c, 'echo st\"\"arted; exec sleep 300']\n  retries: 3\n");
  r.repo.commit();
  TempDir tmp;
  auto out = tmp.path() / "out.txt";
  Background mlrepo({MLREPO_BIN, "job", "run", "long"}, r.repo.path(), {{"CI", std::nullopt}}, out);
  REQUIRE(wait_for(out, "started"));
  REQUIRE_THAT(containers(), Contains(r.image("long")));
  auto sent = std::chrono::steady_clock::now();
  mlrepo.signal(SIGINT);
  int code = mlrepo.wait(60);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
  auto log = mlrepo::util::read_file(out).value_or("");
  INFO(log);
  CHECK(code == 130);
  CHECK(took < 10);
  CHECK_THAT(log, Contains("long: interrupted on attempt 1/4") && !Contains("attempt 2/4"));
  CHECK(no_container_left(r.image("long")));
}

TEST_CASE("job run: resources the local engine cannot give are refused before anything builds", "[job][docker]") {
  JobRepo r;
  r.project("gpu", "job:\n  command: [nvidia-smi]\n  resources: {cpu: '1', memory: 1Gi, gpu: 1}\n");
  r.project("huge", "job:\n  resources:\n    memory: 64Ti\n    cpu: '4096'\n");
  r.project("fits", "job:\n  command: [sh, -c, 'cat /sys/fs/cgroup/memory.max 2>/dev/null || "
                    "cat /sys/fs/cgroup/memory/memory.limit_in_bytes']\n  resources: {cpu: 500m, memory: 64Mi}\n");
  r.repo.commit();
  // This machine's engine has no GPU runtime; the test means nothing where one is.
  REQUIRE_THAT(docker({"info", "--format", "{{json .Runtimes}}"}), !Contains("nvidia"));

  auto gpu = r.repo.mlrepo({"job", "run", "gpu"});
  CHECK(gpu.code == 3);
  CHECK_THAT(gpu.err, Contains("gpu: the local engine cannot run this job as gpu/mlrepo.yaml specifies it") &&
                          Contains("GPU") && Contains("doctor"));
  auto huge = r.repo.mlrepo({"job", "run", "huge"});
  CHECK(huge.code == 3);
  CHECK_THAT(huge.err, Contains("64Ti") && Contains("4096"));
  CHECK(images_of(r.image("gpu")).empty());
  CHECK(images_of(r.image("huge")).empty());

  // What fits is given exactly: 64Mi is the container's memory limit.
  auto fits = r.repo.mlrepo({"job", "run", "fits"});
  INFO(fits.err);
  CHECK(fits.code == 0);
  CHECK(fits.out == std::to_string(64 * 1024 * 1024) + "\n");
  CHECK_THAT(fits.err, Contains("--cpus 0.5") || Contains("--cpus=0.5"));

  // --no-gpu: the GPU job's smoke test runs here, without --gpus, and says so.
  auto smoke = r.repo.mlrepo({"job", "run", "gpu", "--no-gpu", "--", "--version"});
  INFO(smoke.err);
  CHECK(smoke.code == 1); // not refused (3): it ran, and nvidia-smi is not in the image
  CHECK_THAT(smoke.err, Contains("gpu: running without the 1 GPU its job asks for (--no-gpu)") &&
                            !Contains("--gpus") && Contains("nvidia-smi --version"));

  // doctor says the same per project.
  auto doctor = r.repo.mlrepo({"doctor"});
  CHECK_THAT(doctor.err + doctor.out, Contains("job of 'gpu' cannot run here") &&
                                          Contains("job of 'huge' cannot run here") &&
                                          Contains("job of 'fits' can run in the local engine"));
}

TEST_CASE("job run --pull: the registry's image by digest, nothing built", "[job][docker][registry]") {
  Registry registry;
  JobRepo r("registry: " + registry.host() + "/acme\n");
  r.project("score", "job:\n  command: [sh, -c, 'echo scored']\n");
  r.repo.commit();
  auto repository = registry.host() + "/acme/" + r.image("score");

  auto missing = r.repo.mlrepo({"job", "run", "score", "--pull"});
  CHECK(missing.code == 1);
  CHECK_THAT(missing.err, Contains("not in the registry") && Contains("mlrepo build --push score"));

  auto push = r.repo.mlrepo({"build", "--push", "score"});
  REQUIRE(push.code == 0);
  docker({"image", "rm", "-f", repository + ":" + r.repo.head()});
  auto tags = registry.tags("acme/" + r.image("score"));
  REQUIRE_FALSE(tags.empty());
  auto digest = registry.tag_digest("acme/" + r.image("score"), tags.front());
  REQUIRE_FALSE(digest.empty());

  auto run = r.repo.mlrepo({"job", "run", "score", "--pull"});
  INFO(run.err);
  CHECK(run.code == 0);
  CHECK(run.out == "scored\n");
  CHECK_THAT(run.err, Contains(repository + "@" + digest) && !Contains("building"));
  // Without --pull, an image that is in the registry is named by the
  // registry's digest too, as render and promote name it.
  auto local = r.repo.mlrepo({"job", "run", "score"});
  INFO(local.err);
  CHECK(local.code == 0);
  CHECK_THAT(local.err, Contains("(" + digest + ")") && !Contains("not pushed"));
}

TEST_CASE("job list: schedules, next runs across daylight saving changes, resources", "[job]") {
  JobRepo r;
  r.project("nightly", "job:\n  schedule: '30 2 * * *'\n  timezone: Europe/Berlin\n"
                       "  resources: {cpu: '2', memory: 8Gi}\n  timeout: 2h\n");
  r.project("weekday", "job:\n  schedule: ['0 3 * * mon-fri', '@monthly']\n");
  r.project("ondemand", "job:\n  command: [true]\n");
  r.repo.commit();

  // Spring forward: 2027-03-28 has no 02:30 in Berlin; it runs at 03:00 CEST.
  auto spring = r.repo.mlrepo({"job", "list", "--json", "--after", "2027-03-27T00:00Z"});
  INFO(spring.err);
  REQUIRE(spring.code == 0);
  auto jobs = spring.json()["jobs"];
  REQUIRE(jobs.size() == 3);
  auto find = [&](const std::string& name) {
    for (const auto& j : jobs)
      if (j["name"] == name)
        return j;
    FAIL("no job " << name);
    return nlohmann::json{};
  };
  auto nightly = find("nightly");
  CHECK(nightly["timezone"] == "Europe/Berlin");
  CHECK(nightly["timeout_seconds"] == 7200);
  CHECK(nightly["resources"]["memory"] == "8Gi");
  REQUIRE(nightly["next_runs"].size() == 3);
  CHECK(nightly["next_runs"][0]["utc"] == "2027-03-27T01:30:00Z");
  CHECK(nightly["next_runs"][0]["local"] == "2027-03-27T02:30:00+01:00");
  CHECK(nightly["next_runs"][1]["utc"] == "2027-03-28T01:00:00Z");
  CHECK(nightly["next_runs"][1]["local"] == "2027-03-28T03:00:00+02:00");
  CHECK(nightly["next_runs"][2]["utc"] == "2027-03-29T00:30:00Z");

  // Fall back: 02:30 happens twice on 2027-10-31; the job runs once, the first time.
  auto fall = r.repo.mlrepo({"job", "list", "--json", "--after", "2027-10-30T12:00+02:00", "-n", "2"});
  REQUIRE(fall.code == 0);
  jobs = fall.json()["jobs"];
  nightly = find("nightly");
  REQUIRE(nightly["next_runs"].size() == 2);
  CHECK(nightly["next_runs"][0]["local"] == "2027-10-31T02:30:00+02:00");
  CHECK(nightly["next_runs"][1]["local"] == "2027-11-01T02:30:00+01:00");
  CHECK(nightly["next_runs"][1]["utc"] == "2027-11-01T01:30:00Z");

  // Two crons merge earliest first; UTC by default. 2027-01-01 is a Friday.
  auto weekday = r.repo.mlrepo({"job", "list", "--json", "--after", "2026-12-31T12:00Z"}).json()["jobs"];
  jobs = weekday;
  auto w = find("weekday");
  CHECK(w["timezone"] == "UTC");
  CHECK(w["next_runs"][0]["utc"] == "2027-01-01T00:00:00Z");
  CHECK(w["next_runs"][1]["utc"] == "2027-01-01T03:00:00Z");
  CHECK(w["next_runs"][2]["utc"] == "2027-01-04T03:00:00Z");
  auto od = find("ondemand");
  CHECK(od["schedule"].empty());
  CHECK(od["next_runs"].empty());

  // The text form: the schedule in its zone, next runs in local time and UTC.
  auto text = r.repo.mlrepo({"job", "list", "--after", "2027-03-27T00:00Z"});
  REQUIRE(text.code == 0);
  CHECK_THAT(text.out, Contains("nightly") && Contains("30 2 * * * (Europe/Berlin)") &&
                           Contains("2027-03-28 03:00 CEST") && Contains("01:00 UTC") && Contains("8Gi") &&
                           Contains("on demand"));

  auto bad = r.repo.mlrepo({"job", "list", "--after", "tomorrow"});
  CHECK(bad.code == 2);
  CHECK_THAT(bad.err, Contains("--after 'tomorrow'"));
}

TEST_CASE("job: every invalid spec is exit 2 naming file, line, key and a valid value", "[job]") {
  struct Case {
    std::string yaml;
    int line;
    std::vector<std::string> says;
  };
  std::vector<Case> cases = {
      {"job:\n  schedule: '0 3 * *'\n", 2, {"'0 3 * *' has 4 fields", "minute hour day-of-month month day-of-week"}},
      {"job:\n  schedule: '0 0 3 * * *'\n", 2, {"6 fields", "no seconds"}},
      {"job:\n  schedule: ['0 3 * * *', '61 * * * *']\n", 2, {"61", "minute", "0-59"}},
      {"job:\n  schedule: '0 3 * * funday'\n", 2, {"funday", "day-of-week"}},
      {"job:\n  schedule: '0 3 31 2 *'\n", 2, {"never"}},
      {"job:\n  schedule: '@reboot'\n", 2, {"@reboot"}},
      {"job:\n  schedule: []\n", 2, {"'job.schedule'", "empty"}},
      {"job:\n  schedule: '0 3 * * *'\n  timezone: Europe/Berln\n", 3, {"Europe/Berln", "did you mean 'Europe/Berlin'"}},
      {"job:\n  timezone: Europe/Berlin\n", 2, {"no 'schedule'"}},
      {"job:\n  resources: {memory: 8GB}\n", 2, {"job.resources.memory", "8GB", "8Gi"}},
      {"job:\n  resources: {memory: 512m}\n", 2, {"fraction of a byte", "512Mi"}},
      {"job:\n  resources: {cpu: two}\n", 2, {"job.resources.cpu", "'two'", "500m"}},
      {"job:\n  resources: {gpu: 1.5}\n", 2, {"gpu"}},
      {"job:\n  resources: {gpus: 1}\n", 2, {"gpus"}},
      {"job:\n  timeout: 2 hours\n", 2, {"job.timeout", "2 hours", "2h"}},
      {"job:\n  timeout: 30d\n", 2, {"more than 7 days"}},
      {"job:\n  retries: 50\n", 2, {"retries"}},
      {"job:\n  retries: -1\n", 2, {"retries"}},
      {"job:\n  env: {1MODEL: x}\n", 2, {"'1MODEL'", "environment variable name"}},
      {"job:\n  secrets: {DB_PASSWORD: db-password}\n", 2, {"db-password", "secret name"}},
      {"job:\n  env: {DB: x}\n  secrets:\n    DB: DB_SECRET\n", 4, {"'DB' is under both"}},
      {"job:\n  concurrency: sometimes\n", 2, {"forbid, replace or allow", "sometimes"}},
      {"job:\n  command: []\n", 2, {"command", "empty"}},
      {"job:\n  schedul: '0 3 * * *'\n", 2, {"schedul", "schedule"}},
  };
  JobRepo r;
  r.project("p", "job: {}\n");
  r.repo.commit();
  for (const auto& c : cases) {
    r.repo.write("p/mlrepo.yaml", c.yaml);
    for (const auto& args : {std::vector<std::string>{"job", "list"}, std::vector<std::string>{"job", "run", "p"}}) {
      auto run = r.repo.mlrepo(args);
      INFO(c.yaml << "\n" << args[1] << ": " << run.err);
      CHECK(run.code == 2);
      CHECK_THAT(run.err, Contains("p/mlrepo.yaml:" + std::to_string(c.line)));
      for (const auto& s : c.says)
        CHECK_THAT(run.err, Contains(s));
    }
  }
}
