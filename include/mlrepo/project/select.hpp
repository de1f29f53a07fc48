#pragma once
// Turning PROJECT arguments (names, repo paths, paths relative to the current
// directory) into projects.
#include "mlrepo/project/graph.hpp"

#include <string>
#include <vector>

namespace mlrepo::project {

// Throws UsageError (exit 2) naming an argument that is no project.
std::vector<size_t> resolve_projects(const Graph& graph, const std::vector<std::string>& args,
                                     const std::string& cwd, const std::string& workdir);

// `path` (absolute, or relative to `cwd`) as a repo-relative path; nullopt
// when it is outside the repository.
std::optional<std::string> repo_relative(const std::string& path, const std::string& cwd,
                                         const std::string& workdir);

// The deepest project containing `cwd`, if any.
std::optional<size_t> project_at(const Graph& graph, const std::string& cwd,
                                 const std::string& workdir);

} // namespace mlrepo::project
