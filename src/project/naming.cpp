#include "mlrepo/project/naming.hpp"

namespace mlrepo::project {
namespace {
bool alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
} // namespace

bool valid_image_name(std::string_view name) {
  size_t i = 0;
  auto run = [&] {
    size_t start = i;
    while (i < name.size() && alnum(name[i]))
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
  return name.size() <= 128;
}

std::string default_name(std::string_view path, config::NameFrom from) {
  std::string_view source = path;
  if (from == config::NameFrom::Leaf) {
    auto slash = path.rfind('/');
    if (slash != std::string_view::npos)
      source = path.substr(slash + 1);
  }
  std::string out;
  out.reserve(source.size());
  for (char c : source) {
    if (c >= 'A' && c <= 'Z')
      out += static_cast<char>(c - 'A' + 'a');
    else if (c == '/')
      out += '-';
    else
      out += c;
  }
  return out;
}

std::string image_name_of(std::string_view repository) {
  auto slash = repository.rfind('/');
  return std::string(slash == std::string_view::npos ? repository : repository.substr(slash + 1));
}

} // namespace mlrepo::project
