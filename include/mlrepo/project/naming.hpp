#pragma once
#include "mlrepo/config/config.hpp"

#include <string>
#include <string_view>

namespace mlrepo::project {

// A Docker repository name component: [a-z0-9] runs joined by a single '.',
// a single '_', '__' or any run of '-'.
bool valid_image_name(std::string_view name);

// The name a project gets without `name:` (ASCII letters lowercased).
std::string default_name(std::string_view path, config::NameFrom from);

// The last path component of an image repository, which is what a FROM line's
// reference is compared against ("ghcr.io/acme/ml-base:1.2" -> "ml-base").
std::string image_name_of(std::string_view repository);

} // namespace mlrepo::project
