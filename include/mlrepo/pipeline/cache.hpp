#pragma once
// The step cache: a step's outputs kept under the key of everything that
// decides them (image digest, command, args, env, secret names, params and
// the content of its inputs), so a later run with the same key reuses them
// instead of running the step. An entry appears whole or not at all: outputs
// move in only after the step succeeded, by one rename.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mlrepo::pipeline {

struct CacheEntry {
  std::string outputs_dir;                    // one directory per output
  std::map<std::string, std::string> content; // output name -> tree_hash of it
};

class StepCache {
public:
  explicit StepCache(std::filesystem::path dir);

  const std::filesystem::path& dir() const { return dir_; }
  // The entry of an earlier successful run with this key; marks it used
  // (prune --older-than counts from the last use).
  std::optional<CacheEntry> find(const std::string& key) const;
  // Moves `outputs_dir` (one subdirectory per name in `names`) in as key's
  // entry, replacing an older one. `about` is kept beside it for people
  // (pipeline, step, image). The moved directory is gone afterwards.
  CacheEntry store(const std::string& key, const std::filesystem::path& outputs_dir,
                   const std::vector<std::string>& names, const std::string& about);

private:
  std::filesystem::path dir_;
};

// `mlrepo prune --pipeline-cache`: the cache entries (and the runs'
// directories) not used for `older_than_seconds` (all without it), with what
// they held. Only mlrepo's own directories under `pipelines_dir` are touched.
struct PrunedDir {
  std::string path;
  std::string about; // the entry's pipeline, step and image; a run's pipeline
  std::uintmax_t bytes = 0;
};
struct CachePrune {
  std::vector<PrunedDir> entries, runs;
};
CachePrune prune_pipeline_cache(const std::filesystem::path& pipelines_dir, std::optional<std::int64_t> older_than_seconds,
                                bool dry_run);

// The content of a directory tree: paths, kinds, the executable bit, file
// contents and link targets, hashed. Equal trees give equal hashes wherever
// they are; file times and owners do not count.
std::string tree_hash(const std::filesystem::path& dir);

// The cache key of a step from what decides its outputs (see above).
struct KeyInputs {
  std::string image_digest;
  std::vector<std::string> command, args;
  std::map<std::string, std::string> env;       // after params were substituted
  std::vector<std::string> secret_names;        // names only, never values
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<std::string> outputs;
  std::map<std::string, std::string> inputs; // input name -> tree_hash of its content
};
std::string step_key(const KeyInputs& inputs);

} // namespace mlrepo::pipeline
