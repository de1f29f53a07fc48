#include "yaml_reader.hpp"

#include "mlrepo/util/error.hpp"
#include "mlrepo/util/text.hpp"

#include <algorithm>

namespace mlrepo::config {
namespace {

std::string type_name(const YAML::Node& node) {
  switch (node.Type()) {
  case YAML::NodeType::Null: return "nothing (null)";
  case YAML::NodeType::Scalar: return "a scalar";
  case YAML::NodeType::Sequence: return "a list";
  case YAML::NodeType::Map: return "a mapping";
  default: return "an undefined value";
  }
}

} // namespace

int line_of(const YAML::Node& node) {
  auto mark = node.Mark();
  return mark.line >= 0 ? mark.line + 1 : 0;
}

YAML::Node load_yaml(const std::string& content, const std::string& file) {
  // A UTF-8 byte-order mark (Windows editors write one) is not content.
  std::string_view text = content;
  if (text.substr(0, 3) == "\xEF\xBB\xBF")
    text.remove_prefix(3);
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    int line = e.mark.line >= 0 ? e.mark.line + 1 : 0;
    // The hint names what is likely wrong on that line, not every YAML rule.
    std::vector<std::string> lines;
    for (size_t start = 0; start <= text.size();) {
      size_t end = text.find('\n', start);
      lines.emplace_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
      if (end == std::string_view::npos)
        break;
      start = end + 1;
    }
    // The line YAML names, or the last non-blank one before it (an unclosed
    // bracket is reported where the file ends).
    std::string at;
    int at_line = 0;
    for (int l = std::min<int>(line, static_cast<int>(lines.size())); l >= 1 && at.empty(); --l)
      if (lines[l - 1].find_first_not_of(" \t\r") != std::string::npos) {
        at = lines[l - 1];
        at_line = l;
      }
    std::string on = " on line " + std::to_string(at_line);
    std::string hint;
    if (at.find('\t') != std::string::npos && at.find_first_not_of(" \t") != std::string::npos &&
        at.find('\t') < at.find_first_not_of(" \t"))
      hint = "indent with spaces" + on + ": YAML does not allow tabs for indentation";
    else if (std::count(at.begin(), at.end(), '[') != std::count(at.begin(), at.end(), ']'))
      hint = "close the '[' list" + on + " with ']'";
    else if (std::count(at.begin(), at.end(), '{') != std::count(at.begin(), at.end(), '}'))
      hint = "close the '{' map" + on + " with '}'";
    else if (std::count(at.begin(), at.end(), '"') % 2 == 1 || std::count(at.begin(), at.end(), '\'') % 2 == 1)
      hint = "close the quoted string" + on;
    else
      hint = "fix the syntax on that line; YAML is indentation-sensitive: keys at the same level line up";
    throw ConfigError(file, line, "malformed YAML: " + e.msg, hint);
  }
}

MapReader::MapReader(const YAML::Node& node, std::string file, std::string context,
                     std::vector<std::string> known_keys)
    : file_(std::move(file)), context_(std::move(context)), known_(std::move(known_keys)) {
  if (!node || node.IsNull())
    return;
  if (!node.IsMap())
    throw ConfigError(file_, line_of(node),
                      (context_.empty() ? std::string("the file") : "'" + context_ + "'") +
                          " must be a mapping of keys to values, not " + type_name(node));
  for (const auto& kv : node) {
    if (!kv.first.IsScalar())
      throw ConfigError(file_, line_of(kv.first), "keys must be plain strings");
    std::string key = kv.first.Scalar();
    if (keys_nodes_.count(key))
      throw ConfigError(file_, line_of(kv.first), "key '" + qualified(key) + "' is given twice",
                        "keep one of them");
    if (std::find(known_.begin(), known_.end(), key) == known_.end()) {
      std::string best = util::closest(key, known_, 2).value_or("");
      std::string known_list;
      for (const auto& k : known_)
        known_list += (known_list.empty() ? "" : ", ") + k;
      throw ConfigError(file_, line_of(kv.first), "unknown key '" + qualified(key) + "'",
                        best.empty() ? "known keys here: " + known_list
                                     : "did you mean '" + best + "'? Known keys here: " + known_list);
    }
    keys_nodes_[key] = kv.second;
    key_lines_[key] = line_of(kv.first);
    entries_.emplace_back(key, kv.second);
  }
}

