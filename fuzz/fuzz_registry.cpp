// What registries and docker's config hand us: WWW-Authenticate challenges,
// image references, release refs, and ~/.docker/config.json (credential
// helpers answered by a fake runner: a fuzzer must not start programs).
#include "mlrepo/registry/client.hpp"
#include "mlrepo/registry/credentials.hpp"
#include "mlrepo/release/promote.hpp"
#include "mlrepo/release/tags.hpp"
#include "mlrepo/release/semver.hpp"
#include "mlrepo/util/error.hpp"

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <unistd.h>

namespace {
class Helper : public mlrepo::util::ProcessRunner {
public:
  std::string answer;
  mlrepo::util::ProcessResult run(const mlrepo::util::ProcessSpec&) override {
    mlrepo::util::ProcessResult r;
    r.exit_code = answer.empty() ? 1 : 0;
    r.out = answer;
    return r;
  }
};
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  std::string line = in.substr(0, in.find('\n'));
  (void)mlrepo::registry::parse_challenge(line);
  (void)mlrepo::release::parse_version(line);
  try {
    (void)mlrepo::registry::parse_image_name(line);
  } catch (const mlrepo::Error&) {
  }
  try {
    (void)mlrepo::release::parse_release_ref(line);
  } catch (const mlrepo::Error&) {
  }
  static const std::string dir = "/tmp/mlrepo-fuzz-docker-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  FILE* f = std::fopen((dir + "/config.json").c_str(), "wb");
  if (!f)
    return 0;
  std::fwrite(in.data(), 1, in.size(), f);
  std::fclose(f);
  Helper helper;
  helper.answer = line;
  mlrepo::registry::DockerConfigCredentials creds(helper, dir);
  for (const char* host : {"docker.io", "ghcr.io", "localhost:5000"}) {
    try {
      (void)creds.lookup(host);
      (void)creds.origin(host);
    } catch (const mlrepo::Error&) {
    }
  }
  return 0;
}
