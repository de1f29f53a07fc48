#pragma once
// The shapes mlrepo prints on stdout, exactly as the contract fixes them.
#include "mlrepo/changes/changes.hpp"
#include "mlrepo/project/graph.hpp"

#include <map>
#include <string>

namespace mlrepo::report {

std::string list_text(const project::Graph& graph);
// Each project's latest release version (from `<name>/v*` tags), by name.
using Releases = std::map<std::string, std::string>;

std::string list_json(const project::Graph& graph, const Releases* releases = nullptr);

std::string changed_text(const project::Graph& graph, const changes::ChangeSet& set);
std::string changed_paths(const project::Graph& graph, const changes::ChangeSet& set);
std::string changed_json(const project::Graph& graph, const changes::ChangeSet& set,
                         const Releases* releases = nullptr);
// {"include":[{"project":NAME,"path":PATH}]} on one line, no newline.
std::string github_matrix(const project::Graph& graph, const changes::ChangeSet& set);
// The lines --github-output appends to the step's outputs file.
std::string github_output(const project::Graph& graph, const changes::ChangeSet& set);
// pipelines=["NAME",...]: the pipelines a change touched, for CI's deploy job.
std::string pipelines_output(const std::vector<std::string>& pipelines);

std::string graph_json(const project::Graph& graph);
std::string graph_dot(const project::Graph& graph);

// One line for a reference that resembles a project without naming its image.
std::string near_miss_text(const project::Graph& graph, const project::NearMiss& miss);

} // namespace mlrepo::report
