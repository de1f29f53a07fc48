#include "mlrepo/deploy/pipeline.hpp"

#include "mlrepo/deploy/target.hpp"
#include "mlrepo/pipeline/list.hpp"
#include "mlrepo/tools.hpp"
#include "mlrepo/util/error.hpp"
#include "mlrepo/workspace.hpp"

#include <map>
#include <optional>
#include <spdlog/spdlog.h>

namespace mlrepo::deploy {
namespace {

// The pipelines named (every unknown one at once, each with its nearest
// name), or all of them.
std::vector<const config::PipelineSpec*> chosen_pipelines(const config::WorkspaceConfig& ws,
                                                          const PipelineRenderOptions& opt) {
  if (opt.all && !opt.names.empty())
    throw UsageError("name pipelines or use --all, not both");
  std::vector<const config::PipelineSpec*> out;
  if (opt.all || (opt.changed && opt.names.empty())) {
    for (const auto& p : ws.pipelines)
      out.push_back(&p);
    return out;
  }
  if (opt.names.empty()) {
    std::string example = ws.pipelines.empty() ? "" : ws.pipelines.front().name;
    throw UsageError("which pipelines? Name them, or use --all or --changed",
                     example.empty() ? std::string("no pipeline yet: add a 'pipelines:' section to ") + ws.file +
                                           " (docs/pipelines.md)"
                                     : "e.g. 'mlrepo pipeline render --all', or 'mlrepo pipeline render " + example +
                                           " -o -'");
  }
  Problems problems;
  for (const auto& name : opt.names) {
    try {
      const auto& spec = pipeline::find_pipeline(ws, name);
      if (std::find(out.begin(), out.end(), &spec) == out.end())
        out.push_back(&spec);
    } catch (const Error& e) {
      problems.push_back(std::make_shared<Error>(e));
    }
  }
  throw_all(problems, "unknown pipelines");
  return out;
}

} // namespace

// The steps, in order: the commit; the chosen pipelines and their plans;
// each step's project pinned once; the target's files; written, checked or
// streamed.
PipelineRenderOutcome run_pipeline_render(const git::Repository& repo, const PipelineRenderOptions& opt,
                                          Tools& tools) {
  const auto& env = tools.run();
  bool stream = opt.out_dir && *opt.out_dir == "-";
  if (stream && opt.check)
    throw UsageError("--check compares files on disk; it does not go with -o -");
  git_oid commit = repo.require_commit("HEAD", "HEAD");
  std::optional<ChangesResult> changes;
  if (opt.changed) {
    auto selection = opt.selection;
    selection.uncommitted = false; // rendered files pin images of commits
    changes = find_changes(repo, selection, env);
    commit = changes->selection.head;
  }
  View view = open_view(repo, commit, ViewOptions{});
  const auto& ws = view.config;
  const Target& target = target_named(opt.target);
  if (!target.render_pipeline)
    throw UsageError(std::string(target.display) + " does not run pipelines",
                     "render them for Kubernetes (Argo Workflows): 'mlrepo pipeline render --all', or run one here "
                     "with 'mlrepo pipeline run NAME'");
  auto specs = chosen_pipelines(ws, opt);
  if (ws.registry.empty())
    throw UsageError("a rendered pipeline names each image by registry digest, and mlrepo.yaml sets no 'registry:'",
                     "add e.g. 'registry: ghcr.io/<owner>' to mlrepo.yaml");
  target.require_env(ws, opt.env);
  auto plans = pipeline::make_plans(view, specs);
  if (changes) {
    auto touched = pipeline::changed_pipelines(repo, *changes);
    std::vector<pipeline::Plan> kept;
    for (auto& plan : plans)
      if (std::find(touched.begin(), touched.end(), plan.name) != touched.end())
        kept.push_back(std::move(plan));
      else
        spdlog::info("{}: neither a step's project nor its spec changed; left as it is", plan.name);
    plans = std::move(kept);
  }

  PipelineRenderOutcome out;
  out.commit = git::oid_hex(commit);
  auto& client = tools.registry(opt.client);
  std::string dir = stream ? "-" : output_dir(opt.out_dir, target.pipelines_dir(ws), opt.cwd, repo.workdir());
  // Each project once, however many steps or pipelines run its image.
  std::map<std::string, StepImage> images;
  std::vector<std::pair<const project::Project*, std::string>> missing;
  const auto& graph = view.graph;
  for (const auto& plan : plans)
    for (const auto& step : plan.steps) {
      if (images.count(step.project_name) || std::any_of(missing.begin(), missing.end(), [&](const auto& m) {
            return m.first->name == step.project_name;
          }))
        continue;
      const auto& p = graph.projects()[step.project];
      auto pin = pin_image(repo, view, commit, p, std::nullopt, client, env);
      if (!pin.image)
        missing.push_back({&p, pin.missing});
      else
        images[p.name] = StepImage{*pin.image, p.path};
    }
  Problems problems;
  missing_image_problems(repo, missing, false, env, problems);
  throw_all(problems, "images missing from the registry");

  for (const auto& plan : plans) {
    PipelineImages pinned{plan.name, {}};
    for (const auto& step : plan.steps) {
      std::pair<std::string, std::string> image{step.project_name, images.at(step.project_name).pinned.reference};
      if (std::find(pinned.images.begin(), pinned.images.end(), image) == pinned.images.end())
        pinned.images.push_back(std::move(image));
    }
    out.pinned.push_back(std::move(pinned));
    for (auto& f : target.render_pipeline({plan, ws, images, opt.env, dir}))
      out.files.push_back(std::move(f));
  }
  if (stream) {
    out.stream = target.stream(out.files);
    return out;
  }
  // Only a render of every pipeline knows what is obsolete.
  out.sync = write_rendered(out.files, repo.workdir(), target.pipeline_marker, target.marker_anywhere, opt.check,
                            opt.all ? dir : "",
                            "move it, or render to another directory with -o DIR (kubernetes.pipelines_dir in mlrepo.yaml)");
  return out;
}

// Render as `pipeline render -o -` would; each pipeline's objects to the
// target's apply; a failure says what was applied before it.
PipelineDeployOutcome run_pipeline_deploy(const git::Repository& repo, const PipelineDeployOptions& opt,
                                          Tools& tools) {
  PipelineRenderOptions render = opt.render;
  render.out_dir = "-";
  render.check = false;
  auto rendered = run_pipeline_render(repo, render, tools);
  const Target& target = target_named(render.target);
  PipelineDeployOutcome out;
  out.commit = rendered.commit;
  std::vector<std::string> applied;
  for (const auto& pinned : rendered.pinned) {
    ApplyRequest request;
    request.project = pinned.pipeline;
    request.what = "the pipeline";
    request.image = pinned.images.empty() ? "" : pinned.images.front().second;
    request.files = files_of(rendered.files, pinned.pipeline);
    request.workdir = repo.workdir();
    request.tool = program_of(target, opt.programs);
    request.dry_run = opt.dry_run;
    auto result = apply_item(target, request, tools.runner(), applied);
    if (result.applied)
      applied.push_back(pinned.pipeline);
    out.pipelines.push_back({pinned.pipeline, std::move(result.objects), pinned.images, result.applied});
  }
  return out;
}

} // namespace mlrepo::deploy
