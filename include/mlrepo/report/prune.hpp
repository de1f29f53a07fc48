#pragma once
#include "mlrepo/pipeline/cache.hpp"
// How `mlrepo prune` shows its work: one line per image deleted (as it
// happens), the dry run's plan of what goes and what stays and why, and JSON.
#include "mlrepo/release/prune.hpp"

#include <string>

namespace mlrepo::report {

// "delete 127.0.0.1:5000/acme/churn@sha256:… (content-…, 0123…; created 2026-11-01T…)"
std::string prune_deleted_line(const release::PruneProject& project, const release::PruneImage& image);
// Per project: each image, "delete" or "keep" with the reason; a count at the end.
std::string prune_plan_text(const release::PruneOutcome& outcome);
// {"default_branch","commit","keep_last","older_than_seconds","dry_run",
//  "projects":[{"name","repository","removed","deleted":[{"digest","tags","created"}],
//               "kept":[{"digest","tags","created","reason"}]}]}
std::string prune_json(const release::PruneOutcome& outcome);

// `prune --pipeline-cache`: each removed cache entry and run directory with
// its size, then a total; the JSON lists the same.
std::string pipeline_prune_text(const pipeline::CachePrune& prune, bool dry_run);
std::string pipeline_prune_json(const pipeline::CachePrune& prune, bool dry_run);

} // namespace mlrepo::report
