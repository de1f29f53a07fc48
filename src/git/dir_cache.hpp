#pragma once
// What the work-tree walks need from each directory (its subdirectories,
// whether it holds a regular file of the wanted name, and a fingerprint of its
// other entries' names), remembered between runs
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

class DirCache;

struct DirListing {
  uint64_t dev = 0, ino = 0;
  int64_t mtime_ns = 0, ctime_ns = 0;
  bool has_file = false;
  std::vector<std::string> subdirs; // names, sorted
  // Every entry that is not a directory, as a count and an order-independent
  // sum of name hashes (names_fingerprint), so a walk can tell "exactly the
  // files the index lists" without the names.
  uint64_t files_count = 0, files_sum = 0;
  mutable bool confirmed = false; // this run's lstat found it unchanged
};

uint64_t name_hash(std::string_view name);

// Lists `full` (the directory `rel` of the walk): from `cache` while its
// times say it is unchanged, else with readdir (d_type: no stat per entry).
// `file_names`, when given, receives the names of non-directories and forces
// a readdir. ".git" is never listed. False when it is not a readable directory.
bool list_directory(DirCache& cache, const std::string& full, const std::string& rel,
                    std::string_view file_name, DirListing& out,
                    std::vector<std::string>* file_names = nullptr);

class DirCache {
public:
  // An empty path disables the cache.
  DirCache(std::string path, std::string_view file_name);
  // The cached listing of `dir` when `st` shows it unchanged.
  const DirListing* find(const std::string& dir, const struct stat& st) const;
  // Checks every cached directory below `root` at once (on every core), so
  // the walk can then take confirmed listings without a system call.
  void confirm_all(const std::string& root);
  const DirListing* confirmed(const std::string& dir) const;
  // Records what was read (or reused) this run; only these are saved.
  void keep(const std::string& dir, DirListing listing);
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
