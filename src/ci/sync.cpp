#include "mlrepo/ci/sync.hpp"

namespace mlrepo::ci {

SyncReport sync_workflows(const std::string& workdir, const std::vector<GeneratedFile>& files, bool check,
                          bool prune) {
  generated::SyncOptions opt;
  opt.workdir = workdir;
  opt.marker = kGeneratedMarker;
  opt.check = check;
  opt.prune_dir = prune ? kWorkflowDir : "";
  opt.foreign_hint = "rename or remove it, or exclude that project from CI ('ci: {enabled: false}' in its "
                     "mlrepo.yaml)";
  return generated::sync(files, opt);
}

} // namespace mlrepo::ci
