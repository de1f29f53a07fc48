#pragma once
// What a project's build can see: its context's .dockerignore, read as Docker
// reads it, and the one rule `changed` and the content tag both follow (a
// file counts for a project exactly when its build can see it, or when it
// decides what the build sees).
#include "mlrepo/project/project.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace mlrepo::project {

inline constexpr const char* kDockerIgnoreFile = ".dockerignore";

// One pattern per line, `#` comments, `!` exceptions, the last matching
// pattern decides, and a path is ignored when it or a parent directory
// matches. An exception can bring back a file below an ignored directory, as
// Docker's context walk does.
class DockerIgnore {
public:
  struct Pattern {
    std::string glob; // cleaned, relative to the context root
    bool exception;
  };
  explicit DockerIgnore(const std::string& content);
  bool empty() const { return patterns_.empty(); }
  bool has_exceptions() const { return has_exceptions_; }
  const std::vector<Pattern>& patterns() const { return patterns_; }
  // `path` is relative to the context root.
  bool ignores(std::string_view path) const;

private:
  std::vector<Pattern> patterns_;
  bool has_exceptions_ = false;
};

// The repo-relative path of the .dockerignore that applies to `context`.
std::string dockerignore_path(const std::string& context);

// Whether `path` (repo-relative) is left out of a build whose context is
// `context` by that context's ignore rules: never for a path outside the
// context or the context itself.
bool ignored_in_context(const DockerIgnore& ignore, const std::string& context, std::string_view path);

// Files that define a project's image whatever its .dockerignore says: the
// Dockerfile (Docker reads it anyway), the project's mlrepo.yaml (build
// settings) and the .dockerignore itself (it decides what the build sees).
bool always_seen(const Project& p, std::string_view path);

} // namespace mlrepo::project
