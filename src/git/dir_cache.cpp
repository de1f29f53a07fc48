#include "dir_cache.hpp"

#include "mlrepo/util/fs.hpp"
#include "mlrepo/util/serial.hpp"

#include <chrono>
#include <filesystem>

namespace mlrepo::git {
namespace {

int64_t ns(const struct timespec& t) { return int64_t{t.tv_sec} * 1000000000 + t.tv_nsec; }

constexpr int64_t kRacyWindowNs = 2'000'000'000;

} // namespace

DirListing DirCache::identity(const struct stat& st) {
  DirListing d;
  d.dev = st.st_dev;
  d.ino = st.st_ino;
  d.mtime_ns = ns(st.st_mtim);
  d.ctime_ns = ns(st.st_ctim);
  return d;
}

DirCache::DirCache(std::string path, std::string_view file_name)
    : path_(std::move(path)), magic_("mlrepo-dirs-1 " + std::string(file_name) + "\n"),
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

void DirCache::keep(const std::string& dir, DirListing listing, const struct stat& st) {
  if (path_.empty())
    return;
  // Changed too recently to be sure a later change would move the times.
  if (ns(st.st_mtim) >= started_ns_ - kRacyWindowNs || ns(st.st_ctim) >= started_ns_ - kRacyWindowNs) {
    changed_ = true;
    return;
  }
  auto it = old_.find(dir);
  if (it == old_.end() || it->second.mtime_ns != listing.mtime_ns || it->second.ctime_ns != listing.ctime_ns ||
      it->second.ino != listing.ino || it->second.has_file != listing.has_file ||
      it->second.subdirs != listing.subdirs)
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
