#pragma once
// `mlrepo pipeline list`: every pipeline with its steps in order, their
// projects and images, its schedule and next runs, and (with --changed) the
// steps whose projects a change touches.
#include "mlrepo/job/spec.hpp"
#include "mlrepo/pipeline/plan.hpp"

#include <vector>

namespace mlrepo::pipeline {

struct PipelineEntry {
  Plan plan;
  std::vector<job::ScheduledRun> next; // of all its crons, earliest first
  std::vector<std::string> images;     // per step: its project's image repository
  std::vector<bool> changed;           // per step: its project changed (with a change set)
};

// Every pipeline of the workspace (document order); with `changes`, only
// those with a step whose project changed. Every problem of every pipeline
// is reported at once (exit 2).
std::vector<PipelineEntry> list_pipelines(const View& view, util::UnixSeconds now, int count,
                                          const ChangesResult* changes);

// The pipelines (names, document order) a change touched: a step's project
// changed, or the pipeline's own spec differs from the merge base's (or is
// new there); every one when everything counts as changed or the base's
// config does not open. What CI's deploy job applies.
std::vector<std::string> changed_pipelines(const git::Repository& repo, const ChangesResult& changes);

} // namespace mlrepo::pipeline
