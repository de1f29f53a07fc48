#include "mlrepo/util/glob.hpp"

#include "mlrepo/util/error.hpp"

#include <vector>

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

// Matching as a memoised recursion over (pattern position, path position):
// every state is decided once, so a pattern of many stars costs
// O(pattern x path) instead of exploring every way to split the path.
class Matcher {
public:
  // `parents`: also accept where the pattern ends at a '/' of the path, so
  // that one run answers "the path or a directory above it".
  Matcher(std::string_view pat, std::string_view path, bool parents = false)
      : pat_(pat), path_(path), parents_(parents) {}

  bool match(size_t p, size_t s) {
    // Literal runs need no memo: they only move forward.
    while (p < pat_.size() && pat_[p] != '*') {
      if (s >= path_.size())
        return false;
      char pc = pat_[p];
      if (pc == '?') {
        if (path_[s] == '/')
          return false;
        ++p;
        ++s;
        continue;
      }
      if (pc == '[') {
        bool matched = false;
        size_t after = match_class(pat_, p, path_[s], matched);
        if (after != std::string_view::npos) {
          if (!matched)
            return false;
          p = after;
          ++s;
          continue;
        }
      }
      if (pc == '\\' && p + 1 < pat_.size())
        pc = pat_[++p];
      if (pc != path_[s])
        return false;
      ++p;
      ++s;
    }
    if (p == pat_.size())
      return s == path_.size() || (parents_ && s > 0 && path_[s] == '/');
    return star(p, s);
  }

private:
  static constexpr char kUnknown = 0, kYes = 1, kNo = 2;

  // pat_[p] == '*': star(p, s) = rest matches at s, or star(p, s + 1). The
  // loop walks s forward and records the answer for every position it
  // passed, so each (p, s) is decided once and recursion only ever moves to
  // a later pattern position (its depth is bounded by the number of stars).
  bool star(size_t p, size_t s) {
    if (memo_.empty()) {
      // One row per star: the only positions that are ever memoised.
      row_.assign(pat_.size(), 0);
      size_t stars = 0;
      for (size_t i = 0; i < pat_.size(); ++i)
        if (pat_[i] == '*')
          row_[i] = stars++;
      memo_.assign(stars * (path_.size() + 1), kUnknown);
    }
    bool globstar = p + 1 < pat_.size() && pat_[p + 1] == '*';
    size_t next = p + 1;
    while (next < pat_.size() && pat_[next] == '*')
      ++next; // `***` is `**`; `**` only crosses '/'
    // `**/` may match no directory at all.
    bool zero_dirs = globstar && next < pat_.size() && pat_[next] == '/' && (p == 0 || pat_[p - 1] == '/');
    size_t k = s;
    bool result = false;
    for (;; ++k) {
      char m = memo_[row_[p] * (path_.size() + 1) + k];
      if (m != kUnknown) {
        result = m == kYes;
        break;
      }
      if ((zero_dirs && match(next + 1, k)) || match(next, k)) {
        result = true;
        break;
      }
      if (k >= path_.size() || (!globstar && path_[k] == '/'))
        break; // a single star never crosses '/'
    }
    for (size_t i = s; i <= k && i <= path_.size(); ++i)
      memo_[row_[p] * (path_.size() + 1) + i] = result ? kYes : kNo;
    return result;
  }

  std::string_view pat_, path_;
  bool parents_ = false;
  std::vector<size_t> row_; // pattern position -> its star's memo row
  std::vector<char> memo_;
};

// Readers refuse longer patterns with a file and line; this is the
// matcher's own guard, so no caller can reach it with one.
void require_bounded(std::string_view pattern) {
  if (pattern.size() > kMaxGlobLength)
    throw UsageError("the pattern '" + std::string(pattern.substr(0, 40)) + "…' has " + std::to_string(pattern.size()) +
                         " characters; mlrepo matches patterns of at most " + std::to_string(kMaxGlobLength),
                     "shorten the pattern");
}

} // namespace

bool glob_match(std::string_view pattern, std::string_view path) {
  require_bounded(pattern);
  while (pattern.size() > 1 && pattern.back() == '/')
    pattern.remove_suffix(1);
  return Matcher(pattern, path).match(0, 0);
}

bool glob_match_self_or_parent(std::string_view pattern, std::string_view path) {
  require_bounded(pattern);
  while (pattern.size() > 1 && pattern.back() == '/')
    pattern.remove_suffix(1);
  return Matcher(pattern, path, true).match(0, 0);
}

std::optional<std::string> glob_problem(std::string_view pattern) {
  if (pattern.empty())
    return "an empty pattern matches nothing";
  if (pattern.front() == '/')
    return "patterns are relative to the repository root; drop the leading '/'";
  if (pattern.front() == '!')
    return "negated patterns ('!...') are not supported here";
  if (pattern.size() > kMaxGlobLength)
    return "patterns longer than " + std::to_string(kMaxGlobLength) + " characters are not supported (this one has " +
           std::to_string(pattern.size()) + ")";
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
