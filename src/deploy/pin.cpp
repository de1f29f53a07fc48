#include "mlrepo/deploy/pin.hpp"

#include "mlrepo/build/build.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/image_ref.hpp"

namespace mlrepo::deploy {

Pin pin_image(const git::Repository& repo, const View& view, const git_oid& commit, const project::Project& p,
              const std::optional<std::string>& release, registry::Client& client, const context::RunContext& run) {
  // The image of the commit, or of the release tag's commit.
  git_oid at = commit;
  const View* from = &view;
  std::optional<View> tagged;
  if (release) {
    std::string tag = "refs/tags/" + p.name + "/v" + *release;
    if (!repo.has_reference(tag))
      throw UsageError("there is no release " + p.name + " " + *release + " (no tag " + tag.substr(10) + ")",
                       "'git tag -l \"" + p.name + "/v*\"' lists its releases");
    at = repo.require_commit(tag, "release tag");
    tagged.emplace(open_view(repo, at, ViewOptions{.skip_invalid = true}));
    from = &*tagged;
  }
  auto found_at = from->graph.find(p.path);
  if (!found_at)
    throw UsageError(p.name + " is not a project at its release tag's commit");
  auto plan = build::plan_commit(repo, *from, at, {*found_at}, run);
  const auto& item = plan.at(0);
  Pin out;
  auto digest = client.head_manifest(registry::parse_image_name(item.content_ref));
  if (!digest) {
    out.missing = "the image of " + p.name + " at commit " + git::oid_hex(at).substr(0, 12) + " (" +
                  item.content_ref + ") is not in the registry, so no manifest can pin it";
    return out;
  }
  PinnedImage image;
  image.reference = util::strip_tag(item.content_ref) + "@" + digest->digest;
  image.commit = git::oid_hex(at);
  image.content_tag = item.content_ref.substr(util::strip_tag(item.content_ref).size() + 1);
  image.release = release.value_or("");
  out.image = std::move(image);
  return out;
}

} // namespace mlrepo::deploy
