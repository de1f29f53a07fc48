#include "mlrepo/deploy/deploy.hpp"

#include "mlrepo/deploy/target.hpp"
#include "mlrepo/tools.hpp"
#include "mlrepo/util/error.hpp"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace mlrepo::deploy {

// The steps, in order: render as `job render -o -` would; per project, its
// files to the target's tool (Kubernetes: the CronJobs as one stream on
// kubectl's stdin); each object and digest said. A failure says exactly
// what was applied before it.
DeployOutcome run_deploy(const git::Repository& repo, const DeployOptions& opt, Tools& tools) {
  RenderOptions render = opt.render;
  render.out_dir.emplace(1, '-'); // a stream (GCC 12 misreads assigning "-" here as an overlapping copy)
  render.check = false;
  render.skip_without_job = true; // a release of a project without a job deploys nothing
  auto rendered = run_render(repo, render, tools);
  const Target& target = target_named(rendered.target);
  DeployOutcome out;
  out.commit = rendered.commit;
  std::vector<std::string> applied;
  for (const auto& [project, image] : rendered.pinned) {
    ApplyRequest request;
    request.project = project;
    request.image = image;
    if (auto where = rendered.scheduled_elsewhere.find(project); where != rendered.scheduled_elsewhere.end())
      request.scheduled_elsewhere = where->second;
    request.files = files_of(rendered.files, project);
    request.workdir = repo.workdir();
    request.tool = program_of(target, opt.programs);
    request.ws = &rendered.ws;
    request.env = render.env;
    request.dry_run = opt.dry_run;
    auto result = apply_item(target, request, tools.runner(), applied);
    if (result.applied)
      applied.push_back(project);
    if (!result.note.empty())
      spdlog::info("{}: {}", project, result.note);
    Applied a;
    a.project = project;
    a.image = image;
    a.objects = std::move(result.objects);
    a.applied = result.applied;
    a.unchanged = result.unchanged;
    out.projects.push_back(std::move(a));
  }
  return out;
}

} // namespace mlrepo::deploy
