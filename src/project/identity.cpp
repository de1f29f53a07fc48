#include "mlrepo/project/identity.hpp"

#include "mlrepo/util/image_ref.hpp"

namespace mlrepo::project {

std::string local_image(const config::WorkspaceConfig& workspace, std::string_view name) {
  return workspace.image_prefix + std::string(name);
}

ImageIndex::ImageIndex(const std::vector<Project>& projects, const config::WorkspaceConfig& workspace)
    : projects_(projects), workspace_(workspace) {
  by_identity_.reserve(projects.size() * 2);
  for (size_t i = 0; i < projects.size(); ++i) {
    by_identity_.emplace(util::canonical_repository(projects[i].image), i);
    auto local = local_image(workspace, projects[i].name);
    by_identity_.emplace(util::canonical_repository(local), i);
    by_leaf_.emplace(std::string(util::last_component(local)), i);
  }
}

std::optional<size_t> ImageIndex::find(std::string_view repository) const {
  if (auto it = by_identity_.find(util::canonical_repository(repository)); it != by_identity_.end())
    return it->second;
  return std::nullopt;
}

std::optional<size_t> ImageIndex::resembles(std::string_view repository) const {
  if (auto it = by_leaf_.find(std::string(util::last_component(repository))); it != by_leaf_.end())
    return it->second;
  return std::nullopt;
}

std::optional<std::string> ImageIndex::registry_for(std::string_view repository, size_t p) const {
  std::string local = local_image(workspace_, projects_[p].name);
  if (repository.size() <= local.size() + 1 || repository.substr(repository.size() - local.size()) != local ||
      repository[repository.size() - local.size() - 1] != '/')
    return std::nullopt;
  return std::string(repository.substr(0, repository.size() - local.size() - 1));
}

} // namespace mlrepo::project
