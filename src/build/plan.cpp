#include "mlrepo/build/plan.hpp"

#include "mlrepo/build/content.hpp"
#include "mlrepo/changes/changes.hpp"
#include "mlrepo/project/dockerfile.hpp"
#include "mlrepo/project/identity.hpp"
#include "mlrepo/util/glob.hpp"
#include "mlrepo/project/naming.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"

#include <algorithm>
#include <ctime>
#include <set>

namespace mlrepo::build {
namespace {

constexpr size_t kContentHexLength = 20;

std::string hash_text(const std::string& text) { return git::blob_hash(text); }

std::string rfc3339(git_time_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

} // namespace

std::string expand_tag(std::string tmpl, const std::string& branch, const std::string& short_sha) {
  for (auto [ph, value] : {std::pair<const char*, const std::string*>{"{branch}", &branch},
                           {"{short_sha}", &short_sha}})
    for (size_t pos; (pos = tmpl.find(ph)) != std::string::npos;)
      tmpl.replace(pos, std::string(ph).size(), *value);
  return tmpl;
}

std::string tag_safe(std::string_view branch) {
  std::string out;
  for (char c : branch)
    out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-') ? c : '-';
  while (!out.empty() && (out[0] == '.' || out[0] == '-'))
    out.erase(0, 1);
  if (out.size() > 128)
    out.resize(128);
  return out;
}

std::vector<PlanItem> make_plan(const git::Repository& repo, const config::WorkspaceConfig& ws,
                                const project::Graph& graph, const std::vector<size_t>& chosen,
                                const PlanInputs& inputs) {
  const auto& projects = graph.projects();
  const project::ImageIndex images(projects, ws);
  auto head = inputs.commit ? inputs.commit : repo.resolve_commit("HEAD");
  if (!head)
    throw UsageError("the repository has no commits yet", "commit your projects, then build");
  auto head_tree = repo.commit_tree(*head);
  std::string sha = git::oid_hex(*head);
  std::string created = rfc3339(repo.commit_time(*head));

  // The chosen projects and everything they depend on.
  std::vector<bool> wanted(projects.size(), false), requested(projects.size(), false);
  std::vector<size_t> stack(chosen.begin(), chosen.end());
  for (size_t i : chosen)
    requested[i] = true;
  while (!stack.empty()) {
    size_t i = stack.back();
    stack.pop_back();
    if (wanted[i])
      continue;
    wanted[i] = true;
    for (size_t d : graph.dependencies(i))
      stack.push_back(d);
  }

  ContentIds content(repo, head_tree.get(),
                     inputs.commit ? std::vector<git::WorktreeChange>{} : changes::uncommitted_changes(repo, *head));
  auto read = [&](const std::string& path) {
    return inputs.snapshot ? inputs.snapshot->read(path) : util::read_file(repo.workdir() + "/" + path);
  };

  std::vector<PlanItem> plan;
  std::map<size_t, size_t> plan_index; // graph index -> plan index
  for (size_t i : graph.topological_order()) {
    if (!wanted[i])
      continue;
    const auto& p = projects[i];
    PlanItem item;
    item.project = i;
    item.name = p.name;
    item.requested = requested[i];
    item.dockerfile = p.dockerfile;
    item.context = p.context;
    item.build_args = p.config->build_args;
    if (item.requested)
      for (const auto& [k, v] : inputs.build_arg_overrides)
        item.build_args[k] = v;
    item.target = p.config->target;
    item.platforms = p.config->platforms;
    item.secrets = p.config->secrets;

    // Everything that defines the image, one line each, then hashed: what
    // the build can see (the same bytes give the same ids committed or not;
    // what the context's .dockerignore leaves out does not count).
    std::vector<std::string> inputs_paths{p.path};
    for (const auto& d : graph.path_dependencies(i))
      inputs_paths.push_back(d.glob ? util::glob_base(d.path) : d.path);
    std::string manifest = "mlrepo-content-v3\n";
    const auto ignore_file = project::read_dockerignore(p, read);
    item.ignore_file = ignore_file.path;
    item.dockerfile_ignore = ignore_file.dockerfile_specific;
    for (const auto& path : inputs_paths) {
      manifest += "input " + path + " " + content.id(path, &ignore_file.rules, p.context) + "\n";
      item.dirty |= content.last_used_uncommitted();
    }
    // What defines the image whatever .dockerignore says (project::always_seen):
    // Docker reads the Dockerfile anyway, the config holds the build settings,
    // and the ignore files decide what the build sees. The Dockerfile's own
    // ignore file has a line only when it exists, so images without one keep
    // the content tags they had.
    std::vector<std::pair<const char*, std::string>> defining{
        {"dockerfile", p.dockerfile},
        {"config", util::join_path(p.path, config::kConfigFile)},
        {"dockerignore", project::context_dockerignore_path(p)}};
    if (ignore_file.dockerfile_specific)
      defining.emplace_back("dockerignore", ignore_file.path);
    for (const auto& [kind, path] : defining) {
      manifest += std::string(kind) + " " + path + " " + content.id(path, nullptr, p.context) + "\n";
      item.dirty |= content.last_used_uncommitted();
    }
    manifest += "context " + p.context + "\n";
    for (const auto& [k, v] : item.build_args)
      manifest += "build_arg " + k + "=" + v + "\n";
    manifest += "target " + p.config->target.value_or("") + "\n";
    for (const auto& [id, var] : item.secrets)
      manifest += "secret " + id + "\n"; // which secrets, never their values
    for (const auto& pl : p.config->platforms)
      manifest += "platform " + pl + "\n";
    std::vector<std::pair<std::string, size_t>> deps;
    for (size_t d : graph.dependencies(i))
      deps.emplace_back(projects[d].name, plan_index.at(d));
    std::sort(deps.begin(), deps.end());
    for (const auto& [name, pi] : deps) {
      manifest += "base " + name + " " + plan[pi].content_hash + "\n";
      item.deps.push_back(pi);
      item.dirty = item.dirty || plan[pi].dirty; // its base differs from the commit's
    }
    item.content_hash = hash_text(manifest).substr(0, kContentHexLength);
    item.content_ref = p.image + ":content-" + item.content_hash;
    item.cache_ref = p.image + ":buildcache";

    item.tags.push_back(item.content_ref);
    item.tags.push_back(p.image + ":" + sha + (item.dirty ? "-dirty" : ""));
    std::string branch = inputs.branch ? tag_safe(*inputs.branch) : "";
    std::vector<std::string> extra = ws.tags;
    if (inputs.on_default_branch)
      extra.insert(extra.end(), ws.default_branch_tags.begin(), ws.default_branch_tags.end());
    for (const auto& tmpl : extra) {
      if (tmpl.find("{branch}") != std::string::npos && branch.empty())
        continue; // detached HEAD: no branch to name
      std::string tag = expand_tag(tmpl, branch, sha.substr(0, 12));
      if (item.dirty) {
        // A branch or `latest` tag on uncommitted work would hand everyone
        // who pulls it a local hack: the content and -dirty tags only.
        item.withheld_tags.push_back(tag);
        continue;
      }
      tag = p.image + ":" + tag;
      if (std::find(item.tags.begin(), item.tags.end(), tag) == item.tags.end())
        item.tags.push_back(tag);
    }

    item.labels = {{"org.opencontainers.image.revision", sha},
                   {"org.opencontainers.image.created", created},
                   {"org.opencontainers.image.title", p.name},
                   {"dev.mlrepo.project", p.path},
                   {"dev.mlrepo.content", item.content_hash}};
    if (!inputs.source_url.empty())
      item.labels["org.opencontainers.image.source"] = inputs.source_url;

    // FROM lines naming a dependency must resolve to what we build.
    if (auto text = read(p.dockerfile)) {
      for (const auto& use : project::image_uses(*text, item.build_args)) {
        if (use.pinned)
          continue;
        auto target = images.find(project::parse_reference(use.reference).repository);
        for (const auto& [name, pi] : deps)
          if (target == plan[pi].project) {
            std::string ref = use.reference;
            // An untagged reference means :latest to Docker.
            auto parsed = project::parse_reference(ref);
            if (parsed.repository == ref)
              ref += ":latest";
            item.from_refs.emplace_back(ref, pi);
          }
      }
    }
    plan_index[i] = plan.size();
    plan.push_back(std::move(item));
  }
  return plan;
}

} // namespace mlrepo::build
