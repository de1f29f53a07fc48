#include "mlrepo/util/glob.hpp"

namespace mlrepo::util {
namespace {

// Matches one character class starting at pattern[p] == '['; returns the index
// after ']' and whether c matched, or npos when the class is unterminated.
size_t match_class(std::string_view pattern, size_t p, char c, bool& matched) {
  size_t i = p + 1;
  bool negate = false;
  if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^')) {
    negate = true;
    ++i;
  }
  bool found = false;
  bool first = true;
  while (i < pattern.size() && (pattern[i] != ']' || first)) {
    first = false;
    char lo = pattern[i];
    if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      char hi = pattern[i + 2];
      if (lo <= c && c <= hi)
        found = true;
      i += 3;
    } else {
      if (lo == c)
        found = true;
      ++i;
    }
  }
  if (i >= pattern.size())
    return std::string_view::npos;
  matched = (found != negate) && c != '/';
  return i + 1;
}

bool match_from(std::string_view pat, size_t p, std::string_view path, size_t s) {
  while (p < pat.size()) {
    char pc = pat[p];
    if (pc == '*') {
      bool globstar = p + 1 < pat.size() && pat[p + 1] == '*';
      if (globstar) {
        size_t next = p + 2;
        // `**/` may match no directory at all.
        if (next < pat.size() && pat[next] == '/' && (p == 0 || pat[p - 1] == '/')) {
          if (match_from(pat, next + 1, path, s))
            return true;
        }
        for (size_t k = s; k <= path.size(); ++k)
          if (match_from(pat, next, path, k))
            return true;
        return false;
      }
      for (size_t k = s; k <= path.size(); ++k) {
        if (match_from(pat, p + 1, path, k))
          return true;
        if (k < path.size() && path[k] == '/')
          break;
      }
      return false;
    }
    if (s >= path.size())
      return false;
    if (pc == '?') {
      if (path[s] == '/')
        return false;
      ++p;
      ++s;
      continue;
    }
    if (pc == '[') {
      bool matched = false;
      size_t after = match_class(pat, p, path[s], matched);
      if (after != std::string_view::npos) {
        if (!matched)
          return false;
        p = after;
        ++s;
        continue;
      }
    }
    if (pc == '\\' && p + 1 < pat.size())
      pc = pat[++p];
    if (pc != path[s])
      return false;
    ++p;
    ++s;
  }
  return s == path.size();
}

} // namespace

bool glob_match(std::string_view pattern, std::string_view path) {
  while (pattern.size() > 1 && pattern.back() == '/')
    pattern.remove_suffix(1);
  return match_from(pattern, 0, path, 0);
}

std::optional<std::string> glob_problem(std::string_view pattern) {
  if (pattern.empty())
    return "an empty pattern matches nothing";
  if (pattern.front() == '/')
    return "patterns are relative to the repository root; drop the leading '/'";
  if (pattern.front() == '!')
    return "negated patterns ('!...') are not supported here";
  int depth = 0;
  for (char c : pattern) {
    if (c == '[')
      ++depth;
    else if (c == ']' && depth > 0)
      --depth;
  }
  if (depth != 0)
    return "unterminated '[' character class";
  return std::nullopt;
}

std::string glob_base(std::string_view pattern) {
  size_t meta = pattern.find_first_of("*?[\\");
  if (meta == std::string_view::npos)
    return std::string(pattern);
  size_t slash = pattern.rfind('/', meta);
  return slash == std::string_view::npos ? std::string{} : std::string(pattern.substr(0, slash));
}

} // namespace mlrepo::util
