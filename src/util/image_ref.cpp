#include "mlrepo/util/image_ref.hpp"

namespace mlrepo::util {
namespace {

bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool alnum(char c) { return lower_alnum(c) || (c >= 'A' && c <= 'Z'); }

bool has_upper(std::string_view s) {
  for (char c : s)
    if (c >= 'A' && c <= 'Z')
      return true;
  return false;
}

// host[:port]: dot-separated labels of letters, digits and inner '-'.
std::optional<std::string> domain_problem(std::string_view domain) {
  std::string_view host = domain;
  if (auto colon = domain.rfind(':'); colon != std::string_view::npos && domain.front() != '[') {
    std::string_view port = domain.substr(colon + 1);
    host = domain.substr(0, colon);
    if (port.empty() || port.find_first_not_of("0123456789") != std::string_view::npos)
      return "the port of registry host '" + std::string(domain) + "' is not a number";
  }
  if (!host.empty() && host.front() == '[')
    return std::nullopt; // an IPv6 literal: Docker accepts it as written
  size_t start = 0;
  while (start <= host.size()) {
    size_t dot = host.find('.', start);
    std::string_view label = host.substr(start, dot == std::string_view::npos ? dot : dot - start);
    bool ok = !label.empty() && alnum(label.front()) && alnum(label.back());
    for (char c : label)
      ok = ok && (alnum(c) || c == '-');
    if (!ok)
      return "registry host '" + std::string(domain) +
             "' is not a host name (letters, digits and '-' between dots, then an optional :port)";
    if (dot == std::string_view::npos)
      break;
    start = dot + 1;
  }
  return std::nullopt;
}

} // namespace

bool valid_path_component(std::string_view name) {
  size_t i = 0;
  auto run = [&] {
    size_t start = i;
    while (i < name.size() && lower_alnum(name[i]))
      ++i;
    return i > start;
  };
  if (!run())
    return false;
  while (i < name.size()) {
    char c = name[i];
    if (c == '.') {
      ++i;
    } else if (c == '_') {
      ++i;
      if (i < name.size() && name[i] == '_')
        ++i;
    } else if (c == '-') {
      while (i < name.size() && name[i] == '-')
        ++i;
    } else {
      return false;
    }
    if (!run())
      return false;
  }
  return true;
}

Repository split_repository(std::string_view repository) {
  auto slash = repository.find('/');
  if (slash != std::string_view::npos) {
    std::string_view first = repository.substr(0, slash);
    if (first.find_first_of(".:") != std::string_view::npos || first == "localhost" || has_upper(first))
      return {std::string(first), std::string(repository.substr(slash + 1))};
  }
  return {"", std::string(repository)};
}

std::string canonical_repository(std::string_view repository) {
  auto [domain, path] = split_repository(repository);
  if (domain.empty() || domain == "docker.io" || domain == "index.docker.io") {
    if (path.find('/') == std::string::npos)
      path = "library/" + path;
    return "docker.io/" + path;
  }
  return domain + "/" + path;
}

std::optional<std::string> repository_problem(std::string_view repository) {
  if (repository.empty())
    return std::string("the name is empty");
  if (repository.find("://") != std::string_view::npos)
    return "'" + std::string(repository) + "' is a URL; Docker wants a host and path without a scheme";
  if (repository.size() > kMaxRepositoryLength)
    return "'" + std::string(repository) + "' is " + std::to_string(repository.size()) +
           " characters long; Docker allows at most " + std::to_string(kMaxRepositoryLength) +
           " for a whole repository name, registry included";
  auto [domain, path] = split_repository(repository);
  if (!domain.empty() && domain.find_first_of(".:") == std::string::npos && domain != "localhost")
    return "'" + domain + "' in '" + std::string(repository) +
           "' has upper-case letters, so Docker would read it as a registry host; Docker Hub "
           "namespaces and repository paths are lower case";
  if (!domain.empty())
    if (auto problem = domain_problem(domain))
      return problem;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string_view component =
        std::string_view(path).substr(start, slash == std::string::npos ? slash : slash - start);
    if (component.empty())
      return "'" + std::string(repository) + "' has an empty path component (a doubled or trailing '/')";
    // "'x' in 'x'" says nothing twice: the component alone when it is all.
    std::string where = "'" + std::string(component) + "'" +
                        (component == repository ? "" : " in '" + std::string(repository) + "'");
    if (has_upper(component))
      return where + " has upper-case letters; Docker repository paths are lower case";
    if (!valid_path_component(component))
      return where + " is not a valid " + (component == repository ? "name" : "path component") +
             " (lower-case letters and digits, separated by one '.', one or two '_', or any number of '-'; none "
             "first or last)";
    if (slash == std::string::npos)
      break;
    start = slash + 1;
  }
  return std::nullopt;
}

std::string_view last_component(std::string_view repository) {
  auto slash = repository.rfind('/');
  return slash == std::string_view::npos ? repository : repository.substr(slash + 1);
}

std::string strip_tag(std::string_view reference) {
  if (auto at = reference.find('@'); at != std::string_view::npos)
    reference = reference.substr(0, at);
  auto colon = reference.rfind(':');
  if (colon != std::string_view::npos && reference.find('/', colon) == std::string_view::npos)
    reference = reference.substr(0, colon);
  return std::string(reference);
}

} // namespace mlrepo::util
