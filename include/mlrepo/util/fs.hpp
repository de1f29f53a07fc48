#pragma once
// Filesystem and path helpers that know nothing of git or mlrepo.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace mlrepo::util {

// Reads a whole file; nullopt when it does not exist or cannot be read.
std::optional<std::string> read_file(const std::filesystem::path& path);

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
