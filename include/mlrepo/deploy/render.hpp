#pragma once
// `mlrepo job render`: the flow every deploy target shares, written once:
// the commit; its chosen projects with a job; each image pinned by digest
// (deploy/pin); the target's refusals, every one at once; its files, then
// written, checked or streamed through generated/.
#include "mlrepo/changes/selection.hpp"
#include "mlrepo/deploy/pin.hpp"
#include "mlrepo/deploy/target.hpp"
#include "mlrepo/generated/sync.hpp"
#include "mlrepo/git/repository.hpp"
#include "mlrepo/registry/client.hpp"

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mlrepo {
class Tools;
}

namespace mlrepo::deploy {

struct RenderOptions {
  std::vector<std::string> projects; // names or paths
  bool changed = false;
  changes::SelectionOptions selection;
  bool all = false;
  std::optional<std::string> env;     // one environment's values merged in
  std::string target;                 // a row of deploy/target.cpp; empty: the one configured
  std::optional<std::string> out_dir; // "-": one YAML stream; else the target's directory (kubernetes.dir)
  bool check = false;
  std::optional<std::string> release; // pin the image of <name>/v<VERSION> instead of HEAD's
  bool skip_without_job = false;      // a named project without a job is left out, not refused
  std::string cwd;
  registry::ClientOptions client;
};

struct RenderOutcome {
  std::string commit;
  std::string target;         // the row rendered for
  config::WorkspaceConfig ws; // as the commit has it (the deploy points the target's tool with it)
  std::vector<generated::File> files;
  std::string stream; // with -o -
  generated::SyncReport sync;
  std::vector<std::pair<std::string, std::string>> pinned; // project, reference
  // Projects whose job runs on its schedule in GitHub Actions (runs_on): on
  // the cluster only as an on-demand Job template.
  std::map<std::string, std::string> scheduled_elsewhere; // project -> its job.runs_on ("github-actions")
};

RenderOutcome run_render(const git::Repository& repo, const RenderOptions& options, Tools& tools);

// What `job render` and `pipeline render` share:
// The output directory, spelt one way however -o (read from `cwd`) or the
// configured directory (from the repository root) was written: repo-relative
// inside the repository, absolute outside it.
std::string output_dir(const std::optional<std::string>& out_dir, const std::string& configured, const std::string& cwd,
                       const std::string& workdir);
// The rendered files written to (or with `check`, compared with) the
// repository through generated/: `marker` says which are mlrepo's; with
// `prune_dir` (a render of everything) its other generated files are obsolete.
generated::SyncReport write_rendered(const std::vector<generated::File>& files, const std::string& workdir,
                                     const char* marker, bool marker_anywhere, bool check, const std::string& prune_dir,
                                     const std::string& foreign_hint);

// What `job deploy` and `pipeline deploy` share:
// The files of one item of a rendered stream (those under "-/<name>/").
std::vector<const generated::File*> files_of(const std::vector<generated::File>& files, const std::string& name);
// The program the target's apply runs: the user's choice (--kubectl, --aws)
// in `programs`, keyed by the target's own name for it, else that name.
std::string program_of(const Target& target, const std::map<std::string, std::string>& programs);
// The target's apply of one item; its failure says which items were applied
// before it (`applied_before`), so the user knows what the cluster now holds.
ApplyResult apply_item(const Target& target, const ApplyRequest& request, util::ProcessRunner& runner,
                       const std::vector<std::string>& applied_before);

// An exit-1 problem per image missing from the registry (`missing`: the
// project and which image, in words), each saying what to do: commit first
// when uncommitted changes reach it, else push or `mlrepo build --push`.
void missing_image_problems(const git::Repository& repo,
                            const std::vector<std::pair<const project::Project*, std::string>>& missing, bool release,
                            const context::RunContext& env, Problems& problems);

} // namespace mlrepo::deploy
