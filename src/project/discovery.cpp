#include "mlrepo/project/discovery.hpp"

#include "mlrepo/project/naming.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"
#include "mlrepo/util/glob.hpp"
#include "mlrepo/util/image_ref.hpp"

#include <map>
#include <memory>
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
                        "project name '" + p.name + "' is not a valid image name: " +
                            util::repository_problem(p.name).value_or("it holds a '/'"),
                        "use lowercase letters and digits, separated by '.', '_', '__' or '-'");
  } else {
    p.name = default_name(dir, ws.name_from);
    if (!valid_image_name(p.name))
      throw UsageError("project '" + dir + "' gets the name '" + p.name +
                           "', which is not a valid image name: " +
                           util::repository_problem(p.name).value_or("it holds a '/'"),
                       "set 'name:' in '" + cfg_path +
                           "' (lowercase letters and digits, separated by '.', '_', '__' or '-')");
  }
  p.image = image_for(ws, p.name);
  if (p.image.size() > util::kMaxRepositoryLength)
    throw UsageError("project '" + dir + "' has the image repository '" + p.image + "', " +
                         std::to_string(p.image.size()) + " characters long; Docker allows at most " +
                         std::to_string(util::kMaxRepositoryLength) + ", registry and prefix included",
                     "set a shorter 'name:' in " + cfg_path);
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
  // Every problem at once: a large repository adopting mlrepo should not need
  // one run per collision.
  std::vector<std::unique_ptr<Error>> problems;
  for (const auto& dir : dirs) {
    try {
      projects.push_back(load_project(snapshot, ws, dir));
    } catch (const MissingHistoryError&) {
      throw; // not a mistake in the config: history this clone lacks
    } catch (const Error& e) {
      if (options.invalid) {
        std::shared_ptr<const Error> copy;
        if (const auto* ce = dynamic_cast<const ConfigError*>(&e))
          copy = std::make_shared<ConfigError>(*ce);
        else
          copy = std::make_shared<Error>(e);
        options.invalid->push_back({dir, std::move(copy)});
        continue;
      }
      if (!options.tolerant) {
        if (const auto* ce = dynamic_cast<const ConfigError*>(&e))
          problems.push_back(std::make_unique<ConfigError>(*ce));
        else
          problems.push_back(std::make_unique<Error>(e));
        continue;
      }
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
  std::map<std::string, std::vector<size_t>> by_name;
  for (size_t i = 0; i < projects.size(); ++i)
    by_name[projects[i].name].push_back(i);
  for (const auto& [name, group] : by_name) {
    if (group.size() < 2)
      continue;
    std::string paths, configs;
    for (size_t k = 0; k < group.size(); ++k) {
      const char* sep = k == 0 ? "" : k + 1 == group.size() ? " and " : ", ";
      const char* alt = k == 0 ? "" : k + 1 == group.size() ? " or " : ", ";
      paths += sep + ("'" + projects[group[k]].path + "'");
      configs += alt + util::join_path(projects[group[k]].path, config::kConfigFile);
    }
    problems.push_back(std::make_unique<UsageError>(
        "projects " + paths + (group.size() == 2 ? " are both" : " are all") + " named '" + name +
            "'" + in_where(snapshot),
        "give " + std::string(group.size() == 2 ? "one of them" : "all but one") +
            " its own 'name:' in " + configs +
            ", or set 'name_from: path' in the workspace mlrepo.yaml"));
  }
  if (problems.size() == 1) {
    if (const auto* ce = dynamic_cast<const ConfigError*>(problems[0].get()))
      throw *ce;
    throw *problems[0];
  }
  if (!problems.empty()) {
    std::string message = std::to_string(problems.size()) + " problems with project names and configs:";
    for (const auto& e : problems)
      message += "\n  - " + std::string(e->what()) + (e->hint().empty() ? "" : "\n    fix: " + e->hint());
    throw UsageError(message, "fix each of them, then run mlrepo again");
  }
  return projects;
}

} // namespace mlrepo::project
