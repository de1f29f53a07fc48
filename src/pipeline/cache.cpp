#include "mlrepo/pipeline/cache.hpp"

#include "mlrepo/git/handles.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <system_error>
#include <unistd.h>

namespace mlrepo::pipeline {
namespace fs = std::filesystem;
namespace {

constexpr const char* kEntryFile = "entry.json";

// A name no other writer (thread or process) uses at the same time.
std::string unique_suffix() {
  static std::atomic<int> counter{0};
  return std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

void hash_tree(const fs::path& root, const fs::path& dir, std::string& listing) {
  std::vector<fs::directory_entry> entries;
  for (const auto& e : fs::directory_iterator(dir))
    entries.push_back(e);
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.path().filename() < b.path().filename(); });
  for (const auto& e : entries) {
    auto rel = fs::relative(e.path(), root).generic_string();
    auto st = e.symlink_status();
    if (fs::is_symlink(st)) {
      listing += "link " + rel + " " + fs::read_symlink(e.path()).generic_string() + "\n";
    } else if (fs::is_directory(st)) {
      listing += "dir " + rel + "\n";
      hash_tree(root, e.path(), listing);
    } else if (fs::is_regular_file(st)) {
      bool exec = (st.permissions() & fs::perms::owner_exec) != fs::perms::none;
      listing += std::string(exec ? "exec " : "file ") + rel + " " + git::file_blob_hash(e.path().string()) + "\n";
    } else {
      listing += "other " + rel + "\n"; // a socket or fifo: its name is all there is
    }
  }
}

} // namespace

StepCache::StepCache(fs::path dir) : dir_(std::move(dir)) {}

std::optional<CacheEntry> StepCache::find(const std::string& key) const {
  auto entry = dir_ / key;
  auto text = util::read_file(entry / kEntryFile);
  if (!text)
    return std::nullopt;
  CacheEntry out;
  out.outputs_dir = (entry / "outputs").string();
  try {
    auto j = nlohmann::json::parse(*text);
    for (const auto& [name, hash] : j.at("outputs").items())
      out.content[name] = hash.get<std::string>();
  } catch (const nlohmann::json::exception&) {
    return std::nullopt; // unreadable: as if absent, and the next success replaces it
  }
  std::error_code ec;
  fs::last_write_time(entry, fs::file_time_type::clock::now(), ec); // last used, for prune
  return out;
}

CacheEntry StepCache::store(const std::string& key, const fs::path& outputs_dir, const std::vector<std::string>& names,
                            const std::string& about) {
  fs::create_directories(dir_);
  CacheEntry out;
  nlohmann::ordered_json outputs = nlohmann::ordered_json::object();
  for (const auto& name : names) {
    out.content[name] = tree_hash(outputs_dir / name);
    outputs[name] = out.content[name];
  }
  // Built beside the entry, then renamed into place: a reader sees a whole
  // entry or none, and a crash leaves only a .partial directory behind.
  auto partial = dir_ / (key + ".partial-" + unique_suffix());
  fs::create_directories(partial);
  fs::rename(outputs_dir, partial / "outputs");
  nlohmann::ordered_json entry{{"outputs", outputs}, {"about", about}};
  util::write_file_atomic(partial / kEntryFile, entry.dump(2) + "\n");
  auto final_dir = dir_ / key;
  std::error_code ec;
  fs::rename(partial, final_dir, ec);
  if (ec) {
    // An entry is there (an earlier run, or --no-cache running it again):
    // the new one replaces it.
    auto old = dir_ / (key + ".old-" + unique_suffix());
    fs::rename(final_dir, old, ec);
    fs::rename(partial, final_dir);
    fs::remove_all(old, ec);
  }
  out.outputs_dir = (final_dir / "outputs").string();
  return out;
}

namespace {

std::uintmax_t size_of(const fs::path& dir) {
  std::uintmax_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (it->is_regular_file(ec) && !it->is_symlink(ec))
      total += it->file_size(ec);
  return total;
}

bool old_enough(const fs::path& p, std::optional<std::int64_t> older_than_seconds) {
  if (!older_than_seconds)
    return true;
  std::error_code ec;
  auto when = fs::last_write_time(p, ec);
  if (ec)
    return false;
  return fs::file_time_type::clock::now() - when > std::chrono::seconds(*older_than_seconds);
}

void remove(const fs::path& p, bool dry_run) {
  if (dry_run)
    return;
  std::error_code ec;
  fs::remove_all(p, ec);
  if (ec)
    throw EnvironmentError("cannot remove " + p.string() + ": " + ec.message(),
                           "a step's container may have written files only root can remove: "
                           "sudo rm -rf " + p.string());
}

} // namespace

CachePrune prune_pipeline_cache(const fs::path& pipelines_dir, std::optional<std::int64_t> older_than_seconds,
                                bool dry_run) {
  CachePrune out;
  std::error_code ec;
  auto cache = pipelines_dir / "cache";
  if (fs::is_directory(cache)) {
    std::vector<fs::path> entries;
    for (const auto& e : fs::directory_iterator(cache, ec))
      entries.push_back(e.path());
    std::sort(entries.begin(), entries.end());
    for (const auto& e : entries) {
      if (!old_enough(e, older_than_seconds))
        continue;
      std::string about = "left by an interrupted run";
      if (auto text = util::read_file(e / kEntryFile)) {
        try {
          about = nlohmann::json::parse(*text).at("about").get<std::string>();
        } catch (const nlohmann::json::exception&) {
          about = "unreadable entry";
        }
      }
      out.entries.push_back({e.string(), about, size_of(e)});
      remove(e, dry_run);
    }
  }
  auto runs = pipelines_dir / "runs";
  if (fs::is_directory(runs))
    for (const auto& pipeline : fs::directory_iterator(runs, ec)) {
      std::vector<fs::path> dirs;
      for (const auto& run : fs::directory_iterator(pipeline.path(), ec))
        dirs.push_back(run.path());
      std::sort(dirs.begin(), dirs.end());
      for (const auto& run : dirs)
        if (old_enough(run, older_than_seconds)) {
          out.runs.push_back({run.string(), "pipeline " + pipeline.path().filename().string(), size_of(run)});
          remove(run, dry_run);
        }
    }
  return out;
}

std::string tree_hash(const fs::path& dir) {
  std::string listing;
  if (fs::is_directory(dir))
    hash_tree(dir, dir, listing);
  return git::blob_hash(listing);
}

std::string step_key(const KeyInputs& k) {
  nlohmann::ordered_json j;
  j["v"] = 1;
  j["image"] = k.image_digest;
  j["command"] = k.command;
  j["args"] = k.args;
  j["env"] = k.env;
  j["secrets"] = k.secret_names;
  nlohmann::ordered_json params = nlohmann::ordered_json::object();
  for (const auto& [name, value] : k.params)
    params[name] = value;
  j["params"] = params;
  j["outputs"] = k.outputs;
  j["inputs"] = k.inputs;
  return git::blob_hash(j.dump());
}

} // namespace mlrepo::pipeline
