#include "mlrepo/project/worktree_cache.hpp"

#include "mlrepo/util/fs.hpp"
#include "mlrepo/util/serial.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <filesystem>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

namespace mlrepo::project {
namespace {

constexpr const char* kMagic = "mlrepo-worktree-discovery-1\n";
constexpr int64_t kRacyWindowNs = 2'000'000'000;

using Dependency = WorktreeCache::Dependency;

int64_t ns(const struct timespec& t) { return int64_t{t.tv_sec} * 1000000000 + t.tv_nsec; }

// What is at `path` now, as far as a dependency of kind `kind` can tell.
Dependency observe(const std::string& full, Dependency::Kind kind) {
  struct stat st;
  if (::lstat(full.c_str(), &st) != 0)
    return {Dependency::Kind::Absent};
  if (kind == Dependency::Kind::Present)
    return {Dependency::Kind::Present};
  return {Dependency::Kind::File, st.st_dev, st.st_ino, static_cast<uint64_t>(st.st_size),
          ns(st.st_mtim), ns(st.st_ctim)};
}

class RecordingSnapshot : public git::Snapshot {
public:
  RecordingSnapshot(std::unique_ptr<git::Snapshot> inner, std::string root,
                    std::shared_ptr<std::map<std::string, Dependency>> seen, std::shared_ptr<bool> unsure)
      : inner_(std::move(inner)), root_(std::move(root)), seen_(std::move(seen)), unsure_(std::move(unsure)) {}

  std::vector<std::string>
  dirs_containing(std::string_view file_name,
                  const std::function<bool(std::string_view)>& prune) const override {
    return inner_->dirs_containing(file_name, prune);
  }

  std::optional<std::string> read(std::string_view path) const override {
    std::string full = root_ + "/" + std::string(path);
    Dependency before = observe(full, Dependency::Kind::File);
    auto content = inner_->read(path);
    if (!(observe(full, Dependency::Kind::File) == before))
      *unsure_ = true; // changed while being read
    note(path, before); // whatever is there (a directory, a link) decides the answer too
    note_source(path);
    return content;
  }

  bool exists(std::string_view path) const override {
    bool there = inner_->exists(path);
    note(path, {there ? Dependency::Kind::Present : Dependency::Kind::Absent});
    note_source(path);
    return there;
  }

  std::string read_from(std::string_view path) const override { return inner_->read_from(path); }

  std::string where() const override { return inner_->where(); }

private:
  // Keyed by its absolute path: repository paths never start with '/'.
  void note_source(std::string_view path) const {
    if (auto source = inner_->read_from(path); !source.empty())
      note(source, observe(source, Dependency::Kind::File));
  }

  void note(std::string_view path, const Dependency& d) const {
    auto [it, fresh] = seen_->try_emplace(std::string(path), d);
    if (!fresh && it->second.kind == Dependency::Kind::Present && d.kind == Dependency::Kind::File)
      it->second = d; // asked whether it exists, then read: the read says more
  }

  std::unique_ptr<git::Snapshot> inner_;
  std::string root_;
  std::shared_ptr<std::map<std::string, Dependency>> seen_;
  std::shared_ptr<bool> unsure_;
};

} // namespace

// One lstat per dependency, spread over the cores: path lookups in the
// kernel are the whole cost.
bool WorktreeCache::unchanged(const std::vector<std::pair<std::string, Dependency>>& deps) const {
  std::atomic<bool> same{true};
  auto check = [&](size_t lo, size_t hi) {
    for (size_t k = lo; k < hi && same; ++k) {
      const std::string& key = deps[k].first;
      std::string full = !key.empty() && key.front() == '/' ? key : root_ + "/" + key;
      if (!(observe(full, deps[k].second.kind) == deps[k].second)) {
        spdlog::debug("work-tree discovery cache: {} changed", deps[k].first);
        same = false;
      }
    }
  };
  size_t threads = deps.size() < 4096 ? 1 : std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 8);
  size_t chunk = (deps.size() + threads - 1) / threads;
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t)
    pool.emplace_back(check, std::min(deps.size(), t * chunk), std::min(deps.size(), (t + 1) * chunk));
  check(0, std::min(deps.size(), chunk));
  for (auto& t : pool)
    t.join();
  return same;
}

WorktreeCache::WorktreeCache(std::string file, std::string root)
    : file_(std::move(file)), root_(std::move(root)),
      started_ns_(std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count()),
      seen_(std::make_shared<std::map<std::string, Dependency>>()), unsure_(std::make_shared<bool>(false)) {}

std::unique_ptr<git::Snapshot> WorktreeCache::recording(std::unique_ptr<git::Snapshot> inner) {
  return std::make_unique<RecordingSnapshot>(std::move(inner), root_, seen_, unsure_);
}

std::optional<std::string> WorktreeCache::load(const std::vector<std::string>& dirs) const {
  if (file_.empty())
    return std::nullopt;
  auto data = util::read_file(file_);
  if (!data)
    return std::nullopt;
  auto payload = util::unframe(kMagic, *data);
  if (!payload)
    return std::nullopt;
  auto entry = decode(*payload, &dirs);
  if (!entry || !unchanged(entry->deps))
    return std::nullopt;
  return std::move(entry->discovery);
}

std::optional<WorktreeCache::Entry> WorktreeCache::decode(std::string_view payload,
                                                          const std::vector<std::string>* dirs) {
  util::ByteReader r(payload);
  auto stored = r.strings();
  if (!r.ok() || (dirs && stored != *dirs))
    return std::nullopt;
  std::vector<std::pair<std::string, Dependency>> deps;
  for (size_t n = r.bounded(r.u()); n > 0 && r.ok(); --n) {
    std::string path = r.s();
    Dependency d{static_cast<Dependency::Kind>(r.u() % 3)};
    if (d.kind == Dependency::Kind::File) {
      d.dev = r.u();
      d.ino = r.u();
      d.size = r.u();
      d.mtime_ns = static_cast<int64_t>(r.u());
      d.ctime_ns = static_cast<int64_t>(r.u());
    }
    deps.emplace_back(std::move(path), d);
  }
  if (!r.ok())
    return std::nullopt;
  std::string discovery = r.s();
  if (!r.ok() || !r.done())
    return std::nullopt;
  return Entry{std::move(deps), std::move(discovery)};
}

void WorktreeCache::store(const std::vector<std::string>& dirs, const std::string& discovery) const {
  if (file_.empty() || *unsure_)
    return;
  util::ByteWriter w;
  w.strings(dirs);
  w.u(seen_->size());
  for (const auto& [path, d] : *seen_) {
    // Changed too recently to be sure a later change would move the times.
    if (d.kind == Dependency::Kind::File &&
        (d.mtime_ns >= started_ns_ - kRacyWindowNs || d.ctime_ns >= started_ns_ - kRacyWindowNs))
      return;
    w.s(path);
    w.u(static_cast<uint64_t>(d.kind));
    if (d.kind == Dependency::Kind::File) {
      w.u(d.dev);
      w.u(d.ino);
      w.u(d.size);
      w.u(static_cast<uint64_t>(d.mtime_ns));
      w.u(static_cast<uint64_t>(d.ctime_ns));
    }
  }
  w.s(discovery);
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(file_).parent_path(), ec);
  try {
    util::write_file_atomic(file_, util::frame(kMagic, w.out));
  } catch (const std::exception& e) {
    spdlog::debug("cannot write the work-tree discovery cache: {}", e.what());
  }
}

} // namespace mlrepo::project
