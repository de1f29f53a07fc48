#include "mlrepo/scaffold/scaffold.hpp"

#include "builtin_templates.hpp"
#include "mlrepo/ci/sync.hpp"
#include "mlrepo/ci/workflow.hpp"
#include "mlrepo/changes/selection.hpp"
#include "mlrepo/project/discovery.hpp"
#include "mlrepo/project/naming.hpp"
#include "mlrepo/project/select.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"
#include "mlrepo/util/text.hpp"
#include "mlrepo/workspace.hpp"

#include <filesystem>
#include <sys/stat.h>
#include <spdlog/spdlog.h>

namespace mlrepo::scaffold {

namespace fs = std::filesystem;

namespace {

constexpr const char* kRepoTemplates = ".mlrepo/templates";

Template load_repo_template(const fs::path& dir) {
  Template t;
  t.name = dir.filename().string();
  t.description = "repository template (" + std::string(kRepoTemplates) + "/" + t.name + ")";
  t.builtin = false;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (ec)
      break;
    if (it->is_symlink() || !it->is_regular_file())
      continue;
    auto content = util::read_file(it->path());
    if (!content)
      throw EnvironmentError("cannot read template file " + it->path().string());
    t.files.push_back({fs::relative(it->path(), dir).generic_string(), *content});
  }
  std::sort(t.files.begin(), t.files.end(), [](auto& a, auto& b) { return a.path < b.path; });
  return t;
}

std::string module_name(const std::string& name) {
  std::string out;
  for (char c : name)
    out += (c == '-' || c == '.') ? '_' : c;
  if (!out.empty() && std::isdigit(static_cast<unsigned char>(out[0])))
    out.insert(0, "p");
  return out;
}

// Undoes a half-made project: removes what was created, deepest first.
class Rollback {
public:
  void created(fs::path p) { paths_.push_back(std::move(p)); }
  void commit() { paths_.clear(); }
  ~Rollback() {
    std::error_code ec;
    for (auto it = paths_.rbegin(); it != paths_.rend(); ++it)
      fs::remove_all(*it, ec);
  }

private:
  std::vector<fs::path> paths_;
};

} // namespace

std::vector<Template> available_templates(const git::Repository& repo) {
  auto out = builtin_templates();
  fs::path dir = fs::path(repo.workdir()) / kRepoTemplates;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return out;
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_directory() && !e.is_symlink())
      dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  for (const auto& d : dirs) {
    auto t = load_repo_template(d);
    auto same = std::find_if(out.begin(), out.end(), [&](const Template& b) { return b.name == t.name; });
    if (same != out.end())
      *same = std::move(t);
    else
      out.push_back(std::move(t));
  }
  return out;
}

std::string fill(std::string_view text, const std::map<std::string, std::string>& values) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find("{{", i);
    if (open == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    std::string_view key = text.substr(open + 2, close - open - 2);
    while (!key.empty() && key.front() == ' ')
      key.remove_prefix(1);
    while (!key.empty() && key.back() == ' ')
      key.remove_suffix(1);
    out.append(text.substr(i, open - i));
    auto it = values.find(std::string(key));
    if (it != values.end())
      out += it->second;
    else
      out.append(text.substr(open, close + 2 - open)); // not ours (e.g. ${{ }} in a workflow)
    i = close + 2;
  }
  return out;
}

