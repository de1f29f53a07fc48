// GitHub event payloads (GITHUB_EVENT_PATH) as the run context reads them for `changed`, against
// a small real repository. The first byte picks the event name.
#include "mlrepo/changes/selection.hpp"
#include "mlrepo/git/handles.hpp"
#include "mlrepo/util/error.hpp"

#include <cstdint>
#include <spdlog/spdlog.h>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

namespace {
std::string setup() {
  std::string dir = "/tmp/mlrepo-fuzz-event-" + std::to_string(::getpid());
  std::string cmd = "rm -rf " + dir + " && mkdir -p " + dir + "/app && cd " + dir +
                    " && git init -q -b main && echo 'FROM scratch' > app/Dockerfile && git add -A && "
                    "git -c user.name=f -c user.email=f@x commit -qm one && echo x > app/x && git add -A && "
                    "git -c user.name=f -c user.email=f@x commit -qm two";
  if (std::system(cmd.c_str()) != 0)
    std::abort();
  return dir;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static mlrepo::git::Library libgit2;
  static const bool quiet = (spdlog::set_level(spdlog::level::off), true); // warnings are not findings
  (void)quiet;
  static const std::string dir = setup();
  static const std::string payload = dir + ".json";
  if (size == 0)
    return 0;
  static const char* names[] = {"push", "pull_request", "pull_request_target", "merge_group", "workflow_dispatch"};
  std::string name = names[data[0] % 5];
  FILE* f = std::fopen(payload.c_str(), "wb");
  if (!f)
    return 0;
  std::fwrite(data + 1, 1, size - 1, f);
  std::fclose(f);
  auto env = [&](const std::string& key) -> std::optional<std::string> {
    if (key == "GITHUB_ACTIONS" || key == "CI")
      return "true";
    if (key == "GITHUB_EVENT_NAME")
      return name;
    if (key == "GITHUB_EVENT_PATH")
      return payload;
    return std::nullopt;
  };
  try {
    auto repo = mlrepo::git::Repository::discover(dir);
    mlrepo::config::WorkspaceConfig ws;
    mlrepo::changes::SelectionOptions opt;
    opt.all_if_base_missing = (data[0] & 0x80) != 0;
    (void)mlrepo::changes::select_revisions(repo, ws, opt, mlrepo::context::RunContext::detect(env));
  } catch (const mlrepo::Error&) {
  }
  return 0;
}
