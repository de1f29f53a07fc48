#pragma once
// Filesystem and path helpers that know nothing of git or mlrepo.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace mlrepo::util {

// Reads a whole file; nullopt when it does not exist or cannot be read.
std::optional<std::string> read_file(const std::filesystem::path& path);

// A whole file, mapped read-only: large files are read without a copy. The
// mapping stays valid when the file is replaced by rename, as git replaces
// its index.
class MappedFile {
public:
  // nullopt when the file does not exist or cannot be read.
  static std::optional<MappedFile> open(const std::filesystem::path& path);
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::string_view view() const { return {static_cast<const char*>(addr_), size_}; }
  int64_t mtime_ns() const { return mtime_ns_; }

private:
  MappedFile() = default;
  void* addr_ = nullptr;
  size_t size_ = 0;
  int64_t mtime_ns_ = 0;
};

// Writes via a temporary file in the same directory and rename(), so readers
// never see a partial file. Throws Error on failure.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

// Appends to a file (creating it); throws Error on failure.
void append_file(const std::filesystem::path& path, std::string_view content);

// Normalises a repo-relative path written by a user: '/' separators, no '.',
// '..' resolved lexically, no leading or trailing '/'. Returns nullopt when the
// path is absolute or leaves the repository. "" means the repository root.
std::optional<std::string> normalize_repo_path(std::string_view path);

// Joins two repo-relative paths ("" is the root).
std::string join_path(std::string_view dir, std::string_view rel);

// The directory part of a repo-relative path ("" for a top-level entry).
std::string_view parent_path(std::string_view path);

// The last component of a repo-relative path.
std::string_view base_name(std::string_view path);

// True when `path` equals `dir` or lies below it ("" contains everything).
bool path_within(std::string_view path, std::string_view dir);

} // namespace mlrepo::util
