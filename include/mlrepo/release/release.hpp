#pragma once
// `mlrepo release` as a core API: cut a release as a `<name>/v<VERSION>` tag
// on a commit whose image is in the registry (CI's `promote --release` then
// gives that image its version tags).
#include "mlrepo/changes/selection.hpp"
#include "mlrepo/git/repository.hpp"
#include "mlrepo/registry/client.hpp"
#include "mlrepo/util/process.hpp"

#include <string>
#include <vector>

namespace mlrepo {
class Tools;
}

namespace mlrepo::release {

struct ReleaseOptions {
  std::string project; // name or path
  std::string version;
  bool push = false;
  std::string cwd;
  registry::ClientOptions client;
};

struct ReleaseOutcome {
  std::string tag;    // <name>/v<VERSION>
  std::string commit;
  std::string image;  // the content-tagged image the release will promote
  std::string digest;
  std::vector<std::string> image_tags; // what CI's 'promote --release' will give the image
  bool pushed = false;
};

ReleaseOutcome run_release(const git::Repository& repo, const ReleaseOptions& options, Tools& tools);

} // namespace mlrepo::release
