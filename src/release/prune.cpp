#include "mlrepo/release/prune.hpp"

#include "mlrepo/choose.hpp"
#include "mlrepo/tools.hpp"

#include "mlrepo/project/select.hpp"
#include "mlrepo/release/promote.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/process.hpp"
#include "mlrepo/util/timezone.hpp"
#include "mlrepo/util/units.hpp"
#include "mlrepo/workspace.hpp"

#include <algorithm>
#include <atomic>
#include <ctime>
#include <exception>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <spdlog/spdlog.h>
#include <thread>

namespace mlrepo::release {
namespace {

// fn(0..n-1) on up to eight threads: registries answer many small requests
// at once far faster than one after another. The first exception wins.
void parallel_for(size_t n, const std::function<void(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::exception_ptr error;
  std::mutex mutex;
  auto work = [&] {
    for (size_t i; (i = next++) < n;) {
      try {
        if (util::interrupted())
          throw Error(ExitCode::Interrupted, "interrupted");
        fn(i);
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!error)
          error = std::current_exception();
        next = n;
      }
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 0; t < std::min<size_t>(n, 8); ++t)
    pool.emplace_back(work);
  for (auto& t : pool)
    t.join();
  if (error)
    std::rethrow_exception(error);
}

bool all_hex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f'); });
}

// What the registry holds of one image beyond its tags.
struct Details {
  std::vector<std::vector<std::string>> layers; // per platform: layer digests, in order
  std::string created;
  std::string project_label; // dev.mlrepo.project
};

Details read_details(registry::Client& client, const registry::ImageName& repo, const std::string& digest) {
  Details d;
  registry::ImageName at = repo;
  at.reference = digest;
  auto manifest = nlohmann::json::parse(client.get_manifest(at).bytes, nullptr, false);
  if (manifest.is_discarded())
    return d;
  std::vector<nlohmann::json> images;
  if (manifest.contains("manifests") && manifest["manifests"].is_array()) {
    for (const auto& child : manifest["manifests"]) {
      at.reference = child.value("digest", "");
      if (at.reference.empty())
        continue;
      auto sub = nlohmann::json::parse(client.get_manifest(at).bytes, nullptr, false);
      if (!sub.is_discarded())
        images.push_back(std::move(sub));
    }
  } else {
    images.push_back(std::move(manifest));
  }
  for (const auto& m : images) {
    std::vector<std::string> layers;
    if (m.contains("layers") && m["layers"].is_array())
      for (const auto& l : m["layers"])
        layers.push_back(l.value("digest", ""));
    d.layers.push_back(std::move(layers));
    // The first platform's config says when the image was made.
    if (!d.created.empty() || !m.contains("config"))
      continue;
    std::string type = m["config"].value("mediaType", "");
    if (type.find("image.config") == std::string::npos && type.find("container.image") == std::string::npos)
      continue; // a build cache's or an artifact's config: no labels
    auto config = nlohmann::json::parse(client.get_blob(repo, m["config"].value("digest", "")), nullptr, false);
    if (config.is_discarded() || !config.contains("config") || !config["config"].is_object())
      continue;
    const auto& labels = config["config"].value("Labels", nlohmann::json::object());
    if (!labels.is_object())
      continue;
    d.created = labels.value("org.opencontainers.image.created", "");
    d.project_label = labels.value("dev.mlrepo.project", "");
  }
  return d;
}

// Every image of a repository: its tags grouped by digest, with details.
struct Inventory {
  std::vector<PruneImage> images; // newest first
  std::vector<Details> details;   // parallel to images
};

Inventory take_inventory(registry::Client& client, const std::string& repository) {
  Inventory inv;
  auto repo = registry::parse_image_name(repository + ":x");
  auto tags = client.list_tags(repo);
  std::vector<std::string> digests(tags.size());
  parallel_for(tags.size(), [&](size_t i) {
    registry::ImageName at = repo;
    at.reference = tags[i];
    if (auto found = client.head_manifest(at))
      digests[i] = found->digest; // a tag deleted meanwhile is skipped
  });
  std::map<std::string, std::vector<std::string>> by_digest;
  for (size_t i = 0; i < tags.size(); ++i)
    if (!digests[i].empty())
      by_digest[digests[i]].push_back(tags[i]);
  for (auto& [digest, names] : by_digest) {
    std::sort(names.begin(), names.end());
    PruneImage image;
    image.digest = digest;
    image.tags = names;
    inv.images.push_back(std::move(image));
  }
  inv.details.resize(inv.images.size());
  parallel_for(inv.images.size(), [&](size_t i) {
    inv.details[i] = read_details(client, repo, inv.images[i].digest);
    inv.images[i].created = inv.details[i].created;
    if (auto t = util::parse_iso8601(inv.details[i].created))
      inv.images[i].created_at = *t;
  });
  // Newest first; the same moment (one commit's images) in digest order.
  std::vector<size_t> order(inv.images.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (inv.images[a].created_at != inv.images[b].created_at)
      return inv.images[a].created_at > inv.images[b].created_at;
    return inv.images[a].digest < inv.images[b].digest;
  });
  Inventory sorted;
  for (size_t i : order) {
    sorted.images.push_back(std::move(inv.images[i]));
    sorted.details.push_back(std::move(inv.details[i]));
  }
  return sorted;
}

// Why a tag that prune may not remove keeps its image, and how much that
// reason says (a release says more than the moving tag beside it).
std::pair<int, std::string> protected_by(const std::string& tag, const config::WorkspaceConfig& ws) {
  if (parse_version(tag))
    return {5, "release " + tag};
  if (std::find(ws.default_branch_tags.begin(), ws.default_branch_tags.end(), tag) != ws.default_branch_tags.end())
    return {4, "default-branch tag " + tag};
  bool moving = !tag.empty() && std::all_of(tag.begin(), tag.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '.';
  });
  if (moving)
    return {3, "release line tag " + tag};
  if (tag == "buildcache")
    return {2, "the registry layer cache (buildcache)"};
  return {1, "tag " + tag};
}

