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
  render.out_dir = "-";
  render.check = false;
  render.skip_without_job = true; // a release of a project without a job deploys nothing
  auto rendered = run_render(repo, render, tools);
  const Target& target = target_named(rendered.target);
  DeployOutcome out;
  out.commit = rendered.commit;
  for (const auto& [project, image] : rendered.pinned) {
    ApplyRequest request;
    request.project = project;
    request.image = image;
    if (auto where = rendered.scheduled_elsewhere.find(project); where != rendered.scheduled_elsewhere.end())
      request.scheduled_elsewhere = where->second;
    std::string prefix = "-/" + project + "/";
    for (const auto& f : rendered.files)
      if (f.path.rfind(prefix, 0) == 0)
        request.files.push_back(&f);
    request.workdir = repo.workdir();
    auto program = opt.programs.find(target.tool);
    request.tool = program != opt.programs.end() && !program->second.empty() ? program->second : target.tool;
    request.ws = &rendered.ws;
    request.env = render.env;
    request.dry_run = opt.dry_run;
    ApplyResult result;
    try {
      result = target.apply(request, tools.runner());
    } catch (const Error& e) {
      std::string applied;
      for (const auto& done : out.projects)
        if (done.applied)
          applied += (applied.empty() ? "" : ", ") + done.project;
      throw Error(e.code(), std::string(e.what()) + "; " +
                                (applied.empty() ? "nothing was applied" : "applied before it: " + applied),
                  e.hint());
    }
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