std::string MapReader::qualified(const std::string& key) const {
  return context_.empty() ? key : context_ + "." + key;
}

void MapReader::fail(const std::string& key, const std::string& message) const {
  const YAML::Node* node = find(key);
  throw ConfigError(file_, node ? line_of(*node) : 0, "'" + qualified(key) + "' " + message);
}

void MapReader::fail(const std::string& key, const std::string& message, const std::string& hint) const {
  throw ConfigError(file_, line(key), "'" + qualified(key) + "' " + message, hint);
}

int MapReader::key_line(const std::string& key) const {
  auto it = key_lines_.find(key);
  return it == key_lines_.end() ? 0 : it->second;
}

int MapReader::line(const std::string& key) const {
  const YAML::Node* node = find(key);
  return node ? line_of(*node) : 0;
}

std::optional<std::vector<std::pair<Located, Located>>> MapReader::located_map(const std::string& key) {
  const YAML::Node* node = find(key);
  if (!node || node->IsNull())
    return std::nullopt;
  if (!node->IsMap())
    fail(key, "must be a mapping of names to values, not " + type_name(*node));
  std::vector<std::pair<Located, Located>> out;
  for (const auto& kv : *node) {
    if (!kv.first.IsScalar() || !(kv.second.IsScalar() || kv.second.IsNull()))
      throw ConfigError(file_, line_of(kv.first),
                        "'" + qualified(key) + "' values must be strings, numbers or booleans");
    std::string name = kv.first.Scalar();
    for (const auto& [k, v] : out)
      if (k.value == name)
        throw ConfigError(file_, line_of(kv.first), "'" + qualified(key) + "." + name + "' is given twice");
    out.push_back({{name, line_of(kv.first)}, {kv.second.IsNull() ? "" : kv.second.Scalar(), line_of(kv.first)}});
  }
  return out;
}

const YAML::Node* MapReader::find(const std::string& key) const {
  auto it = keys_nodes_.find(key);
  return it == keys_nodes_.end() ? nullptr : &it->second;
}

bool MapReader::has(const std::string& key) const { return find(key) != nullptr; }

std::optional<Located> MapReader::string(const std::string& key) {
  const YAML::Node* node = find(key);
  if (!node || node->IsNull())
    return std::nullopt;
  if (!node->IsScalar())
    fail(key, "must be a string, not " + type_name(*node));
  return Located{node->Scalar(), line_of(*node)};
}

std::optional<std::vector<Located>> MapReader::string_list(const std::string& key) {
  const YAML::Node* node = find(key);
  if (!node || node->IsNull())
    return std::nullopt;
  if (!node->IsSequence())
    fail(key, "must be a list of strings, not " + type_name(*node));
  std::vector<Located> out;
  for (const auto& item : *node) {
    if (!item.IsScalar())
      throw ConfigError(file_, line_of(item),
                        "'" + qualified(key) + "' items must be strings, not " + type_name(item));
    out.push_back({item.Scalar(), line_of(item)});
  }
  return out;
}

std::optional<std::vector<Located>> MapReader::string_or_list(const std::string& key) {
  const YAML::Node* node = find(key);
  if (node && node->IsScalar())
    return std::vector<Located>{{node->Scalar(), line_of(*node)}};
  return string_list(key);
}

std::optional<std::vector<std::string>> MapReader::command(const std::string& key) {
  const YAML::Node* node = find(key);
  if (!node || node->IsNull())
    return std::nullopt;
  if (node->IsScalar())
    return std::vector<std::string>{node->Scalar()};
  if (!node->IsSequence())
    fail(key, "must be a command: a string (run by /bin/sh -c) or a list of arguments");
  std::vector<std::string> out;
  for (const auto& item : *node) {
    if (!item.IsScalar())
      throw ConfigError(file_, line_of(item), "'" + qualified(key) + "' arguments must be strings");
    out.push_back(item.Scalar());
  }
  return out;
}

