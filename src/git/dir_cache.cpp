#include "dir_cache.hpp"

#include "mlrepo/util/fs.hpp"
#include "mlrepo/util/serial.hpp"

#include <algorithm>
#include <thread>
#include <chrono>
#include <dirent.h>
#include <filesystem>

namespace mlrepo::git {
namespace {

int64_t ns(const struct timespec& t) { return int64_t{t.tv_sec} * 1000000000 + t.tv_nsec; }

constexpr int64_t kRacyWindowNs = 2'000'000'000;

} // namespace

uint64_t name_hash(std::string_view name) {
  uint64_t h = 1469598103934665603ull; // FNV-1a, then a finaliser so sums mix well
  for (unsigned char c : name)
    h = (h ^ c) * 1099511628211ull;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

bool list_directory(DirCache& cache, const std::string& full, const std::string& rel,
                    std::string_view file_name, DirListing& out, std::vector<std::string>* file_names) {
  if (!file_names)
    if (const DirListing* hit = cache.confirmed(rel)) {
      out = *hit;
      cache.keep(rel, out);
      return true;
    }
  struct stat st;
  if (::lstat(full.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return false; // vanished or unreadable: git would not see it either
  if (!file_names)
    if (const DirListing* hit = cache.find(rel, st)) {
      out = *hit;
      cache.keep(rel, out);
      return true;
    }
  DIR* dir = ::opendir(full.c_str());
  if (!dir)
    return false;
  out = DirCache::identity(st);
  while (dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name == "." || name == ".." || name == ".git")
      continue;
    unsigned char type = entry->d_type;
    if (type == DT_UNKNOWN) {
      struct stat est;
      if (::lstat((full + "/" + entry->d_name).c_str(), &est) != 0)
        continue;
      type = S_ISDIR(est.st_mode) ? DT_DIR : S_ISREG(est.st_mode) ? DT_REG : DT_LNK;
    }
    if (type == DT_DIR) {
      out.subdirs.emplace_back(name);
      continue;
    }
    if (type == DT_REG && name == file_name)
      out.has_file = true;
    ++out.files_count;
    out.files_sum += name_hash(name);
    if (file_names)
      file_names->emplace_back(name);
  }
  ::closedir(dir);
  std::sort(out.subdirs.begin(), out.subdirs.end());
  cache.keep(rel, out);
  return true;
}

DirListing DirCache::identity(const struct stat& st) {
  DirListing d;
  d.dev = st.st_dev;
  d.ino = st.st_ino;
  d.mtime_ns = ns(st.st_mtim);
  d.ctime_ns = ns(st.st_ctim);
  return d;
}

DirCache::DirCache(std::string path, std::string_view file_name)
    : path_(std::move(path)), magic_("mlrepo-dirs-2 " + std::string(file_name) + "\n"),
      started_ns_(std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count()) {
  if (path_.empty())
    return;
  auto data = util::read_file(path_);
  if (!data)
    return;
  auto payload = util::unframe(magic_, *data);
  if (!payload)
    return;
  util::ByteReader r(*payload);
  for (size_t n = r.bounded(r.u()); n > 0 && r.ok(); --n) {
    std::string dir = r.s();
    DirListing d;
    d.dev = r.u();
    d.ino = r.u();
    d.mtime_ns = static_cast<int64_t>(r.u());
    d.ctime_ns = static_cast<int64_t>(r.u());
    d.has_file = r.u() != 0;
    d.subdirs = r.strings();
    d.files_count = r.u();
    d.files_sum = r.u();
    old_.emplace(std::move(dir), std::move(d));
  }
  if (!r.ok() || !r.done())
    old_.clear(); // damaged: read every directory again
}

const DirListing* DirCache::find(const std::string& dir, const struct stat& st) const {
  auto it = old_.find(dir);
  if (it == old_.end())
    return nullptr;
  const DirListing& d = it->second;
  DirListing now = identity(st);
  if (d.dev != now.dev || d.ino != now.ino || d.mtime_ns != now.mtime_ns || d.ctime_ns != now.ctime_ns)
    return nullptr;
  return &d;
}

void DirCache::confirm_all(const std::string& root) {
  std::vector<DirListing*> listings;
  std::vector<const std::string*> dirs;
  for (auto& [dir, listing] : old_) {
    dirs.push_back(&dir);
    listings.push_back(&listing);
  }
  // One lstat per directory, spread over the cores: each thread writes only
  // its own listings' flags.
  auto confirm = [&](size_t lo, size_t hi) {
    std::string full;
    for (size_t k = lo; k < hi; ++k) {
      full = dirs[k]->empty() ? root : root + "/" + *dirs[k];
      struct stat st;
      if (::lstat(full.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        continue;
      DirListing now = identity(st);
      const DirListing& d = *listings[k];
      d.confirmed = d.dev == now.dev && d.ino == now.ino && d.mtime_ns == now.mtime_ns &&
                    d.ctime_ns == now.ctime_ns;
    }
  };
  size_t n = listings.size();
  size_t threads = n < 4096 ? 1 : std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 8);
  size_t chunk = (n + threads - 1) / threads;
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t)
    pool.emplace_back(confirm, std::min(n, t * chunk), std::min(n, (t + 1) * chunk));
  confirm(0, std::min(n, chunk));
  for (auto& t : pool)
    t.join();
}

const DirListing* DirCache::confirmed(const std::string& dir) const {
  auto it = old_.find(dir);
  return it != old_.end() && it->second.confirmed ? &it->second : nullptr;
}

void DirCache::keep(const std::string& dir, DirListing listing) {
  if (path_.empty())
    return;
  // Changed too recently to be sure a later change would move the times.
  if (listing.mtime_ns >= started_ns_ - kRacyWindowNs || listing.ctime_ns >= started_ns_ - kRacyWindowNs) {
    changed_ = true;
    return;
  }
  auto it = old_.find(dir);
  if (it == old_.end() || it->second.mtime_ns != listing.mtime_ns || it->second.ctime_ns != listing.ctime_ns ||
      it->second.ino != listing.ino || it->second.has_file != listing.has_file ||
      it->second.subdirs != listing.subdirs || it->second.files_sum != listing.files_sum ||
      it->second.files_count != listing.files_count)
    changed_ = true;
  now_.emplace(dir, std::move(listing));
}

void DirCache::save() const {
  if (path_.empty() || (!changed_ && now_.size() == old_.size()))
    return;
  util::ByteWriter w;
  w.u(now_.size());
  for (const auto& [dir, d] : now_) {
    w.s(dir);
    w.u(d.dev);
    w.u(d.ino);
    w.u(static_cast<uint64_t>(d.mtime_ns));
    w.u(static_cast<uint64_t>(d.ctime_ns));
    w.u(d.has_file ? 1 : 0);
    w.strings(d.subdirs);
    w.u(d.files_count);
    w.u(d.files_sum);
  }
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ec);
  try {
    util::write_file_atomic(path_, util::frame(magic_, w.out));
  } catch (const std::exception&) {
    // A cache that cannot be written only costs the next run time.
  }
}

} // namespace mlrepo::git
