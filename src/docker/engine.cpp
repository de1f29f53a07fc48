#include "mlrepo/docker/engine.hpp"

#include "mlrepo/util/error.hpp"
#include "mlrepo/util/image_ref.hpp"
#include "mlrepo/util/text.hpp"

#include <algorithm>
#include <cstdlib>
#include <regex>
#include <sstream>

namespace mlrepo::docker {
namespace {

// Among `lines` of RepoDigests (repository@sha256:…, one per repository the
// image was pushed to or pulled from), the digest `repository` holds.
std::optional<std::string> repository_digest(const std::string& lines, const std::string& repository) {
  size_t start = 0;
  while (start < lines.size()) {
    size_t nl = lines.find('\n', start);
    std::string line = lines.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    start = nl == std::string::npos ? lines.size() : nl + 1;
    if (line.rfind(repository + "@", 0) == 0)
      return line.substr(repository.size() + 1);
  }
  return std::nullopt;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' '))
    s.pop_back();
  return s;
}

std::string where_docker() {
  std::string where;
  if (const char* host = std::getenv("DOCKER_HOST"); host && *host)
    where += " (DOCKER_HOST=" + std::string(host) + ")";
  if (const char* ctx = std::getenv("DOCKER_CONTEXT"); ctx && *ctx)
    where += " (DOCKER_CONTEXT=" + std::string(ctx) + ")";
  return where;
}

} // namespace

Engine::Engine(util::ProcessRunner& runner, std::string program)
    : runner_(runner), program_(std::move(program)) {}

std::string Engine::require_reachable() {
  // Asked once per process: build, then run, share one engine.
  if (!server_version_.empty())
    return server_version_;
  util::ProcessSpec spec;
  spec.argv = {program_, "version", "--format", "{{.Server.Version}} {{.Client.Version}}"};
  util::ProcessResult r;
  try {
    r = runner_.run(spec);
  } catch (const Error&) {
    throw EnvironmentError("cannot run '" + program_ + "': it is not installed or not on PATH",
                           "install Docker (Debian: apt-get install docker.io), or set 'docker:' "
                           "in mlrepo.yaml to the engine's CLI (e.g. podman)");
  }
  std::string out = trim(r.out);
  std::string server = out.substr(0, out.find(' '));
  if (!r.ok() || server.empty())
    throw EnvironmentError("the Docker engine is not reachable" + where_docker() + ": " +
                               trim(r.err.empty() ? r.out : r.err),
                           "start it (systemctl start docker, or dockerd), or point DOCKER_HOST / "
                           "DOCKER_CONTEXT at a running engine");
  client_version_ = out.find(' ') == std::string::npos ? "" : out.substr(out.find(' ') + 1);
  server_version_ = server;
  return server;
}

bool EngineInfo::has_gpu_runtime() const {
  // The NVIDIA Container Toolkit registers a runtime named "nvidia" (and
  // "nvidia-cdi", "nvidia-legacy"); `--gpus` needs it.
  return std::any_of(runtimes.begin(), runtimes.end(),
                     [](const std::string& r) { return r.rfind("nvidia", 0) == 0; });
}

std::optional<EngineInfo> Engine::info() {
  util::ProcessSpec spec;
  spec.argv = {program_, "info", "--format", "{{.NCPU}} {{.MemTotal}}{{range $k, $v := .Runtimes}} {{$k}}{{end}}"};
  util::ProcessResult r;
  try {
    r = runner_.run(spec);
  } catch (const Error&) {
    return std::nullopt;
  }
  if (!r.ok())
    return std::nullopt;
  std::istringstream in(r.out);
  EngineInfo info;
  if (!(in >> info.cpus >> info.memory_bytes))
    return std::nullopt;
  for (std::string rt; in >> rt;)
    info.runtimes.push_back(rt);
  return info;
}

bool cli_has_builtin_buildkit(std::string_view version) {
  size_t k = 0;
  int major = 0;
  while (k < version.size() && std::isdigit(static_cast<unsigned char>(version[k])) && major < 1000)
    major = major * 10 + (version[k++] - '0');
  return k > 0 && major >= 18 && major < 23; // BuildKit arrived in 18.09
}

