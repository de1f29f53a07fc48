#pragma once
// Path globs with the semantics of GitHub Actions `paths:` filters, so that a
// glob in mlrepo.yaml means the same thing in `mlrepo changed` and in the
// workflows `mlrepo ci generate` writes: anchored at the repository root, `*`
// and `?` stay inside one path component, `**` crosses components (`a/**/b`
// also matches `a/b`), `[...]` is a character class (`[!...]` negates).
#include <optional>
#include <string>
#include <string_view>

namespace mlrepo::util {

// The one bound on every glob mlrepo reads (config globs, ignore-file lines,
// COPY/ADD sources): each reader refuses a longer one with its file and
// line, and the matcher refuses one too (UsageError), so its recursion (one
// frame per star) and its memo (stars x path) stay small whatever the input.
inline constexpr size_t kMaxGlobLength = 1024;

// Time and memory O(stars x path) at most. Throws UsageError for a pattern
// longer than kMaxGlobLength.
bool glob_match(std::string_view pattern, std::string_view path);

// Whether the glob matches `path` or one of the directories above it, in one
// pass (a .dockerignore pattern ignores everything below what it matches).
bool glob_match_self_or_parent(std::string_view pattern, std::string_view path);

// The directories a glob can match at or below: its leading components
// without pattern characters ("libs/*/req.txt" -> "libs"; "" for "*.py").
std::string glob_base(std::string_view pattern);

// Why a glob is unusable, or nullopt when it is fine.
std::optional<std::string> glob_problem(std::string_view pattern);

} // namespace mlrepo::util
