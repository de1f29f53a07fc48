#pragma once
// Which project, if any, an image reference names. A reference names a project
// only when it is that project's image repository (`<registry>/<prefix><name>`)
// or its bare local name (`<prefix><name>`), compared as Docker compares names
// (Docker Hub spellings normalised). A reference elsewhere whose last component
// merely equals a project's image name is an outside image: a near miss, which
// is reported, never guessed.
#include "mlrepo/config/config.hpp"
#include "mlrepo/project/project.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mlrepo::project {

// The project's name as a local image, without a registry: `<prefix><name>`.
std::string local_image(const config::WorkspaceConfig& workspace, std::string_view name);

class ImageIndex {
public:
  ImageIndex(const std::vector<Project>& projects, const config::WorkspaceConfig& workspace);

  // The project whose image `repository` (tag and digest removed) is.
  std::optional<size_t> find(std::string_view repository) const;

  // For a reference that is no project's image: the project whose image name
  // its last component equals, if any.
  std::optional<size_t> resembles(std::string_view repository) const;

  // The `registry:` value that would make `repository` project `p`'s image;
  // nullopt when no registry would (the prefix differs too).
  std::optional<std::string> registry_for(std::string_view repository, size_t p) const;

private:
  const std::vector<Project>& projects_;
  const config::WorkspaceConfig& workspace_;
  std::unordered_map<std::string, size_t> by_identity_; // canonical repository -> project
  std::unordered_map<std::string, size_t> by_leaf_;     // last component -> project
};

} // namespace mlrepo::project
