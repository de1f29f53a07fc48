#include "mlrepo/util/fs.hpp"

#include "mlrepo/util/error.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sys/mman.h>
#include <utility>
#include <sys/stat.h>
#include <sstream>
#include <unistd.h>
#include <vector>

namespace mlrepo::util {

std::optional<std::string> read_file(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return std::nullopt;
  struct stat st;
  std::string out;
  if (::fstat(fd, &st) == 0 && st.st_size > 0)
    out.reserve(static_cast<size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0)
      break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

std::optional<MappedFile> MappedFile::open(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return std::nullopt;
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return std::nullopt;
  }
  MappedFile out;
  out.mtime_ns_ = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  out.size_ = static_cast<size_t>(st.st_size);
  if (out.size_ > 0) {
    // Populated up front: one fault-in for the whole file instead of one per page.
    void* addr = ::mmap(nullptr, out.size_, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (addr == MAP_FAILED) {
      ::close(fd);
      return std::nullopt;
    }
    out.addr_ = addr;
  }
  ::close(fd);
  return out;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : addr_(std::exchange(other.addr_, nullptr)), size_(std::exchange(other.size_, 0)),
      mtime_ns_(other.mtime_ns_) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (addr_)
      ::munmap(addr_, size_);
    addr_ = std::exchange(other.addr_, nullptr);
    size_ = std::exchange(other.size_, 0);
    mtime_ns_ = other.mtime_ns_;
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (addr_)
    ::munmap(addr_, size_);
}

namespace {
void write_all(int fd, std::string_view content, const std::string& what) {
  const char* p = content.data();
  size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      throw Error(ExitCode::WorkFailed, "cannot write " + what + ": " + std::strerror(errno));
    p += n;
    left -= static_cast<size_t>(n);
  }
}
} // namespace

void write_file_atomic(const std::filesystem::path& path, std::string_view content) {
  std::string tmpl = path.string() + ".tmp.XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  int fd = ::mkostemp(buf.data(), O_CLOEXEC);
  if (fd < 0)
    throw Error(ExitCode::WorkFailed,
                "cannot create a file next to " + path.string() + ": " + std::strerror(errno),
                "check that the directory exists and is writable");
  std::string tmp(buf.data());
  try {
    write_all(fd, content, tmp);
    if (::fchmod(fd, 0644) != 0 || ::close(fd) != 0) {
      fd = -1;
      throw Error(ExitCode::WorkFailed, "cannot finish writing " + tmp + ": " + std::strerror(errno));
    }
    fd = -1;
    if (::rename(tmp.c_str(), path.c_str()) != 0)
      throw Error(ExitCode::WorkFailed, "cannot replace " + path.string() + ": " + std::strerror(errno));
  } catch (...) {
    if (fd >= 0)
      ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
}

void append_file(const std::filesystem::path& path, std::string_view content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    throw Error(ExitCode::WorkFailed, "cannot open " + path.string() + ": " + std::strerror(errno));
  try {
    write_all(fd, content, path.string());
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

std::optional<std::string> normalize_repo_path(std::string_view path) {
  if (!path.empty() && path.front() == '/')
    return std::nullopt;
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find_first_of("/\\", start);
    if (end == std::string_view::npos)
      end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part == "..") {
      if (parts.empty())
        return std::nullopt;
      parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    start = end + 1;
  }
  std::string out;
  for (auto part : parts) {
    if (!out.empty())
      out += '/';
    out += part;
  }
  return out;
}

std::string join_path(std::string_view dir, std::string_view rel) {
  if (dir.empty())
    return std::string(rel);
  if (rel.empty())
    return std::string(dir);
  std::string out(dir);
  out += '/';
  out += rel;
  return out;
}

std::string_view parent_path(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view{} : path.substr(0, slash);
}

std::string_view base_name(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool path_within(std::string_view path, std::string_view dir) {
  if (dir.empty())
    return true;
  if (path.size() < dir.size() || path.substr(0, dir.size()) != dir)
    return false;
  return path.size() == dir.size() || path[dir.size()] == '/';
}

} // namespace mlrepo::util
