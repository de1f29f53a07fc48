#include "support/docker.hpp"

#include "mlrepo/util/fs.hpp"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <chrono>
#include <crypt.h>
#include <csignal>
#include <fcntl.h>
#include <netinet/in.h>
#include <random>
#include <sstream>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace mlrepo::test {

std::string docker(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"docker"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_program(argv, fs::temp_directory_path());
  INFO("docker " << args.at(0) << ": " << r.err);
  REQUIRE(r.code == 0);
  return r.out;
}

const std::string& busybox_image() {
  static const std::string ref = [] {
    std::string name = "mlrepo-test/busybox:1";
    if (!image_exists(name)) {
      TempDir ctx;
      fs::copy_file("/bin/busybox", ctx.path() / "busybox");
      util::write_file_atomic(ctx.path() / "Dockerfile",
                              "FROM scratch\nCOPY busybox /bin/busybox\n"
                              "RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n");
      auto r = run_program({"docker", "build", "-q", "-t", name, ctx.path().string()}, ctx.path(),
                           {{"DOCKER_BUILDKIT", "0"}});
      INFO(r.err);
      REQUIRE(r.code == 0);
    }
    return name;
  }();
  return ref;
}

bool image_exists(const std::string& ref) {
  return run_program({"docker", "image", "inspect", ref}, fs::temp_directory_path()).code == 0;
}

bool remote_exists(const std::string& ref) {
  return run_program({"docker", "manifest", "inspect", "--insecure", ref}, fs::temp_directory_path())
             .code == 0;
}

ImageScope::ImageScope() {
  std::random_device rd;
  prefix_ = "mlrt" + std::to_string(rd() % 1000000) + "-";
}

ImageScope::ImageScope(std::string names) : prefix_(std::move(names)) {}