bool is_prefix(const std::vector<std::string>& base, const std::vector<std::string>& of) {
  return !base.empty() && base.size() <= of.size() && std::equal(base.begin(), base.end(), of.begin());
}

// Whether `image` was built FROM `base`: some platform's layers of the image
// begin with some platform's layers of the base.
bool built_on(const Details& base, const Details& image) {
  for (const auto& b : base.layers)
    for (const auto& l : image.layers)
      if (is_prefix(b, l))
        return true;
  return false;
}

} // namespace

bool prunable_tag(const std::string& tag) {
  if (tag.rfind("content-", 0) == 0)
    return all_hex(std::string_view(tag).substr(8));
  std::string_view sha = tag;
  if (sha.size() == 46 && sha.substr(40) == "-dirty")
    sha = sha.substr(0, 40);
  return sha.size() == 40 && all_hex(sha);
}

namespace {

// 1. The default branch: its projects are the ones that exist, its config
//    names the registry and the retention settings.
View open_default_branch(const git::Repository& repo, const PruneOptions& opt, PruneOutcome& out) {
  View head = open_view(repo, std::nullopt, ViewOptions{.skip_invalid = true});
  out.default_branch = changes::default_branch_name(repo, head.config);
  auto ref = changes::default_branch_ref(repo, out.default_branch);
  if (!ref)
    throw EnvironmentError("cannot find the default branch '" + out.default_branch +
                               "' (neither refs/remotes/origin/" + out.default_branch + " nor refs/heads/" +
                               out.default_branch + "): prune keeps what its projects need",
                           "fetch it ('git fetch origin " + out.default_branch +
                               "'), or set 'default_branch:' in mlrepo.yaml");
  git_oid commit = repo.require_commit(*ref, "default branch");
  out.commit = git::oid_hex(commit);
  View view = open_view(repo, commit, ViewOptions{.skip_invalid = !opt.all});
  const auto& ws = view.config;
  if (ws.registry.empty())
    throw UsageError("prune deletes images from the registry, and the default branch's mlrepo.yaml sets no "
                     "'registry:'",
                     "add e.g. 'registry: ghcr.io/<owner>' to mlrepo.yaml");
  out.keep_last = opt.keep_last.value_or(ws.prune.keep_last);
  out.older_than_seconds = opt.older_than_seconds.value_or(ws.prune.older_than_seconds);
  out.dry_run = opt.dry_run;
  if (out.keep_last < 0)
    throw UsageError("--keep-last must be 0 or more");
  return view;
}

// 2. The projects (with --removed alone, none of the default branch's).
std::vector<size_t> projects_to_prune(const git::Repository& repo, const View& view, const PruneOptions& opt) {
  ProjectChoice choice = options_choice(opt.projects, opt.all, opt.cwd, nullptr);
  choice.here = !opt.removed;
  auto picked = choose_projects(repo, view, choice);
  if (!picked && !opt.removed)
    throw UsageError("which projects? Name them, or use --all (and --removed for projects that are gone)",
                     "e.g. 'mlrepo prune --all --dry-run' to see what would go");
  std::vector<size_t> chosen = picked.value_or(std::vector<size_t>{});
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

// 3. What the registry holds: the chosen projects, and everything built
//    FROM them (their kept images protect the bases they were built on).
std::map<size_t, Inventory> read_inventories(registry::Client& client, const project::Graph& graph,
                                             const std::vector<size_t>& chosen) {
  std::set<size_t> inspect(chosen.begin(), chosen.end());
  for (std::vector<size_t> todo(chosen.begin(), chosen.end()); !todo.empty();) {
    size_t i = todo.back();
    todo.pop_back();
    for (size_t d : graph.dependents(i))
      if (inspect.insert(d).second)
        todo.push_back(d);
  }
  std::map<size_t, Inventory> inventory;
  for (size_t i : inspect) {
    spdlog::info("==> {}: reading the tags of {}", graph.projects()[i].name, graph.projects()[i].image);
    inventory[i] = take_inventory(client, graph.projects()[i].image);
  }
  return inventory;
}

// 4. What stays, dependents first: a base's kept set needs theirs. Then the
//    chosen projects' images, each with its reason to stay or none.
void decide_what_stays(const View& view, const std::vector<size_t>& chosen, std::map<size_t, Inventory>& inventory,
                       const PruneOptions& opt, PruneOutcome& out) {
  const auto& graph = view.graph;
  const auto& ws = view.config;
  std::int64_t now = opt.now ? opt.now : static_cast<std::int64_t>(std::time(nullptr));
  std::set<size_t> is_chosen(chosen.begin(), chosen.end());
  auto order = graph.topological_order();
  std::reverse(order.begin(), order.end());
  for (size_t i : order) {
    if (!inventory.count(i))
      continue;
    auto& inv = inventory[i];
    for (size_t k = 0; k < inv.images.size(); ++k) {
      auto& image = inv.images[k]; // newest first: k images are newer
      if (!is_chosen.count(i)) {
        image.keep = "not being pruned";
        continue;
      }
      // The weightiest reason, when several tags protect it: a release first.
      int best = 0;
      for (const auto& t : image.tags)
        if (!prunable_tag(t)) {
          auto [weight, why] = protected_by(t, ws);
          if (weight > best) {
            best = weight;
            image.keep = why;
          }
        }
      if (!image.keep.empty())
        continue;
      if (k < static_cast<size_t>(out.keep_last)) {
        image.keep = "one of the newest " + std::to_string(out.keep_last);
        continue;
      }
      if (image.created_at == 0) {
        image.keep = "its age is unknown (no org.opencontainers.image.created label)";
        continue;
      }
      if (out.older_than_seconds > 0 && now - image.created_at < out.older_than_seconds) {
        image.keep = "younger than " + util::format_duration(out.older_than_seconds);
        continue;
      }
      // Built FROM by a kept image of a dependent (every image of one not
      // being pruned is kept): its layers start with ours.
      for (size_t d : graph.dependents(i)) {
        const auto& dep = inventory[d];
        for (size_t j = 0; j < dep.images.size() && image.keep.empty(); ++j)
          if (!dep.images[j].keep.empty() && built_on(inv.details[k], dep.details[j]))
            image.keep = "the base of a kept image of " + graph.projects()[d].name + " (" +
                         dep.images[j].digest.substr(0, 19) + ")";
      }
    }
  }
  for (size_t i : chosen) {
    const auto& p = graph.projects()[i];
    PruneProject project;
    project.name = p.name;
    project.repository = p.image;
    project.images = inventory[i].images;
    out.projects.push_back(std::move(project));
  }
}

// 5. --removed: repositories under the workspace's names that hold mlrepo
//    images of a project the default branch no longer has.
void add_removed_projects(const View& view, registry::Client& client, PruneOutcome& out) {
  const auto& graph = view.graph;
  const auto& ws = view.config;
  auto prefix = registry::parse_image_name(ws.registry + "/" + ws.image_prefix + "x:x");
  std::string host = prefix.registry;
  std::string path_prefix = prefix.repository.substr(0, prefix.repository.size() - 1);
  std::set<std::string> current;
  std::set<std::string> current_paths;
  for (const auto& p : graph.projects()) {
    current.insert(registry::parse_image_name(p.image + ":x").repository);
    current_paths.insert(p.path);
  }
  for (const auto& repository : client.list_repositories(host)) {
    if (repository.rfind(path_prefix, 0) != 0 || current.count(repository))
      continue;
    std::string full = (host == "docker.io" ? std::string("docker.io") : host) + "/" + repository;
    auto inv = take_inventory(client, full);
    // Only repositories that mlrepo built: a neighbour's images are not ours to delete.
    std::string path;
    for (const auto& d : inv.details)
      if (!d.project_label.empty())
        path = d.project_label;
    if (path.empty() || current_paths.count(path)) {
      spdlog::info("{}: left alone: {}", full,
                   path.empty() ? "no image in it has mlrepo's dev.mlrepo.project label"
                                : "its images name the project directory " + path + ", which still exists");
      continue;
    }
    PruneProject gone;
    gone.name = repository.substr(path_prefix.size());
    gone.repository = full;
    gone.removed = true;
    for (auto& image : inv.images) {
      for (const auto& t : image.tags)
        if (parse_version(t))
          image.keep = "release " + t;
      gone.images.push_back(std::move(image));
    }
    spdlog::info("==> {}: its project {} is gone from {}", full, path, out.default_branch);
    out.projects.push_back(std::move(gone));
  }
}

// 6. Delete, one manifest at a time, saying each as it lands.
void delete_images(registry::Client& client, const PruneOptions& opt, PruneOutcome& out) {
  size_t deleted = 0;
  for (auto& project : out.projects) {
    auto repo_name = registry::parse_image_name(project.repository + ":x");
    for (auto& image : project.images) {
      if (!image.keep.empty())
        continue;
      if (util::interrupted())
        throw Error(ExitCode::Interrupted, "interrupted after deleting " + std::to_string(deleted) + " images");
      registry::ImageName at = repo_name;
      at.reference = image.digest;
      try {
        client.delete_manifest(at);
      } catch (const registry::DeleteUnsupported& e) {
        throw registry::DeleteUnsupported(e.what() + std::string(deleted ? "; " + std::to_string(deleted) +
                                                                               " images were deleted before (listed above)"
                                                                         : "; nothing was deleted"),
                                          e.hint(), e.status());
      } catch (const registry::RegistryError& e) {
        throw registry::RegistryError(std::string(e.what()) + "; " + std::to_string(deleted) +
                                          " images were deleted before (listed above), the rest are untouched",
                                      e.hint().empty() ? "run mlrepo prune again once the registry is fixed"
                                                       : e.hint(),
                                      e.status());
      }
      image.deleted = true;
      ++deleted;
      if (opt.on_deleted)
        opt.on_deleted(project, image);
    }
  }
}

} // namespace

// The passes, in order.
PruneOutcome run_prune(const git::Repository& repo, const PruneOptions& opt, Tools& tools) {
  require_one_way({opt.all, !opt.projects.empty()}, "PROJECT... or --all");
  PruneOutcome out;
  View view = open_default_branch(repo, opt, out);
  auto chosen = projects_to_prune(repo, view, opt);
  auto& client = tools.registry(opt.client);
  auto inventory = read_inventories(client, view.graph, chosen);
  decide_what_stays(view, chosen, inventory, opt, out);
  if (opt.removed)
    add_removed_projects(view, client, out);
  if (!opt.dry_run)
    delete_images(client, opt, out);
  return out;
}

} // namespace mlrepo::release
