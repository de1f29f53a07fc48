#include "mlrepo/project/naming.hpp"

#include "mlrepo/util/image_ref.hpp"

namespace mlrepo::project {

// Docker sets no length for one component: only the whole repository name is
// limited, and discovery checks that with the registry and prefix in place.
bool valid_image_name(std::string_view name) { return util::valid_path_component(name); }

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
  return std::string(util::last_component(repository));
}

} // namespace mlrepo::project
