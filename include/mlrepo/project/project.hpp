#pragma once
#include "mlrepo/config/config.hpp"

#include <string>
#include <vector>

namespace mlrepo::project {

struct Project {
  std::string name;
  std::string path;       // repo-relative directory, '/'-separated
  std::string dockerfile; // repo-relative
  std::string context;    // repo-relative directory ("" is the root)
  std::string image;      // repository without tag: [registry/]prefix+name
  config::ProjectConfig config;
};

} // namespace mlrepo::project