std::optional<std::map<std::string, std::string>> MapReader::scalar_map(const std::string& key) {
  const YAML::Node* node = find(key);
  if (!node || node->IsNull())
    return std::nullopt;
  if (!node->IsMap())
    fail(key, "must be a mapping of names to values, not " + type_name(*node));
  std::map<std::string, std::string> out;
  for (const auto& kv : *node) {
    if (!kv.first.IsScalar() || !(kv.second.IsScalar() || kv.second.IsNull()))
      throw ConfigError(file_, line_of(kv.first),
                        "'" + qualified(key) + "' values must be strings, numbers or booleans");
    std::string name = kv.first.Scalar();
    if (out.count(name))
      throw ConfigError(file_, line_of(kv.first),
                        "'" + qualified(key) + "." + name + "' is given twice");
    out[name] = kv.second.IsNull() ? "" : kv.second.Scalar();
  }
  return out;
}

std::optional<MapReader> MapReader::map(const std::string& key, std::vector<std::string> known) {
  const YAML::Node* node = find(key);
  if (!node || node->IsNull())
    return std::nullopt;
  return MapReader(*node, file_, qualified(key), std::move(known));
}

std::optional<std::vector<MapReader>> MapReader::map_list(const std::string& key,
                                                         const std::vector<std::string>& known_keys) {
  const YAML::Node* node = find(key);
  if (!node || node->IsNull())
    return std::nullopt;
  if (!node->IsSequence())
    fail(key, "must be a list of mappings, not " + type_name(*node));
  std::vector<MapReader> out;
  size_t i = 0;
  for (const auto& item : *node) {
    if (!item.IsMap())
      throw ConfigError(file_, line_of(item),
                        "'" + qualified(key) + "[" + std::to_string(i) + "]' must be a mapping, not " + type_name(item));
    out.emplace_back(item, file_, qualified(key) + "[" + std::to_string(i) + "]", known_keys);
    ++i;
  }
  return out;
}

std::vector<std::string> MapReader::map_keys(const std::string& key) const {
  std::vector<std::string> out;
  const YAML::Node* node = find(key);
  if (node && node->IsMap())
    for (const auto& kv : *node)
      if (kv.first.IsScalar())
        out.push_back(kv.first.Scalar());
  return out;
}

std::optional<bool> MapReader::boolean(const std::string& key) {
  auto v = string(key);
  if (!v)
    return std::nullopt;
  if (v->value == "true")
    return true;
  if (v->value == "false")
    return false;
  fail(key, "must be true or false, not '" + v->value + "'");
}

std::optional<int> MapReader::integer(const std::string& key, int min, int max) {
  auto v = string(key);
  if (!v)
    return std::nullopt;
  try {
    size_t used = 0;
    int n = std::stoi(v->value, &used);
    if (used == v->value.size() && n >= min && n <= max)
      return n;
  } catch (const std::exception&) {
  }
  fail(key, "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
}

std::optional<std::map<std::string, std::vector<std::string>>> MapReader::list_map(const std::string& key) {
  const YAML::Node* node = find(key);
  if (!node || node->IsNull())
    return std::nullopt;
  if (!node->IsMap())
    fail(key, "must be a mapping of names to lists of values");
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& kv : *node) {
    std::string name = kv.first.IsScalar() ? kv.first.Scalar() : "";
    if (!kv.second.IsSequence() || kv.second.size() == 0)
      throw ConfigError(file_, line_of(kv.first),
                        "'" + qualified(key) + "." + name + "' must be a non-empty list of values");
    for (const auto& item : kv.second) {
      if (!item.IsScalar())
        throw ConfigError(file_, line_of(item), "'" + qualified(key) + "." + name + "' values must be scalars");
      out[name].push_back(item.Scalar());
    }
  }
  return out;
}

} // namespace mlrepo::config
