#pragma once
// Discovery results for the work tree, remembered with every file discovery
// read and every path it asked about. Work-tree files have no tree id, so an
// entry is trusted the way git trusts its index: only while each file it read
// still has the same inode, size, mtime and ctime, each path it found absent
// is still absent, and the project directories are the same ones. A file
// changed within two seconds of being read is never remembered, so two edits
// within one timestamp tick cannot hide. One entry (the latest work tree),
// written atomically; deleting it only costs the next run time.
#include "mlrepo/git/snapshot.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mlrepo::project {

class WorktreeCache {
public:
  // `file` holds the entry (empty: no cache); `root` is the work tree.
  WorktreeCache(std::string file, std::string root);

  // A snapshot that answers like `inner` and notes what was asked of it.
  std::unique_ptr<git::Snapshot> recording(std::unique_ptr<git::Snapshot> inner);

  // The remembered discovery (cache.hpp's encoding) for these project
  // directories, when everything it read is unchanged.
  std::optional<std::string> load(const std::vector<std::string>& dirs) const;
  // Remembers `discovery` with what the recording snapshot was asked.
  void store(const std::vector<std::string>& dirs, const std::string& discovery) const;

  struct Dependency {
    enum class Kind { Absent, File, Present } kind;
    uint64_t dev = 0, ino = 0, size = 0;
    int64_t mtime_ns = 0, ctime_ns = 0;
    bool operator==(const Dependency&) const = default;
  };

  // An entry's payload (after its frame and checksum) for these project
  // directories (null: any): what it depends on and the remembered
  // discovery; nullopt when damaged or for other directories. Public for
  // the fuzzer.
  struct Entry {
    std::vector<std::pair<std::string, Dependency>> deps;
    std::string discovery;
  };
  static std::optional<Entry> decode(std::string_view payload, const std::vector<std::string>* dirs);

private:
  bool unchanged(const std::vector<std::pair<std::string, Dependency>>& deps) const;

  std::string file_, root_;
  int64_t started_ns_;
  std::shared_ptr<std::map<std::string, Dependency>> seen_;
  std::shared_ptr<bool> unsure_; // something changed while it was read
};

} // namespace mlrepo::project
