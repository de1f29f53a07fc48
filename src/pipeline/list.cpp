#include "mlrepo/pipeline/list.hpp"

#include "mlrepo/util/error.hpp"

#include <optional>
#include <set>

namespace mlrepo::pipeline {

std::vector<PipelineEntry> list_pipelines(const View& view, util::UnixSeconds now, int count,
                                          const ChangesResult* changes) {
  std::vector<PipelineEntry> out;
  // Every pipeline planned, every pipeline's problems at once.
  for (auto& plan : make_plans(view)) {
    PipelineEntry e;
    e.plan = std::move(plan);
    e.next = job::next_runs(e.plan.schedule, now, count);
    bool any = false;
    for (const auto& step : e.plan.steps) {
      const auto& p = view.graph.projects()[step.project];
      e.images.push_back(p.image);
      bool touched = false;
      if (changes)
        for (const auto& c : changes->set.changed)
          touched |= changes->view.graph.projects()[c.project].path == p.path;
      e.changed.push_back(touched);
      any |= touched;
    }
    if (!changes || any)
      out.push_back(std::move(e));
  }
  return out;
}

std::vector<std::string> changed_pipelines(const git::Repository& repo, const ChangesResult& changes) {
  const auto& ws = changes.view.config;
  std::vector<std::string> out;
  if (ws.pipelines.empty())
    return out;
  std::optional<View> base;
  if (!changes.selection.everything && changes.selection.merge_base)
    try {
      base.emplace(open_view(repo, *changes.selection.merge_base, ViewOptions{.skip_invalid = true}));
    } catch (const Error&) {
      // A base whose config does not open: every pipeline counts as changed.
    }
  std::set<std::string> projects; // the changed ones, by name
  for (const auto& c : changes.set.changed)
    projects.insert(changes.view.graph.projects()[c.project].name);
  for (const auto& spec : ws.pipelines) {
    bool touched = !base;
    if (!touched) {
      const config::PipelineSpec* before = nullptr;
      for (const auto& b : base->config.pipelines)
        if (b.name == spec.name)
          before = &b;
      touched = !before || !(*before == spec);
    }
    if (!touched) {
      // A spec names its projects by name or path: the plan resolves them.
      auto plan = make_plan(spec, changes.view);
      for (const auto& step : plan.steps)
        touched |= projects.count(step.project_name) > 0;
    }
    if (touched)
      out.push_back(spec.name);
  }
  return out;
}

} // namespace mlrepo::pipeline
