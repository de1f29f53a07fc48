#pragma once
// Docker image references as Docker itself reads them (the distribution
// project's reference grammar): which part is a registry host, how Docker Hub
// spellings normalise, and which names Docker refuses.
#include <optional>
#include <string>
#include <string_view>

namespace mlrepo::util {

// Docker's limit on a whole repository name, registry host included.
inline constexpr size_t kMaxRepositoryLength = 255;

// One path component: [a-z0-9] runs joined by a single '.', a single '_',
// '__' or any run of '-'.
bool valid_path_component(std::string_view component);

// A repository split as Docker splits it: the first component is a registry
// host when it holds a '.' or ':', is "localhost", or has an upper-case letter.
struct Repository {
  std::string domain; // "" when the name has none (Docker Hub)
  std::string path;   // everything after the domain
};
Repository split_repository(std::string_view repository);

// The fully qualified spelling: Docker Hub names gain "docker.io/" and,
// without a namespace, "library/" ("python" -> "docker.io/library/python";
// "index.docker.io/x" -> "docker.io/library/x").
std::string canonical_repository(std::string_view repository);

// Why Docker refuses `repository` (tag and digest already removed), naming the
// rule; nullopt when it is valid.
std::optional<std::string> repository_problem(std::string_view repository);

// A reference without its tag or digest ("localhost:5000/x:1" ->
// "localhost:5000/x"; a registry port is not a tag).
std::string strip_tag(std::string_view reference);

// The last path component ("ghcr.io/acme/ml-base" -> "ml-base").
std::string_view last_component(std::string_view repository);

} // namespace mlrepo::util
