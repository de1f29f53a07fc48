#pragma once
// What the work-tree walk needs from each directory (its subdirectories, and
// whether it holds a regular file of the wanted name), remembered between runs
// and trusted only while the directory's identity and change times are the
// same. Adding, removing or renaming an entry always changes a directory's
// mtime and ctime; a listing taken within two seconds of such a change is
// never stored, so two changes within one timestamp tick cannot hide.
#include <cstdint>
#include <string>
#include <sys/stat.h>
#include <unordered_map>
#include <vector>

namespace mlrepo::git {

struct DirListing {
  uint64_t dev = 0, ino = 0;
  int64_t mtime_ns = 0, ctime_ns = 0;
  bool has_file = false;
  std::vector<std::string> subdirs; // names
};

class DirCache {
public:
  // An empty path disables the cache.
  DirCache(std::string path, std::string_view file_name);
  // The cached listing of `dir` when `st` shows it unchanged.
  const DirListing* find(const std::string& dir, const struct stat& st) const;
  // Records what was read (or reused) this run; only these are saved.
  void keep(const std::string& dir, DirListing listing, const struct stat& st);
  void save() const;

  static DirListing identity(const struct stat& st);

private:
  std::string path_;
  std::string magic_;
  int64_t started_ns_;
  std::unordered_map<std::string, DirListing> old_, now_;
  bool changed_ = false;
};

} // namespace mlrepo::git
