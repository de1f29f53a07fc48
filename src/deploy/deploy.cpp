#include "mlrepo/deploy/kubernetes.hpp"
#include "mlrepo/tools.hpp"

#include "mlrepo/util/error.hpp"
#include "mlrepo/util/process.hpp"
#include "mlrepo/util/text.hpp"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace mlrepo::deploy {

namespace {

// kubectl's words for a cluster it never reached (no API server answered),
// as opposed to one that answered with a refusal.
bool cluster_unreachable(const std::string& said) {
  for (const char* sign : {"Unable to connect to the server", "connection refused", "no such host",
                           "i/o timeout", "the server could not be reached", "dial tcp", "connect: network is unreachable",
                           "The connection to the server"})
    if (said.find(sign) != std::string::npos)
      return true;
  return false;
}

} // namespace

// The steps, in order: render as `job render -o -` would; per project, the
// CronJobs as one stream on kubectl's stdin; each object and digest said.
DeployOutcome run_deploy(const git::Repository& repo, const DeployOptions& opt, Tools& tools) {
  auto& runner = tools.runner();
  RenderOptions render = opt.render;
  render.out_dir = "-";
  render.check = false;
  render.skip_without_job = true; // a release of a project without a job deploys nothing
  auto rendered = run_render(repo, render, tools);
  DeployOutcome out;
  out.commit = rendered.commit;
  for (const auto& [project, image] : rendered.pinned) {
    Applied a;
    a.project = project;
    a.image = image;
    std::string stream;
    std::string prefix = "-/" + project + "/";
    for (const auto& f : rendered.files) {
      if (f.path.rfind(prefix, 0) != 0 || f.path.rfind(prefix + "cronjob", 0) != 0)
        continue;
      // The object's name is on the line after `metadata:`.
      auto at = f.content.find("\nmetadata:\n  name: '");
      if (at != std::string::npos) {
        auto start = at + std::string("\nmetadata:\n  name: '").size();
        a.objects.push_back("CronJob/" + f.content.substr(start, f.content.find('\'', start) - start));
      }
      stream += (stream.empty() ? "" : "---\n") + f.content;
    }
    bool elsewhere = std::find(rendered.scheduled_elsewhere.begin(), rendered.scheduled_elsewhere.end(), project) !=
                     rendered.scheduled_elsewhere.end();
    if (stream.empty() && elsewhere) {
      spdlog::info("{}: its schedule runs in GitHub Actions (job.runs_on: github-actions), so nothing to apply "
                   "here; set 'runs_on: kubernetes' in its job: to run it on the cluster instead",
                   project);
      out.projects.push_back(std::move(a));
      continue;
    }
    if (stream.empty()) {
      spdlog::info("{}: no schedule, so nothing to apply: its Job runs on demand "
                   "('mlrepo job render {} -o - | kubectl create -f -')",
                   project, project);
      out.projects.push_back(std::move(a));
      continue;
    }
    util::ProcessSpec spec;
    spec.argv = {opt.kubectl, "apply", "--server-side", "--field-manager=mlrepo", "--force-conflicts", "-f", "-"};
    spec.cwd = repo.workdir();
    spec.stdin_data = stream;
    spdlog::info("==> {}: {} {}", project, util::shell_quote(spec.argv), image);
    if (opt.dry_run) {
      out.projects.push_back(std::move(a));
      continue;
    }
    auto r = runner.run(spec);
    if (!r.ok()) {
      std::string err = r.said();
      // Exactly what reached the cluster before this one.
      std::string applied;
      for (const auto& done : out.projects)
        if (done.applied)
          applied += (applied.empty() ? "" : ", ") + done.project;
      std::string state = applied.empty() ? "nothing was applied" : "applied before it: " + applied;
      if (cluster_unreachable(err))
        throw EnvironmentError("kubectl cannot reach the cluster (" + err + "); " + state,
                               "check KUBECONFIG and 'kubectl cluster-info', then deploy again");
      throw Error(ExitCode::WorkFailed, "kubectl could not apply the job of " + project + ": " + err + "; " + state,
                  "check the cluster access (KUBECONFIG) and 'mlrepo job render " + project + " -o -'");
    }
    if (!r.out.empty())
      spdlog::info("{}", util::last_line(r.out));
    a.applied = !opt.dry_run;
    out.projects.push_back(std::move(a));
  }
  return out;
}

} // namespace mlrepo::deploy