const Builder& Engine::detect_builder() {
  std::string cli = program_ + " CLI " + (client_version_.empty() ? "(version unknown)" : client_version_);
  if (cli_has_builtin_buildkit(client_version_)) {
    builder_ = {true, false, "BuildKit: " + cli + " is older than 23 and has it built in (DOCKER_BUILDKIT=1)"};
    return builder_;
  }
  util::ProcessSpec spec;
  spec.argv = {program_, "buildx", "version"};
  util::ProcessResult r;
  try {
    r = runner_.run(spec);
  } catch (const Error&) {
  }
  if (r.ok())
    builder_ = {true, true, "BuildKit: the buildx plugin (" + trim(r.out) + ")"};
  else
    builder_ = {false, false,
                "the classic builder: " + cli + " has no buildx plugin, and CLIs from 23 on have no "
                "BuildKit without it"};
  return builder_;
}

std::vector<std::string> Engine::build_argv(const BuildRequest& req) const {
  std::vector<std::string> argv{program_, "build", "-f", req.dockerfile};
  // The classic builder leaves a failed RUN's container behind without it.
  if (!builder_.buildkit)
    argv.push_back("--force-rm");
  for (const auto& t : req.tags) {
    argv.push_back("-t");
    argv.push_back(t);
  }
  for (const auto& [k, v] : req.build_args) {
    argv.push_back("--build-arg");
    argv.push_back(k + "=" + v);
  }
  for (const auto& [k, v] : req.labels) {
    argv.push_back("--label");
    argv.push_back(k + "=" + v);
  }
  for (const auto& ref : req.cache_from) {
    argv.push_back("--cache-from");
    argv.push_back(ref);
  }
  for (const auto& [id, var] : req.secrets) {
    argv.push_back("--secret");
    argv.push_back("id=" + id + ",env=" + var);
  }
  if (req.target) {
    argv.push_back("--target");
    argv.push_back(*req.target);
  }
  if (!req.platforms.empty()) {
    std::string joined;
    for (const auto& p : req.platforms)
      joined += (joined.empty() ? "" : ",") + p;
    argv.push_back("--platform");
    argv.push_back(joined);
  }
  argv.push_back(req.context);
  return argv;
}

std::vector<std::string> Engine::tag_argv(const std::string& from, const std::string& to) const {
  return {program_, "tag", from, to};
}

std::vector<std::string> Engine::push_argv(const std::string& ref) const {
  return {program_, "push", ref};
}

std::vector<std::string> Engine::pull_argv(const std::string& ref) const {
  return {program_, "pull", ref};
}

std::map<std::string, std::optional<std::string>> Engine::build_env() const {
  return {{"DOCKER_BUILDKIT", builder_.buildkit ? "1" : "0"}};
}

Presence Engine::local_image(const std::string& ref) {
  util::ProcessSpec spec;
  spec.argv = {program_, "image", "inspect", "--format", "{{.Id}}", ref};
  auto r = runner_.run(spec);
  if (r.ok())
    return Presence::Present;
  std::string err = lower(r.err);
  if (err.find("no such image") != std::string::npos || err.find("not found") != std::string::npos)
    return Presence::Absent;
  throw EnvironmentError("cannot check for image " + ref + ": " + trim(r.err),
                         "check that the Docker engine is healthy ('docker info')");
}

std::optional<std::string> Engine::image_id(const std::string& ref) {
  util::ProcessSpec spec;
  spec.argv = {program_, "image", "inspect", "--format", "{{.Id}}", ref};
  auto r = runner_.run(spec);
  if (!r.ok())
    return std::nullopt;
  return util::last_line(r.out);
}

std::optional<Engine::ShownDigest> Engine::shown_digest(const std::string& ref) {
  util::ProcessSpec spec;
  spec.argv = {program_, "image", "inspect", "--format", "{{.Id}}{{println}}{{range .RepoDigests}}{{println .}}{{end}}",
               ref};
  auto r = runner_.run(spec);
  if (!r.ok())
    return std::nullopt;
  // The image ID on the first line, then its repository digests.
  auto nl = r.out.find('\n');
  std::string id = r.out.substr(0, nl);
  if (auto digest = repository_digest(nl == std::string::npos ? "" : r.out.substr(nl + 1), util::strip_tag(ref)))
    return ShownDigest{*digest, false};
  if (id.empty())
    return std::nullopt;
  return ShownDigest{id, true};
}

