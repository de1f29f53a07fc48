#pragma once
// The docker (or podman) command line, driven through the process runner.
// Every method builds an argv vector; nothing goes through a shell.
#include "mlrepo/util/process.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mlrepo::docker {

struct BuildRequest {
  std::string dockerfile; // absolute
  std::string context;    // absolute
  std::vector<std::string> tags;
  std::map<std::string, std::string> build_args;
  std::map<std::string, std::string> labels;
  std::optional<std::string> target;
  std::vector<std::string> platforms;
  // BuildKit secrets: id -> environment variable; docker reads the value
  // itself, so it never appears in argv.
  std::map<std::string, std::string> secrets;
  std::vector<std::string> cache_from; // images whose layers may be reused
};

enum class Presence { Present, Absent };

// What the engine can give a container.
struct EngineInfo {
  int cpus = 0;
  std::int64_t memory_bytes = 0;
  std::vector<std::string> runtimes; // runc, nvidia, ...
  bool has_gpu_runtime() const;
};

// Which builder `docker build` uses here, and why.
struct Builder {
  bool buildkit = false;
  bool buildx = false; // BuildKit through the buildx plugin (else the CLI's own, DOCKER_BUILDKIT=1)
  std::string why;     // for -v and doctor
};

// A docker CLI version "X.Y.Z..." has BuildKit built in (DOCKER_BUILDKIT=1)
// before 23, where the builder moved to the buildx plugin.
bool cli_has_builtin_buildkit(std::string_view client_version);

class Engine {
public:
  // `program` is "docker" unless the workspace names another (e.g. podman).
  Engine(util::ProcessRunner& runner, std::string program = "docker");

  const std::string& program() const { return program_; }

  // Exit 3 (EnvironmentError) unless the engine answers; returns its version.
  // Also learns the client's version, for detect_builder.
  std::string require_reachable();
  // BuildKit wherever the engine offers it: the buildx plugin, or a CLI older
  // than 23 with DOCKER_BUILDKIT=1; else the classic builder. One process at
  // most (buildx is asked only of CLIs 23 and newer). Call after
  // require_reachable; the answer is kept for build_argv and build_env.
  const Builder& detect_builder();
  const Builder& builder() const { return builder_; }

  std::vector<std::string> build_argv(const BuildRequest& req) const;
  std::vector<std::string> tag_argv(const std::string& from, const std::string& to) const;
  std::vector<std::string> push_argv(const std::string& ref) const;
  std::vector<std::string> pull_argv(const std::string& ref) const;
  // The environment a build runs with (DOCKER_BUILDKIT).
  std::map<std::string, std::optional<std::string>> build_env() const;

  // Throws Error when the answer is not a clear yes or no: an engine or
  // registry failure is never read as "absent".
  Presence local_image(const std::string& ref);
  // nullopt when the engine lacks `ref`; else the digest the image has in
  // ref's repository ("" when it was never pushed there or pulled from it).
  std::optional<std::string> local_image_digest(const std::string& ref);
  // The engine's own ID of a local image (sha256:...); nullopt when it has none.
  std::optional<std::string> image_id(const std::string& ref);
  // Which digest to show for a local image, in one process: the registry's
  // (repository@sha256) when it was pushed or pulled there, else its image
  // ID (`is_image_id`). nullopt when the engine has no such image.
  struct ShownDigest {
    std::string digest;
    bool is_image_id = false;
  };
  std::optional<ShownDigest> shown_digest(const std::string& ref);
  // Every repository:tag the engine holds, in one listing, with the digest
  // the image has in that repository ("" when it was never pushed there or
  // pulled from it); nullopt when the listing fails (callers then ask image
  // by image).
  std::optional<std::map<std::string, std::string>> local_images();
  Presence remote_image(const std::string& ref);
  // `docker info`: nullopt when the engine does not say.
  std::optional<EngineInfo> info();

  // Runs a command, streaming its lines; returns the result.
  util::ProcessResult run(const std::vector<std::string>& argv,
                          const std::function<void(std::string_view)>& on_line,
                          const std::map<std::string, std::optional<std::string>>& env = {});

private:
  util::ProcessRunner& runner_;
  std::string program_;
  std::string server_version_; // once require_reachable succeeded
  std::string client_version_;
  Builder builder_;
};

// Whether a registry host is on the loopback interface, which Docker treats
// as insecure (plain HTTP allowed) by default.
bool is_loopback_registry(const std::string& ref);

// Failures worth retrying: server errors, rate limits, timeouts, resets.
bool is_transient_failure(const std::string& output);
bool is_auth_failure(const std::string& output);

} // namespace mlrepo::docker
