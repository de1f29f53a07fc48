#pragma once
#include "mlrepo/config/config.hpp"

#include <memory>
#include <string>
#include <vector>

namespace mlrepo::project {

struct Project {
  std::string name;
  std::string path;       // repo-relative directory, '/'-separated
  std::string dockerfile; // repo-relative
  std::string context;    // repo-relative directory ("" is the root)
  std::string image;      // repository without tag: [registry/]prefix+name
  // Shared and never null: most projects have no mlrepo.yaml and share one
  // default, which keeps ten thousand projects small enough to load fast.
  std::shared_ptr<const config::ProjectConfig> config = default_config();

  static const std::shared_ptr<const config::ProjectConfig>& default_config() {
    static const auto none = std::make_shared<const config::ProjectConfig>();
    return none;
  }
};

} // namespace mlrepo::project
