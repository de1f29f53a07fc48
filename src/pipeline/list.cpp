#include "mlrepo/pipeline/list.hpp"

#include "mlrepo/util/error.hpp"

#include <memory>

namespace mlrepo::pipeline {
namespace {

// A copy that keeps what the reporter needs (a ConfigError's file and line).
std::shared_ptr<const Error> kept(const Error& e) {
  if (const auto* c = dynamic_cast<const ConfigError*>(&e))
    return std::make_shared<ConfigError>(*c);
  return std::make_shared<Error>(e);
}

} // namespace

std::vector<PipelineEntry> list_pipelines(const View& view, util::UnixSeconds now, int count,
                                          const ChangesResult* changes) {
  std::vector<PipelineEntry> out;
  std::vector<std::shared_ptr<const Error>> problems;
  for (const auto& spec : view.config.pipelines) {
    PipelineEntry e;
    try {
      e.plan = make_plan(spec, view);
    } catch (const Error& err) {
      problems.push_back(kept(err));
      continue;
    }
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
  throw_all(problems, "pipelines with problems");
  return out;
}

} // namespace mlrepo::pipeline