bool no_container_left(const std::string& image, int timeout_s) {
  for (int i = 0; i <= timeout_s * 10; ++i) {
    auto r = run_program({"docker", "ps", "-a", "--format", "{{.Image}}"}, fs::temp_directory_path());
    if (r.code == 0 && r.out.find(image) == std::string::npos)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

ImageScope::~ImageScope() {
  // Containers first: a failed test may leave one running (its mlrepo was
  // killed before it could stop it), and an image in use cannot be removed.
  auto ps = run_program({"docker", "ps", "-a", "--format", "{{.ID}} {{.Image}}"}, fs::temp_directory_path());
  std::vector<std::string> rm{"docker", "rm", "-f"};
  std::istringstream containers(ps.out);
  for (std::string line; std::getline(containers, line);)
    if (line.find(prefix_) != std::string::npos)
      rm.push_back(line.substr(0, line.find(' ')));
  if (rm.size() > 3)
    run_program(rm, fs::temp_directory_path());
  auto r = run_program({"docker", "image", "ls", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}"},
                       fs::temp_directory_path());
  // --no-prune: untagged parents may be the build cache of a test running
  // beside this one; removing them would break its build (the suite's last
  // step removes what is dangling once nothing builds).
  std::vector<std::string> argv{"docker", "image", "rm", "-f", "--no-prune"};
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    auto space = line.find(' ');
    std::string name = line.substr(space + 1);
    if (name.find(prefix_) == std::string::npos)
      continue;
    // An image pulled by digest has no tag to name it by: its ID does.
    argv.push_back(name.ends_with(":<none>") ? line.substr(0, space) : name);
  }
  if (argv.size() > 5)
    run_program(argv, fs::temp_directory_path());
}

Background::Background(const std::vector<std::string>& argv, const fs::path& cwd, const Env& env,
                       const fs::path& output) {
  std::vector<std::string> envs;
  for (char** e = environ; *e; ++e) {
    std::string entry(*e);
    std::string key = entry.substr(0, entry.find('='));
    if (!env.count(key))
      envs.push_back(entry);
  }
  for (const auto& [k, v] : env)
    if (v)
      envs.push_back(k + "=" + *v);
  std::vector<char*> cargv, cenv;
  auto args = argv;
  for (auto& a : args)
    cargv.push_back(a.data());
  cargv.push_back(nullptr);
  for (auto& e : envs)
    cenv.push_back(e.data());
  cenv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
  std::string out = output.empty() ? "/dev/null" : output.string();
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  int rc = posix_spawnp(&pid_, cargv[0], &fa, &attr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  REQUIRE(rc == 0);
}

Background::~Background() {
  if (!reaped_) {
    ::kill(-pid_, SIGKILL);
    int st;
    ::waitpid(pid_, &st, 0);
  }
}

void Background::signal(int sig) const { ::kill(pid_, sig); }

std::optional<int> Background::poll() {
  if (reaped_)
    return code_;
  int st = 0;
  if (::waitpid(pid_, &st, WNOHANG) != pid_)
    return std::nullopt;
  reaped_ = true;
  code_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return code_;
}

int Background::wait(int timeout_s) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (std::chrono::steady_clock::now() < until) {
    if (auto code = poll())
      return *code;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

int wait_for_port_file(const fs::path& file, const fs::path& log) {
  for (int i = 0; i < 200 && !fs::exists(file); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  INFO("server log:\n" << (log.empty() ? std::string() : util::read_file(log).value_or("")));
  REQUIRE(fs::exists(file));
  return std::stoi(util::read_file(file).value_or("0"));
}

namespace {

// The answer to GET /v2/ on 127.0.0.1:port, headers included ("" when none).
std::string http_get_v2(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::string req = "GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd, req.data(), req.size(), 0) == static_cast<ssize_t>(req.size())) {
      char buf[4096];
      for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
        out.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return out;
}

} // namespace

Registry::Registry(const RegistryAuth& a) : port_(free_port()) {
  std::string auth;
  if (a.kind == RegistryAuth::Kind::Basic) {
    // bcrypt, which the registry's htpasswd reader wants, from libcrypt.
    char salt[64];
    REQUIRE(crypt_gensalt_rn("$2b$", 5, nullptr, 0, salt, sizeof salt));
    crypt_data data{};
    const char* hash = crypt_r(a.password.c_str(), salt, &data);
    REQUIRE(hash);
    util::write_file_atomic(dir_.path() / "htpasswd", a.user + ":" + hash + "\n");
    auth = "auth:\n  htpasswd:\n    realm: test\n    path: " + (dir_.path() / "htpasswd").string() + "\n";
  } else if (a.kind == RegistryAuth::Kind::Token) {
    token_server_ = std::make_unique<Background>(
        std::vector<std::string>{"python3", std::string(MLREPO_SOURCE_DIR) + "/tests/fixtures/token_server.py", "0",
                                 dir_.path().string(), a.user, a.password, a.refresh_token, "mlrepo-test",
                                 "mlrepo-test-issuer"},
        dir_.path(), Env{}, dir_.path() / "token_server.log");
    int token_port = wait_for_port_file(dir_.path() / "ready", dir_.path() / "token_server.log");
    auth = "auth:\n  token:\n    realm: http://127.0.0.1:" + std::to_string(token_port) +
           "/token\n    service: mlrepo-test\n    issuer: mlrepo-test-issuer\n    rootcertbundle: " +
           (dir_.path() / "cert.pem").string() + "\n";
  }
  auth_ = auth;
  deletes_ = a.deletes;
  marker_ = dir_.path().filename().string(); // unique per registry
  // A port free a moment ago may be taken before the registry binds it:
  // then another port, a few times.
  std::string why;
  for (int attempt = 0; attempt < 5; ++attempt) {
    write_config();
    why = try_start();
    if (why.empty())
      return;
    port_ = free_port();
  }
  FAIL("docker-registry did not start: " << why);
}

// Every answer carries X-Mlrepo-Test: <marker>, so a test knows the server
// on its port is its own, not another test's.
void Registry::write_config() {
  util::write_file_atomic(dir_.path() / "config.yml",
                          "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
                          "    rootdirectory: " + (dir_.path() / "data").string() +
                              "\n  delete:\n    enabled: " + (deletes_ ? "true" : "false") +
                              "\nhttp:\n  addr: 127.0.0.1:" + std::to_string(port_) +
                              "\n  headers:\n    X-Mlrepo-Test: [" + marker_ + "]\n" + auth_);
}

FlakyProxy::FlakyProxy(const Registry& upstream, int failures, int status) : port_(0) {
  process_ = std::make_unique<Background>(
      std::vector<std::string>{"python3", std::string(MLREPO_SOURCE_DIR) + "/tests/fixtures/flaky_proxy.py", "0",
                               std::to_string(upstream.port()), std::to_string(failures), std::to_string(status)},
      dir_.path(), Env{}, dir_.path() / "proxy.log");
  port_ = wait_for_port_file(dir_.path() / "proxy.port", dir_.path() / "proxy.log");
}

std::string FlakyProxy::log() const { return util::read_file(dir_.path() / "proxy.log").value_or(""); }

std::string Registry::grants() const { return util::read_file(dir_.path() / "grants.log").value_or(""); }

std::string Registry::tag_digest(const std::string& repository, const std::string& tag) const {
  auto link = dir_.path() / "data/docker/registry/v2/repositories" / repository / "_manifests/tags" / tag /
              "current/link";
  return util::read_file(link).value_or("");
}

std::vector<std::string> Registry::tags(const std::string& repository) const {
  std::vector<std::string> out;
  std::error_code ec;
  auto dir = dir_.path() / "data/docker/registry/v2/repositories" / repository / "_manifests/tags";
  for (const auto& e : fs::directory_iterator(dir, ec))
    out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

bool Registry::has_manifest(const std::string& repository, const std::string& digest) const {
  auto hex = digest.substr(digest.find(':') + 1);
  return fs::exists(dir_.path() / "data/docker/registry/v2/repositories" / repository /
                    "_manifests/revisions/sha256" / hex / "link");
}

std::string Registry::manifest_bytes(const std::string& digest) const {
  std::string hex = digest.substr(digest.find(':') + 1);
  return util::read_file(dir_.path() / "data/docker/registry/v2/blobs/sha256" / hex.substr(0, 2) / hex / "data")
      .value_or("");
}

Registry::~Registry() { stop(); }

std::string Registry::try_start() {
  process_ = std::make_unique<Background>(
      std::vector<std::string>{"docker-registry", "serve", (dir_.path() / "config.yml").string()},
      dir_.path(), Env{}, dir_.path() / "registry.log");
  for (int i = 0; i < 200; ++i) {
    if (http_get_v2(port_).find("X-Mlrepo-Test: " + marker_) != std::string::npos)
      return "";
    if (process_->poll())
      return "it exited: " + util::read_file(dir_.path() / "registry.log").value_or("");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return "127.0.0.1:" + std::to_string(port_) + " did not answer as this test's registry within 10 s";
}

void Registry::start() {
  auto why = try_start();
  INFO(why);
  REQUIRE(why.empty());
}

void Registry::stop() { process_.reset(); }

bool path_docker_is_classic_only() {
  auto r = run_program({"docker", "version", "--format", "{{.Client.Version}}"}, fs::temp_directory_path());
  if (r.code != 0 || r.out.empty() || std::stoi(r.out) < 23)
    return false;
  return run_program({"docker", "buildx", "version"}, fs::temp_directory_path()).code != 0;
}

} // namespace mlrepo::test