std::optional<std::string> Engine::local_image_digest(const std::string& ref) {
  util::ProcessSpec spec;
  spec.argv = {program_, "image", "inspect", "--format", "{{range .RepoDigests}}{{println .}}{{end}}", ref};
  auto r = runner_.run(spec);
  if (!r.ok()) {
    std::string err = lower(r.err);
    if (err.find("no such image") != std::string::npos || err.find("not found") != std::string::npos)
      return std::nullopt;
    throw EnvironmentError("cannot check for image " + ref + ": " + trim(r.err),
                           "check that the Docker engine is healthy ('docker info')");
  }
  return repository_digest(r.out, util::strip_tag(ref)).value_or("");
}

std::optional<std::map<std::string, std::string>> Engine::local_images() {
  util::ProcessSpec spec;
  spec.argv = {program_, "image", "ls", "--format", "{{.Repository}}:{{.Tag}} {{.Digest}}"};
  util::ProcessResult r;
  try {
    r = runner_.run(spec);
  } catch (const Error&) {
    return std::nullopt;
  }
  if (!r.ok())
    return std::nullopt;
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start < r.out.size()) {
    size_t nl = r.out.find('\n', start);
    if (nl == std::string::npos)
      nl = r.out.size();
    std::string line = r.out.substr(start, nl - start);
    start = nl + 1;
    auto space = line.find(' ');
    if (line.empty() || space == std::string::npos)
      continue;
    std::string digest = line.substr(space + 1);
    out[line.substr(0, space)] = digest.rfind("sha256:", 0) == 0 ? digest : "";
  }
  return out;
}

Presence Engine::remote_image(const std::string& ref) {
  util::ProcessSpec spec;
  spec.argv = {program_, "manifest", "inspect"};
  if (is_loopback_registry(ref))
    spec.argv.push_back("--insecure");
  spec.argv.push_back(ref);
  auto r = runner_.run(spec);
  if (r.ok())
    return Presence::Present;
  std::string err = lower(r.err + r.out);
  if (err.find("no such manifest") != std::string::npos ||
      err.find("manifest unknown") != std::string::npos)
    return Presence::Absent;
  throw Error(ExitCode::WorkFailed, "cannot check the registry for " + ref + ": " + trim(r.err),
              "check that the registry is up and that you are logged in ('docker login')");
}

util::ProcessResult Engine::run(const std::vector<std::string>& argv,
                                const std::function<void(std::string_view)>& on_line,
                                const std::map<std::string, std::optional<std::string>>& env) {
  util::ProcessSpec spec;
  spec.argv = argv;
  spec.on_line = on_line;
  spec.env = env;
  return runner_.run(spec);
}

bool is_loopback_registry(const std::string& ref) {
  auto slash = ref.find('/');
  if (slash == std::string::npos)
    return false;
  std::string host = ref.substr(0, slash);
  auto colon = host.rfind(':');
  if (colon != std::string::npos && host.find(']') == std::string::npos)
    host = host.substr(0, colon);
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "[::1]";
}

bool is_transient_failure(const std::string& output) {
  static const std::regex pattern(
      R"((\b5\d\d\b|\b429\b|too many requests|timeout|timed out|connection reset|)"
      R"(connection refused|broken pipe|eof\b|service unavailable|bad gateway|i/o timeout|)"
      R"(tls handshake|temporary failure))",
      std::regex::icase);
  return std::regex_search(output, pattern) && !is_auth_failure(output);
}

bool is_auth_failure(const std::string& output) {
  static const std::regex pattern(
      R"((unauthorized|authentication required|denied|\b401\b|\b403\b|no basic auth credentials))",
      std::regex::icase);
  return std::regex_search(output, pattern);
}

} // namespace mlrepo::docker
