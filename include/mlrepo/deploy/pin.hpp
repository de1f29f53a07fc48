#pragma once
// Image pinning: a project at a commit (or at its release tag's commit) ->
// the content tag its build has there -> the digest the registry holds for
// it. What every deploy target renders: an image named by digest.
#include "mlrepo/context/run_context.hpp"
#include "mlrepo/git/repository.hpp"
#include "mlrepo/project/project.hpp"
#include "mlrepo/registry/client.hpp"
#include "mlrepo/workspace.hpp"

#include <optional>
#include <string>

namespace mlrepo::deploy {

// What a rendered file pins.
struct PinnedImage {
  std::string reference; // repository@sha256:…
  std::string commit;
  std::string content_tag; // content-<hash>
  std::string release;     // the version, with --release
};

// A pipeline step's image, and where its project is (for what the pods say).
struct StepImage {
  PinnedImage pinned;
  std::string project_path;
};

struct Pin {
  std::optional<PinnedImage> image; // nullopt: not in the registry
  std::string missing;              // then: which image, at which commit, in words
};

// `project` as `view` (at `commit`) has it, or at its release tag
// `<name>/v<release>` when `release` is set (UsageError when there is none).
Pin pin_image(const git::Repository& repo, const View& view, const git_oid& commit, const project::Project& project,
              const std::optional<std::string>& release, registry::Client& client, const context::RunContext& run);

} // namespace mlrepo::deploy
