#include "mlrepo/project/discovery.hpp"

#include "mlrepo/project/naming.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"
#include "mlrepo/util/glob.hpp"

#include <spdlog/spdlog.h>
#include <unordered_map>

namespace mlrepo::project {
namespace {

constexpr const char* kDockerfile = "Dockerfile";

std::string image_for(const config::WorkspaceConfig& ws, const std::string& name) {
  std::string repo = ws.image_prefix + name;
  return ws.registry.empty() ? repo : ws.registry + "/" + repo;
}

// Resolves a path from a project config, relative to the project directory.
std::string project_relative(const config::ProjectConfig& cfg, const Project& p,
                             const config::Located& value, const char* key) {
  auto resolved = util::normalize_repo_path(util::join_path(p.path, value.value));
  if (!resolved || (!value.value.empty() && value.value.front() == '/'))
    throw ConfigError(cfg.file, value.line,
                      std::string("'") + key + "' path '" + value.value + "' leaves the repository",
                      "paths are relative to the project directory and must stay inside the repo");
  return *resolved;
}

std::string in_where(const git::Snapshot& snapshot) {
  std::string where = snapshot.where();
  return where == "the work tree" ? "" : " (in " + where + ")";
}

Project load_project(const git::Snapshot& snapshot, const config::WorkspaceConfig& ws,
                     const std::string& dir) {
  Project p;
  p.path = dir;
  std::string cfg_path = util::join_path(dir, config::kConfigFile);
  if (auto content = snapshot.read(cfg_path)) {
    try {
      p.config = std::make_shared<const config::ProjectConfig>(config::parse_project_config(*content, cfg_path));
    } catch (const ConfigError& e) {
      throw ConfigError(e.file(), e.line(), e.detail() + in_where(snapshot), e.hint());
    }
  }
  const auto& cfg = *p.config;
  if (cfg.name) {
    p.name = cfg.name->value;
    if (!valid_image_name(p.name))
      throw ConfigError(cfg.file, cfg.name->line,
                        "project name '" + p.name + "' is not a valid image name",
                        "use lowercase letters and digits, separated by '.', '_', '__' or '-'");
  } else {
    p.name = default_name(dir, ws.name_from);
    if (!valid_image_name(p.name))
      throw UsageError("project '" + dir + "' gets the name '" + p.name +
                           "', which is not a valid image name",
                       "set 'name:' in " + cfg_path +
                           " (lowercase letters and digits, separated by '.', '_', '__' or '-')");
  }
  p.image = image_for(ws, p.name);
  p.dockerfile = cfg.dockerfile ? project_relative(cfg, p, *cfg.dockerfile, "dockerfile")
                                : util::join_path(dir, kDockerfile);
  p.context = cfg.context ? project_relative(cfg, p, *cfg.context, "context") : dir;
  if (cfg.dockerfile && !snapshot.read(p.dockerfile))
    throw ConfigError(cfg.file, cfg.dockerfile->line,
                      "'dockerfile' names '" + p.dockerfile + "', which is not a file" + in_where(snapshot),
                      "point it at a Dockerfile inside the repository");
  if (cfg.context && !snapshot.exists(p.context))
    throw ConfigError(cfg.file, cfg.context->line,
                      "'context' names '" + p.context + "', which does not exist" + in_where(snapshot));
  return p;
}

} // namespace

config::WorkspaceConfig load_workspace_config(const git::Snapshot& snapshot) {
  config::WorkspaceConfig ws;
  ws.file = config::kConfigFile;
  if (auto content = snapshot.read(config::kConfigFile)) {
    try {
      ws = config::parse_workspace_config(*content, config::kConfigFile);
    } catch (const ConfigError& e) {
      throw ConfigError(e.file(), e.line(), e.detail() + in_where(snapshot), e.hint());
    }
  }
  return ws;
}

bool is_pruned(std::string_view dir, const config::WorkspaceConfig& ws) {
  if (util::base_name(dir).substr(0, 1) == ".")
    return true;
  for (const auto& g : ws.exclude)
    if (util::glob_match(g.value, dir))
      return true;
  return false;
}

std::vector<std::string> project_dirs(const git::Snapshot& snapshot,
                                      const config::WorkspaceConfig& ws) {
  auto dirs = snapshot.dirs_containing(kDockerfile, [&](std::string_view d) { return is_pruned(d, ws); });
  // A Dockerfile at the root makes no project: every file would belong to it.
  if (!dirs.empty() && dirs.front().empty())
    dirs.erase(dirs.begin());
  return dirs;
}

std::vector<Project> discover(const git::Snapshot& snapshot, const config::WorkspaceConfig& ws,
                              DiscoveryOptions options) {
  return discover(snapshot, ws, project_dirs(snapshot, ws), options);
}

std::vector<Project> discover(const git::Snapshot& snapshot, const config::WorkspaceConfig& ws,
                              const std::vector<std::string>& dirs, DiscoveryOptions options) {
  std::vector<Project> projects;
  for (const auto& dir : dirs) {
    try {
      projects.push_back(load_project(snapshot, ws, dir));
    } catch (const Error& e) {
      if (!options.tolerant)
        throw;
      spdlog::warn("{} (ignored: {} is not the revision being built)", e.what(), snapshot.where());
      Project p;
      p.path = dir;
      p.name = default_name(dir, ws.name_from);
      p.image = image_for(ws, p.name);
      p.dockerfile = util::join_path(dir, kDockerfile);
      p.context = dir;
      projects.push_back(std::move(p));
    }
  }
  if (options.tolerant)
    return projects;
  std::unordered_map<std::string, size_t> by_name;
  for (size_t i = 0; i < projects.size(); ++i) {
    auto [it, inserted] = by_name.emplace(projects[i].name, i);
    if (!inserted) {
      const auto& a = projects[it->second];
      const auto& b = projects[i];
      throw UsageError("projects '" + a.path + "' and '" + b.path + "' are both named '" + b.name +
                           "'" + in_where(snapshot),
                       "give one of them its own 'name:' in " +
                           util::join_path(a.path, config::kConfigFile) + " or " +
                           util::join_path(b.path, config::kConfigFile) +
                           ", or set 'name_from: path' in the workspace mlrepo.yaml");
    }
  }
  return projects;
}

} // namespace mlrepo::project