NewResult create_project(const git::Repository& repo, const NewOptions& opt) {
  const std::string& workdir = repo.workdir();
  // Where: a path relative to the current directory, inside the repository.
  auto rel = opt.target.empty() ? std::nullopt : project::repo_relative(opt.target, opt.cwd, workdir);
  if (!rel || rel->empty())
    throw UsageError("'" + opt.target + "' is not a place inside the repository",
                     "name a new directory below " + workdir);
  const std::string path = *rel;
  for (std::string_view part = path; !part.empty();) {
    auto slash = part.find('/');
    auto comp = part.substr(0, slash);
    if (comp == ".git")
      throw UsageError("'" + path + "' is inside .git", "choose a directory outside .git");
    if (comp.front() == '.')
      throw UsageError("'" + path + "' is inside a directory starting with '.', which mlrepo never "
                       "searches for projects",
                       "choose a path without hidden directories");
    part = slash == std::string_view::npos ? std::string_view{} : part.substr(slash + 1);
  }
  if (fs::exists(fs::symlink_status(fs::path(workdir) / path)))
    throw UsageError("'" + path + "' already exists", "choose a new directory for the project");

  // Another directory's problem is not this new project's: it is left out with a warning.
  View view = open_view(repo, std::nullopt, ViewOptions{.skip_invalid = true});
  for (std::string_view d = path; !d.empty(); d = util::parent_path(d))
    if (project::is_pruned(d, view.config))
      throw UsageError("'" + path + "' is excluded by 'exclude:' in mlrepo.yaml, so it would never "
                       "be a project",
                       "choose another path, or change 'exclude:'");
  std::string name = project::default_name(path, view.config.name_from);
  if (!project::valid_image_name(name))
    throw UsageError("'" + name + "' (from '" + path + "') is not a valid image name",
                     "use lowercase letters and digits, separated by '.', '_', '__' or '-' (e.g. "
                     "churn-model)");
  for (const auto& p : view.graph.projects())
    if (p.name == name)
      throw UsageError("a project named '" + name + "' already exists at '" + p.path + "'",
                       "choose another name");
  bool version_ok = !opt.python_version.empty();
  for (char c : opt.python_version)
    version_ok = version_ok && (std::isdigit(static_cast<unsigned char>(c)) || c == '.');
  if (!version_ok)
    throw UsageError("--python-version '" + opt.python_version + "' is not a version like 3.11");

  auto templates = available_templates(repo);
  auto tmpl = std::find_if(templates.begin(), templates.end(),
                           [&](const Template& t) { return t.name == opt.template_name; });
  if (tmpl == templates.end()) {
    std::string names;
    std::vector<std::string> all;
    for (const auto& t : templates) {
      names += (names.empty() ? "" : ", ") + t.name;
      all.push_back(t.name);
    }
    // By meaning first (what people call a notebook image), then by spelling.
    static const std::map<std::string, std::string> kMeant{{"jupyter", "notebook"}, {"jupyterlab", "notebook"},
                                                           {"ipython", "notebook"}, {"lab", "notebook"},
                                                           {"py", "python"}, {"python3", "python"}};
    std::optional<std::string> guess;
    if (auto it = kMeant.find(opt.template_name);
        it != kMeant.end() && std::find(all.begin(), all.end(), it->second) != all.end())
      guess = it->second;
    else
      guess = util::closest(opt.template_name, all, std::max<size_t>(2, opt.template_name.size() / 3));
    throw UsageError("unknown template '" + opt.template_name + "'",
                     (guess ? "did you mean '--template " + *guess + "'? " : std::string()) +
                         "available templates: " + names + " ('mlrepo new --list-templates' describes them)");
  }
  std::map<std::string, std::string> values{{"name", name},
                                            {"path", path},
                                            {"module", module_name(name)},
                                            {"python_version", opt.python_version}};

  // Build the project beside its final place, then move it in with one rename.
  Rollback rollback;
  fs::path target = fs::path(workdir) / path;
  fs::path first_missing = target.parent_path();
  while (!fs::exists(first_missing.parent_path()) && first_missing.parent_path() != first_missing)
    first_missing = first_missing.parent_path();
  if (!fs::exists(target.parent_path())) {
    rollback.created(first_missing);
    fs::create_directories(target.parent_path());
  }
  std::string staging_tmpl = (target.parent_path() / ".mlrepo-new-XXXXXX").string();
  std::vector<char> buf(staging_tmpl.begin(), staging_tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data()))
    throw EnvironmentError("cannot create a directory in " + target.parent_path().string());
  fs::path staging(buf.data());
  rollback.created(staging);
  // mkdtemp makes it private; the project gets the permissions of a mkdir.
  mode_t mask = ::umask(0);
  ::umask(mask);
  fs::permissions(staging, static_cast<fs::perms>(0777 & ~mask));

  NewResult result;
  result.name = name;
  result.path = path;
  for (const auto& f : tmpl->files) {
    auto file_rel = util::normalize_repo_path(fill(f.path, values));
    if (!file_rel || file_rel->empty())
      throw UsageError("template '" + tmpl->name + "' has a file path leaving the project: " + f.path);
    fs::path dest = staging / *file_rel;
    fs::create_directories(dest.parent_path());
    util::write_file_atomic(dest, fill(f.content, values));
    result.files.push_back(util::join_path(path, *file_rel));
  }
  if (!std::any_of(result.files.begin(), result.files.end(),
                   [&](const std::string& f) { return f == util::join_path(path, "Dockerfile"); }))
    throw UsageError("template '" + tmpl->name + "' has no Dockerfile at its top", "add one to the template");
  fs::rename(staging, target);
  rollback.created(target);

  if (opt.ci) {
    View after = open_view(repo, std::nullopt, ViewOptions{.skip_invalid = true});
    ci::GenerateOptions go;
    go.mode = after.config.ci.mode;
    go.default_branch = changes::default_branch_name(repo, after.config);
    go.pipelines = pipeline::make_plans(after);
    auto files = ci::generate_workflows(after.graph, after.config, *after.snapshot, go);
    std::string mine = go.mode == config::CiMode::Matrix
                           ? std::string(ci::kWorkflowDir) + "/mlrepo.yml"
                           : std::string(ci::kWorkflowDir) + "/mlrepo-" + name + ".yml";
    for (const auto& f : files)
      if (f.path == mine) {
        bool existed = fs::exists(fs::path(workdir) / f.path);
        auto report = ci::sync_workflows(workdir, {f}, false, /*prune=*/false);
        if (!existed)
          rollback.created(fs::path(workdir) / f.path);
        result.workflow = f.path;
      }
  }
  rollback.commit();
  return result;
}

} // namespace mlrepo::scaffold
