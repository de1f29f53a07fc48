#include "mlrepo/project/select.hpp"

#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"
#include "mlrepo/util/text.hpp"

#include <filesystem>

namespace mlrepo::project {
std::optional<std::string> repo_relative(const std::string& path, const std::string& cwd,
                                         const std::string& workdir) {
  namespace fs = std::filesystem;
  fs::path p = fs::path(path).is_absolute() ? fs::path(path) : fs::path(cwd) / path;
  std::error_code ec;
  fs::path canon = fs::weakly_canonical(p, ec);
  if (ec)
    canon = p.lexically_normal();
  fs::path rel = canon.lexically_relative(fs::weakly_canonical(workdir, ec));
  if (rel.empty() || *rel.begin() == "..")
    return std::nullopt;
  return util::normalize_repo_path(rel.generic_string());
}

std::vector<size_t> resolve_projects(const Graph& graph, const std::vector<std::string>& args,
                                     const std::string& cwd, const std::string& workdir) {
  std::vector<size_t> out;
  for (const auto& arg : args) {
    std::optional<size_t> found;
    for (size_t i = 0; i < graph.projects().size() && !found; ++i)
      if (graph.projects()[i].name == arg)
        found = i;
    if (!found)
      if (auto rel = repo_relative(arg, cwd, workdir))
        found = graph.find(*rel);
    if (!found)
      if (auto norm = util::normalize_repo_path(arg))
        found = graph.find(*norm);
    if (!found) {
      std::vector<std::string> names, paths;
      for (const auto& p : graph.projects()) {
        names.push_back(p.name);
        paths.push_back(p.path);
      }
      size_t budget = std::max<size_t>(2, arg.size() / 3);
      auto guess = util::closest(arg, names, budget);
      if (!guess)
        guess = util::closest(arg, paths, budget);
      throw UsageError("'" + arg + "' is not a project (neither a project name nor a project's path)",
                       guess ? "did you mean '" + *guess + "'? ('mlrepo list' shows every project)"
                             : "run 'mlrepo list' to see the projects");
    }
    if (std::find(out.begin(), out.end(), *found) == out.end())
      out.push_back(*found);
  }
  return out;
}

std::optional<size_t> project_at(const Graph& graph, const std::string& cwd,
                                 const std::string& workdir) {
  auto rel = repo_relative(cwd, cwd, workdir);
  if (!rel)
    return std::nullopt;
  std::string_view dir = *rel;
  for (;;) {
    if (auto i = graph.find(std::string(dir)); i && !dir.empty())
      return i;
    if (dir.empty())
      return std::nullopt;
    dir = util::parent_path(dir);
  }
}

} // namespace mlrepo::project
