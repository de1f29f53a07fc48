#pragma once
// What `mlrepo build` will do: for each chosen project (and the projects it
// depends on), the content hash that names its image and every tag it gets.
#include "mlrepo/config/config.hpp"
#include "mlrepo/git/repository.hpp"
#include "mlrepo/git/snapshot.hpp"
#include "mlrepo/project/graph.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mlrepo::build {

struct PlanItem {
  size_t project;                   // index into the graph
  std::string name;
  std::string content_hash;         // hex; covers everything that defines the image
  std::string content_ref;          // image:content-<hash>
  std::string cache_ref;            // image:buildcache, the registry layer cache
  std::vector<std::string> tags;    // full references, content_ref first
  bool dirty = false;               // uncommitted changes reach this image
  std::vector<std::string> withheld_tags; // tags: / default_branch_tags: a dirty image does not get
  bool requested = true;            // chosen by the user, not only a dependency
  std::vector<size_t> deps;         // plan indexes this item waits for
  std::map<std::string, std::string> labels;
  // Build settings, paths repo-relative.
  std::string dockerfile;
  std::string context;
  std::string ignore_file;        // the ignore file BuildKit reads (project/dockerignore.hpp)
  bool dockerfile_ignore = false; // it is <Dockerfile>.dockerignore, which the classic builder ignores
  std::map<std::string, std::string> build_args;
  std::optional<std::string> target;
  std::vector<std::string> platforms;
  std::map<std::string, std::string> secrets; // id -> environment variable
  // FROM references (as written, ARGs expanded) that must resolve to a
  // dependency's freshly built image: reference -> plan index.
  std::vector<std::pair<std::string, size_t>> from_refs;
};

struct PlanInputs {
  std::optional<std::string> branch; // current branch name, if any
  bool on_default_branch = false;
  std::string source_url;            // for org.opencontainers.image.source
  // --build-arg values for the chosen projects (not their dependencies).
  std::map<std::string, std::string> build_arg_overrides;
  // Plan what a commit holds, ignoring the work tree (promote, release):
  // the commit and a snapshot of its tree. Unset: HEAD plus uncommitted work.
  std::optional<git_oid> commit;
  const git::Snapshot* snapshot = nullptr;
};

// `chosen` are graph indexes; their dependencies are added. Items come in
// dependency order.
std::vector<PlanItem> make_plan(const git::Repository& repo, const config::WorkspaceConfig& ws,
                                const project::Graph& graph, const std::vector<size_t>& chosen,
                                const PlanInputs& inputs);

// A tag template with {branch} and {short_sha} filled in.
std::string expand_tag(std::string tmpl, const std::string& branch, const std::string& short_sha);

// A branch name made safe as an image tag.
std::string tag_safe(std::string_view branch);

} // namespace mlrepo::build
