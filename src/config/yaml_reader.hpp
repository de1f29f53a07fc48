#pragma once
// Strict reading of a YAML mapping: every key must be asked for, every value
// must have the asked-for type, and what is left over is an error that names
// the key, its line and the closest known key.
#include "mlrepo/config/config.hpp"

#include <map>
#include <set>
#include <string>
#include <vector>
#include <yaml-cpp/yaml.h>

namespace mlrepo::config {

int line_of(const YAML::Node& node);

class MapReader {
public:
  // `context` names the mapping in messages, e.g. "run" for the run: section.
  MapReader(const YAML::Node& node, std::string file, std::string context,
            std::vector<std::string> known_keys);

  bool has(const std::string& key) const;
  std::optional<Located> string(const std::string& key);
  std::optional<std::vector<Located>> string_list(const std::string& key);
  // One string, or a list of strings.
  std::optional<std::vector<Located>> string_or_list(const std::string& key);
  // A command: a string, or a list of strings.
  std::optional<std::vector<std::string>> command(const std::string& key);
  std::optional<std::map<std::string, std::string>> scalar_map(const std::string& key);
  // A mapping of names to scalars, each with the line of its name.
  std::optional<std::vector<std::pair<Located, Located>>> located_map(const std::string& key);
  std::optional<MapReader> map(const std::string& key, std::vector<std::string> known_keys);
  // A list of mappings, each read strictly with `known_keys` (as
  // 'key[0]', 'key[1]', ... in messages); nullopt when absent.
  std::optional<std::vector<MapReader>> map_list(const std::string& key, const std::vector<std::string>& known_keys);
  // The keys of the mapping at `key`, in document order (names the user
  // chooses, such as environments); none when it is absent or not a mapping.
  std::vector<std::string> map_keys(const std::string& key) const;
  std::optional<bool> boolean(const std::string& key);
  std::optional<int> integer(const std::string& key, int min, int max);
  // A mapping of names to lists of strings (e.g. a version matrix).
  std::optional<std::map<std::string, std::vector<std::string>>> list_map(const std::string& key);

  [[noreturn]] void fail(const std::string& key, const std::string& message) const;
  [[noreturn]] void fail(const std::string& key, const std::string& message, const std::string& hint) const;
  int line(const std::string& key) const;     // of the value
  int key_line(const std::string& key) const; // of the key itself (a name the user chose)
  std::string qualified_key(const std::string& key) const { return qualified(key); }
  const std::string& file() const { return file_; }

private:
  const YAML::Node* find(const std::string& key) const;
  std::string qualified(const std::string& key) const;

  std::string file_;
  std::string context_;
  std::vector<std::string> known_;
  std::vector<std::pair<std::string, YAML::Node>> entries_;
  std::map<std::string, YAML::Node> keys_nodes_;
  std::map<std::string, int> key_lines_;
};

// Parses `content`, turning yaml-cpp's exceptions into ConfigError. Returns a
// null node for an empty document.
YAML::Node load_yaml(const std::string& content, const std::string& file);

} // namespace mlrepo::config
