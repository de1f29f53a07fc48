#include "mlrepo/report/output.hpp"

#include <nlohmann/json.hpp>
#include <set>

namespace mlrepo::report {
namespace {

using json = nlohmann::ordered_json;

std::string dump(const json& j) {
  // Replace invalid UTF-8 rather than throwing: paths are bytes to git.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string dot_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out + "\"";
}

} // namespace

std::string list_text(const project::Graph& graph) {
  std::string out;
  for (const auto& p : graph.projects())
    out += p.name + "\t" + p.path + "\n";
  return out;
}

namespace {
json release_of(const Releases* releases, const std::string& name) {
  if (!releases)
    return nullptr;
  auto it = releases->find(name);
  return it == releases->end() ? json(nullptr) : json(it->second);
}
} // namespace

// A project's path dependencies (depends_on paths, COPY sources of a wider
// context): what besides its directory changes it.
json inputs_json(const project::Graph& graph, size_t i) {
  json out = json::array();
  for (const auto& d : graph.path_dependencies(i))
    out.push_back({{"path", d.path}, {"origin", d.origin}, {"glob", d.glob}});
  return out;
}

std::string list_json(const project::Graph& graph, const Releases* releases) {
  json projects = json::array();
  const auto& all = graph.projects();
  for (size_t i = 0; i < all.size(); ++i) {
    const auto& p = all[i];
    json deps = json::array();
    for (size_t d : graph.dependencies(i))
      deps.push_back(all[d].name);
    projects.push_back({{"name", p.name},
                        {"path", p.path},
                        {"dockerfile", p.dockerfile},
                        // The repository root as "." (docker's spelling), never "".
                        {"context", p.context.empty() ? std::string(".") : p.context},
                        {"image", p.image},
                        {"depends_on", deps},
                        {"inputs", inputs_json(graph, i)},
                        {"latest_release", release_of(releases, p.name)}});
  }
  return dump(json{{"projects", projects}}) + "\n";
}

std::string changed_text(const project::Graph& graph, const changes::ChangeSet& set) {
  std::string out;
  for (const auto& c : set.changed)
    out += graph.projects()[c.project].name + "\n";
  return out;
}

std::string changed_paths(const project::Graph& graph, const changes::ChangeSet& set) {
  std::string out;
  for (const auto& c : set.changed)
    out += graph.projects()[c.project].path + "\n";
  return out;
}

std::string changed_json(const project::Graph& graph, const changes::ChangeSet& set, const Releases* releases) {
  json changed = json::array();
  for (const auto& c : set.changed) {
    json reasons = json::array();
    for (const auto& r : c.reasons)
      reasons.push_back({{"kind", r.kind}, {"detail", r.detail}});
    const auto& p = graph.projects()[c.project];
    changed.push_back({{"name", p.name},
                       {"path", p.path},
                       {"reasons", reasons},
                       {"latest_release", release_of(releases, p.name)}});
  }
  json removed = json::array();
  for (const auto& r : set.removed)
    removed.push_back({{"name", r.name}, {"path", r.path}});
  json out = {{"base", set.base ? json(*set.base) : json(nullptr)},
              {"head", set.head},
              {"changed", changed},
              {"removed", removed}};
  return dump(out) + "\n";
}

std::string github_matrix(const project::Graph& graph, const changes::ChangeSet& set) {
  json include = json::array();
  for (const auto& c : set.changed) {
    const auto& p = graph.projects()[c.project];
    include.push_back({{"project", p.name}, {"path", p.path}});
  }
  return dump(json{{"include", include}});
}

std::string github_output(const project::Graph& graph, const changes::ChangeSet& set) {
  json names = json::array();
  for (const auto& c : set.changed)
    names.push_back(graph.projects()[c.project].name);
  return "projects=" + dump(names) + "\nmatrix=" + github_matrix(graph, set) +
         "\nany_changed=" + (set.changed.empty() ? "false" : "true") + "\n";
}

std::string pipelines_output(const std::vector<std::string>& pipelines) {
  return "pipelines=" + dump(json(pipelines)) + "\n";
}

std::string graph_json(const project::Graph& graph) {
  json nodes = json::array();
  for (size_t i = 0; i < graph.projects().size(); ++i)
    nodes.push_back({{"name", graph.projects()[i].name}, {"path", graph.projects()[i].path},
                     {"inputs", inputs_json(graph, i)}});
  json edges = json::array();
  for (const auto& e : graph.edges())
    edges.push_back({{"from", graph.projects()[e.from].name},
                     {"to", graph.projects()[e.to].name},
                     {"via", e.via}});
  return dump(json{{"nodes", nodes}, {"edges", edges}}) + "\n";
}

std::string graph_dot(const project::Graph& graph) {
  std::string out = "digraph mlrepo {\n  rankdir=LR;\n  node [shape=box];\n";
  for (const auto& p : graph.projects())
    out += "  " + dot_quote(p.name) + " [tooltip=" + dot_quote(p.path) + "];\n";
  for (const auto& e : graph.edges())
    out += "  " + dot_quote(graph.projects()[e.from].name) + " -> " +
           dot_quote(graph.projects()[e.to].name) + " [label=" + dot_quote(e.via) + "];\n";
  // Path inputs: one folder-shaped node per path (ids apart from project
  // names), dashed edges labelled with where the dependency was declared.
  std::set<std::string> paths;
  for (size_t i = 0; i < graph.projects().size(); ++i)
    for (const auto& d : graph.path_dependencies(i)) {
      std::string node = dot_quote("path:" + d.path);
      if (paths.insert(d.path).second)
        out += "  " + node + " [shape=folder, label=" + dot_quote(d.path.empty() ? "." : d.path) + "];\n";
      std::string via = d.origin.substr(0, d.origin.find(' '));
      out += "  " + dot_quote(graph.projects()[i].name) + " -> " + node + " [style=dashed, label=" +
             dot_quote(via) + ", tooltip=" + dot_quote(d.origin) + "];\n";
    }
  return out + "}\n";
}

std::string near_miss_text(const project::Graph& graph, const project::NearMiss& miss) {
  using Kind = project::NearMiss::Kind;
  const auto& p = graph.projects()[miss.project];
  std::string at = miss.dockerfile + ":" + std::to_string(miss.line) + ": " + miss.instruction + " " + miss.reference;
  switch (miss.kind) {
  case Kind::OwnBase:
    return at + " is project '" + p.name + "''s own image repository (" + p.image +
           "): its builds push to the repository they build FROM, overwriting the base's tags; build it FROM "
           "a repository of its own";
  case Kind::Pinned:
    return at + " is pinned by digest, so it is the published image of '" + p.name +
           "', not the one built from this tree, and makes no dependency; drop the @sha256:… to build it "
           "here";
  case Kind::Typo:
    return at + " is in this workspace's image namespace, but no project has that image; did you mean " +
           p.image + " (project '" + p.name + "')?";
  case Kind::NoPrefix:
    return at + " is not project '" + p.name + "': its image is " + p.image +
           " (the workspace's image_prefix is part of the name)";
  case Kind::Elsewhere:
    break;
  }
  std::string out = at + " is an outside image, not project '" + p.name + "' (" + p.path + ", image " + p.image + ")";
  if (miss.registry)
    out += "; with 'registry: " + *miss.registry + "' in mlrepo.yaml it would be";
  else if (miss.reference.find("//") != std::string::npos || miss.reference.front() == '/')
    out += "; a variable in it has no value here (give it one under build_args in the project's "
           "mlrepo.yaml), or name it " + p.image;
  else
    out += "; name it " + p.image + " to build it from this repository";
  if (miss.reference.find('@') != std::string::npos)
    out += " (and drop the @sha256:…: a digest always means the published image)";
  return out;
}

} // namespace mlrepo::report
