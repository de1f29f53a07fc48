#include "mlrepo/build/plan.hpp"
#include "mlrepo/docker/engine.hpp"
#include "mlrepo/docker/run.hpp"
#include "mlrepo/util/error.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <tuple>

using namespace mlrepo;
using namespace mlrepo::docker;

namespace {
// Records the argv it is asked to run and answers with a canned result.
class FakeRunner : public util::ProcessRunner {
public:
  util::ProcessResult next;
  std::vector<std::vector<std::string>> calls;
  util::ProcessResult run(const util::ProcessSpec& spec) override {
    calls.push_back(spec.argv);
    return next;
  }
};
util::ProcessResult result(int code, std::string err = "") {
  util::ProcessResult r;
  r.exit_code = code;
  r.err = std::move(err);
  return r;
}
} // namespace

TEST_CASE("build argv carries every setting, one argument each", "[engine]") {
  FakeRunner runner;
  Engine engine(runner, "podman");
  BuildRequest req{"/r/a/Dockerfile", "/r", {"x:1", "x:2"}, {{"A", "a b"}}, {{"l", "v"}}, "runtime",
                   {"linux/amd64", "linux/arm64"}, {}, {}};
  // Until BuildKit is found, the classic builder: no containers left behind.
  CHECK(engine.build_argv(req) ==
        std::vector<std::string>{"podman", "build", "-f", "/r/a/Dockerfile", "--force-rm", "-t", "x:1", "-t", "x:2",
                                 "--build-arg", "A=a b", "--label", "l=v", "--target", "runtime",
                                 "--platform", "linux/amd64,linux/arm64", "/r"});
}

TEST_CASE("the builder: BuildKit built into CLIs before 23, buildx after, else classic", "[engine]") {
  CHECK(cli_has_builtin_buildkit("20.10.24+dfsg1"));
  CHECK(cli_has_builtin_buildkit("18.09.1"));
  CHECK_FALSE(cli_has_builtin_buildkit("23.0.0"));
  CHECK_FALSE(cli_has_builtin_buildkit("28.2.2"));
  CHECK_FALSE(cli_has_builtin_buildkit("17.06.0-ce"));
  CHECK_FALSE(cli_has_builtin_buildkit(""));
  for (auto [client, buildx_ok, buildkit, calls] :
       {std::tuple{"20.10.24", false, true, size_t{1}}, std::tuple{"28.2.2", false, false, size_t{2}},
        std::tuple{"28.2.2", true, true, size_t{2}}}) {
    FakeRunner runner;
    Engine engine(runner);
    runner.next = result(0);
    runner.next.out = std::string("20.10.24 ") + client + "\n";
    engine.require_reachable();
    runner.next = result(buildx_ok ? 0 : 1);
    const auto& b = engine.detect_builder();
    INFO(client << " buildx " << buildx_ok);
    CHECK(b.buildkit == buildkit);
    CHECK(runner.calls.size() == calls); // buildx is asked only of CLIs from 23 on
    CHECK(engine.build_env().at("DOCKER_BUILDKIT") == std::string(buildkit ? "1" : "0"));
    auto argv = engine.build_argv(BuildRequest{"/r/Dockerfile", "/r", {"x:1"}, {}, {}, {}, {}, {}, {}});
    CHECK((std::find(argv.begin(), argv.end(), "--force-rm") != argv.end()) == !buildkit);
  }
}

TEST_CASE("local image checks tell absent from broken", "[engine]") {
  FakeRunner runner;
  Engine engine(runner);
  runner.next = result(0);
  CHECK(engine.local_image("a:1") == Presence::Present);
  runner.next = result(1, "Error: No such image: a:1");
  CHECK(engine.local_image("a:1") == Presence::Absent);
  runner.next = result(1, "Cannot connect to the Docker daemon");
  CHECK_THROWS_AS(engine.local_image("a:1"), Error);
}

TEST_CASE("registry checks never read an error as absent", "[engine]") {
  FakeRunner runner;
  Engine engine(runner);
  runner.next = result(1, "no such manifest: ghcr.io/a/b:1");
  CHECK(engine.remote_image("ghcr.io/a/b:1") == Presence::Absent);
  CHECK(runner.calls.back() == std::vector<std::string>{"docker", "manifest", "inspect", "ghcr.io/a/b:1"});
  runner.next = result(1, "error pinging v2 registry: dial tcp: connect: connection refused");
  CHECK_THROWS_AS(engine.remote_image("127.0.0.1:5000/b:1"), Error);
  CHECK(runner.calls.back().at(3) == "--insecure"); // loopback registries speak plain HTTP
}

TEST_CASE("an unreachable engine is an environment error", "[engine]") {
  FakeRunner runner;
  Engine engine(runner);
  runner.next = result(1, "Cannot connect to the Docker daemon at unix:///x.sock");
  try {
    engine.require_reachable();
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::Environment);
  }
}

TEST_CASE("transient and auth failures are told apart", "[engine]") {
  CHECK(is_transient_failure("received unexpected HTTP status: 503 Service Unavailable"));
  CHECK(is_transient_failure("toomanyrequests: 429 Too Many Requests"));
  CHECK(is_transient_failure("read: connection reset by peer"));
  CHECK(is_transient_failure("net/http: TLS handshake timeout"));
  CHECK_FALSE(is_transient_failure("unauthorized: authentication required"));
  CHECK_FALSE(is_transient_failure("denied: requested access to the resource is denied"));
  CHECK_FALSE(is_transient_failure("name unknown: repository name not known to registry"));
  CHECK(is_auth_failure("unauthorized: authentication required"));
}

TEST_CASE("loopback registries", "[engine]") {
  CHECK(is_loopback_registry("localhost:5000/a"));
  CHECK(is_loopback_registry("127.0.0.1:5000/a/b:1"));
  CHECK_FALSE(is_loopback_registry("ghcr.io/a"));
  CHECK_FALSE(is_loopback_registry("busybox"));
}

TEST_CASE("branch names become safe tags", "[engine]") {
  CHECK(build::tag_safe("feature/new-model") == "feature-new-model");
  CHECK(build::tag_safe("-x") == "x");
  CHECK(build::tag_safe(std::string(200, 'a')).size() == 128);
}

TEST_CASE("docker run: every container mlrepo starts is --rm --init, flags in one order, secrets by name only",
          "[docker]") {
  mlrepo::docker::RunRequest r;
  r.image = "img:1";
  CHECK(mlrepo::docker::run_argv("docker", r) == std::vector<std::string>{"docker", "run", "--rm", "--init", "img:1"});
  r.name = "mlrepo-app-1";
  r.interactive = true;
  r.tty = true;
  r.env = {{"A", "1"}};
  r.env_from_engine_env = {"DB_PASSWORD"};
  r.volumes = {"/data:/data:ro"};
  r.cpus = "2";
  r.memory = "1073741824";
  r.gpus = "all";
  r.ports = {"8888:8888"};
  r.entrypoint = "python";
  r.command = {"-m", "train"};
  CHECK(mlrepo::docker::run_argv("podman", r) ==
        std::vector<std::string>{"podman", "run", "--rm", "--init", "-i", "--name", "mlrepo-app-1", "-t", "-e", "A=1",
                                 "-e", "DB_PASSWORD", "-v", "/data:/data:ro", "--cpus", "2", "--memory",
                                 "1073741824", "--gpus", "all", "-p", "8888:8888", "--entrypoint", "python",
                                 "img:1", "-m", "train"});
}
