#pragma once
// A cache of discovery results under .git/mlrepo/cache, keyed by the root
// tree id of a commit. A tree id names the exact content of every file
// discovery reads, so an entry can never be stale; entries are written
// atomically (concurrent runs at worst write the same bytes twice), checked
// by a checksum when read, and deleting them only costs the next run time.
#include "mlrepo/project/graph.hpp"

#include <optional>
#include <string>
#include <vector>

namespace mlrepo::project {

struct CachedDiscovery {
  std::optional<std::string> workspace_yaml; // the root mlrepo.yaml, to parse again
  std::vector<Project> projects;
  std::vector<Edge> edges;
  std::vector<std::vector<PathInput>> path_deps;
  std::vector<OwnBaseUse> own_base;
};

std::string serialize_discovery(const std::optional<std::string>& workspace_yaml, const Graph& graph);
// nullopt for anything damaged, truncated or of another format version.
std::optional<CachedDiscovery> deserialize_discovery(std::string_view data);
// The same after the frame (magic, checksum) is checked: what a damaged file
// that still passes the checksum would reach, and what the fuzzer feeds.
std::optional<CachedDiscovery> decode_discovery_payload(std::string_view payload);

class DiscoveryCache {
public:
  // `dir` is created on first store; an empty dir disables the cache.
  explicit DiscoveryCache(std::string dir);
  std::optional<CachedDiscovery> load(const std::string& tree_id) const;
  void store(const std::string& tree_id, const std::string& data) const;

private:
  std::string dir_;
};

} // namespace mlrepo::project
