#include "mlrepo/project/dockerignore.hpp"

#include "mlrepo/config/config.hpp"
#include "mlrepo/util/fs.hpp"
#include "mlrepo/util/glob.hpp"

namespace mlrepo::project {
namespace {

std::string_view trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos)
    return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// filepath.Clean for a slash-separated relative pattern.
std::string clean(std::string_view p) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= p.size()) {
    size_t slash = p.find('/', start);
    std::string_view part = p.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (part == "..") {
      if (!parts.empty())
        parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    if (slash == std::string_view::npos)
      break;
    start = slash + 1;
  }
  std::string out;
  for (auto part : parts)
    out += (out.empty() ? "" : "/") + std::string(part);
  return out;
}

} // namespace

DockerIgnore::DockerIgnore(const std::string& content) {
  size_t start = 0;
  int number = 0;
  while (start < content.size()) {
    ++number;
    size_t nl = content.find('\n', start);
    std::string_view line = std::string_view(content).substr(start, nl == std::string::npos ? nl : nl - start);
    start = nl == std::string::npos ? content.size() : nl + 1;
    if (line.substr(0, 3) == "\xEF\xBB\xBF")
      line.remove_prefix(3);
    line = trim(line);
    if (line.empty() || line.front() == '#')
      continue;
    bool exception = line.front() == '!';
    if (exception)
      line = trim(line.substr(1));
    std::string glob = clean(line);
    if (glob.empty())
      continue;
    if (glob.size() > util::kMaxGlobLength)
      throw PatternTooLong(number, glob.size());
    has_exceptions_ |= exception;
    patterns_.push_back({std::move(glob), exception});
  }
}

bool DockerIgnore::ignores(std::string_view path) const {
  bool ignored = false;
  for (const auto& p : patterns_) {
    // The path itself or any directory above it, in one pass: one match per
    // parent costed patterns x depth x path (a fuzzer's 10-second input).
    if (util::glob_match_self_or_parent(p.glob, path))
      ignored = !p.exception;
  }
  return ignored;
}

std::string context_dockerignore_path(const Project& p) { return util::join_path(p.context, kDockerIgnoreFile); }

std::string dockerfile_dockerignore_path(const Project& p) { return p.dockerfile + kDockerIgnoreFile; }

std::array<std::string, 2> dockerignore_paths(const Project& p) {
  return {context_dockerignore_path(p), dockerfile_dockerignore_path(p)};
}

IgnoreFile read_dockerignore(const Project& p,
                             const std::function<std::optional<std::string>(const std::string&)>& read) {
  IgnoreFile out;
  out.path = dockerfile_dockerignore_path(p);
  auto text = read(out.path);
  out.dockerfile_specific = text.has_value();
  if (!text) {
    out.path = context_dockerignore_path(p);
    text = read(out.path);
  }
  try {
    out.rules = DockerIgnore(text.value_or(""));
  } catch (const PatternTooLong& e) {
    throw ConfigError(out.path, e.line(), e.what(), e.hint());
  }
  return out;
}

bool ignored_in_context(const DockerIgnore& ignore, const std::string& context, std::string_view path) {
  if (ignore.empty() || path == context || !util::path_within(path, context))
    return false;
  return ignore.ignores(context.empty() ? path : path.substr(context.size() + 1));
}

bool always_seen(const Project& p, std::string_view path) {
  if (path == p.dockerfile || path == util::join_path(p.path, config::kConfigFile))
    return true;
  // Called for every changed path: build the ignore files' names only for a
  // path that could be one.
  if (!path.ends_with(kDockerIgnoreFile))
    return false;
  for (const auto& f : dockerignore_paths(p))
    if (path == f)
      return true;
  return false;
}

} // namespace mlrepo::project
