#pragma once
// What a project's build can see: its context's .dockerignore, read as Docker
// reads it, and the one rule `changed` and the content tag both follow (a
// file counts for a project exactly when its build can see it, or when it
// decides what the build sees).
#include "mlrepo/project/project.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/util/glob.hpp"

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlrepo::project {

inline constexpr const char* kDockerIgnoreFile = ".dockerignore";

// An ignore-file line longer than util::kMaxGlobLength, at its line.
class PatternTooLong : public Error {
public:
  PatternTooLong(int line, size_t length)
      : Error(ExitCode::BadInput,
              "a pattern of " + std::to_string(length) + " characters; mlrepo reads patterns of at most " +
                  std::to_string(util::kMaxGlobLength),
              "shorten it (or split it into several lines)"),
        line_(line) {}
  int line() const { return line_; }

private:
  int line_;
};

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

// The ignore files a build may read. BuildKit first looks for
// <Dockerfile>.dockerignore beside the Dockerfile (x.Dockerfile ->
// x.Dockerfile.dockerignore) and, when it exists, reads it instead of the
// context's .dockerignore (Docker's documentation, "Build context: filename
// and location"). mlrepo follows BuildKit's choice whatever builder this
// machine has, so no answer depends on the machine; the classic builder,
// which only reads the context's, refuses such a project (build/).
std::string context_dockerignore_path(const Project& p);
std::string dockerfile_dockerignore_path(const Project& p);
// Both: the files whose change decides what p's build sees.
std::array<std::string, 2> dockerignore_paths(const Project& p);

// The ignore file p's build reads, and its rules; `read` gives a
// repo-relative file's content (nullopt: no such file).
struct IgnoreFile {
  std::string path; // repo-relative; the context's .dockerignore when neither exists
  bool dockerfile_specific = false;
  DockerIgnore rules{""};
};
IgnoreFile read_dockerignore(const Project& p,
                             const std::function<std::optional<std::string>(const std::string&)>& read);

// Whether `path` (repo-relative) is left out of a build whose context is
// `context` by that context's ignore rules: never for a path outside the
// context or the context itself.
bool ignored_in_context(const DockerIgnore& ignore, const std::string& context, std::string_view path);

// Files that define a project's image whatever its .dockerignore says: the
// Dockerfile (Docker reads it anyway), the project's mlrepo.yaml (build
// settings) and both ignore files (creating, editing or deleting either
// decides what the build sees).
bool always_seen(const Project& p, std::string_view path);

} // namespace mlrepo::project
