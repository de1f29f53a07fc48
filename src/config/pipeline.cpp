// The workspace's pipelines: section. Each value is checked where it is read
// (types, names, durations, crons); what refers to other steps or to projects
// is checked by pipeline/plan.cpp, which knows the projects and reports every
// such problem at once.
#include "fields.hpp"

#include "mlrepo/util/error.hpp"
#include "mlrepo/util/text.hpp"
#include "mlrepo/util/units.hpp"

#include <cctype>
#include <regex>

namespace mlrepo::config {
namespace {

const std::vector<std::string> kPipelineKeys{"steps",       "params",  "schedule", "timezone",
                                             "concurrency", "timeout", "runs_on"};
const std::vector<std::string> kStepKeys{"project", "command", "args",    "env",    "secrets", "resources",
                                         "timeout", "retries", "outputs", "inputs", "after"};

// Argo names a run's pods after the pipeline (<name>-<suffix>), and a
// CronWorkflow's Workflows after it too: 52 characters leave room, as for a
// CronJob.
constexpr size_t kMaxPipelineName = 52;

// Artifact and parameter names: directories in the container, and Argo's
// artifact and parameter names ([a-zA-Z0-9_-]).
bool artifact_name(const std::string& s) {
  static const std::regex pattern("[A-Za-z0-9_][A-Za-z0-9_-]{0,62}");
  return std::regex_match(s, pattern);
}

void check_pipeline_name(MapReader& pipelines, const std::string& name) {
  if (!util::is_dns_label(name) || name.size() > kMaxPipelineName)
    throw ConfigError(pipelines.file(), pipelines.key_line(name),
                      "pipeline name '" + name + "' is not a name Kubernetes accepts for an Argo workflow",
                      "lower-case letters, digits and '-', starting and ending with a letter or digit, at most " +
                          std::to_string(kMaxPipelineName) + " characters (Argo names its runs after it), e.g. "
                          "churn-nightly");
}

void check_step_name(MapReader& steps, const std::string& pipeline, const std::string& name) {
  if (!util::is_dns_label(name))
    throw ConfigError(steps.file(), steps.key_line(name),
                      "step name '" + name + "' (pipeline " + pipeline + ") is not a name Kubernetes accepts",
                      "lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63, "
                      "e.g. train or extract-features");
  // A step is an Argo DAG task, and Argo refuses `depends` on a task whose
  // name starts with a digit (argoproj/argo-workflows#4199).
  if (std::isdigit(static_cast<unsigned char>(name[0])))
    throw ConfigError(steps.file(), steps.key_line(name),
                      "step name '" + name + "' (pipeline " + pipeline +
                          ") starts with a digit, which Argo Workflows refuses for a task other tasks depend on",
                      "start it with a letter, e.g. step-" + name);
}

StepSpec parse_step(MapReader& steps, const std::string& pipeline, const std::string& name) {
  const std::string prefix = "pipelines." + pipeline + ".steps." + name + ".";
  StepSpec step;
  step.name = name;
  step.line = steps.key_line(name);
  auto m = steps.map(name, kStepKeys);
  if (!m)
    throw ConfigError(steps.file(), step.line, "step '" + name + "' of pipeline " + pipeline + " is empty",
                      "give it at least the project whose image runs: '" + name + ": {project: NAME}'");
  auto project = m->string("project");
  if (!project || project->value.empty())
    throw ConfigError(steps.file(), step.line, "step '" + name + "' of pipeline " + pipeline + " names no project",
                      "add 'project: NAME' (a project's name or path): its image runs the step");
  step.project = *project;
  step.given = parse_run_fields(*m, prefix, step.run);
  for (const auto& o : m->string_list("outputs").value_or(std::vector<Located>{})) {
    if (!artifact_name(o.value))
      throw ConfigError(m->file(), o.line, "'" + prefix + "outputs' name '" + o.value + "' is not an artifact name",
                        "letters, digits, '_' and '-', not starting with '-', at most 63, e.g. model");
    step.outputs.push_back(o);
  }
  for (const auto& [input, from] :
       m->located_map("inputs").value_or(std::vector<std::pair<Located, Located>>{})) {
    if (!artifact_name(input.value))
      throw ConfigError(m->file(), input.line,
                        "'" + prefix + "inputs' name '" + input.value + "' is not an artifact name",
                        "letters, digits, '_' and '-', not starting with '-', at most 63, e.g. features");
    auto dot = from.value.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == from.value.size() ||
        from.value.find('.', dot + 1) != std::string::npos)
      throw ConfigError(m->file(), from.line,
                        "'" + prefix + "inputs." + input.value + "' is '" + from.value +
                            "', not STEP.OUTPUT",
                        "name the step and its output, e.g. '" + input.value + ": extract." + input.value + "'");
    step.inputs.push_back({input, from});
  }
  step.after = m->string_list("after").value_or(std::vector<Located>{});
  return step;
}

PipelineSpec parse_pipeline(MapReader& pipelines, const std::string& name) {
  check_pipeline_name(pipelines, name);
  const std::string prefix = "pipelines." + name + ".";
  PipelineSpec spec;
  spec.name = name;
  spec.line = pipelines.key_line(name);
  auto m = pipelines.map(name, kPipelineKeys);
  if (!m || !m->has("steps"))
    throw ConfigError(pipelines.file(), spec.line, "pipeline " + name + " has no steps",
                      "add e.g.\n  steps:\n    train: {project: churn-model}");
  auto step_names = m->map_keys("steps");
  auto steps = m->map("steps", step_names);
  if (step_names.empty() || !steps)
    throw ConfigError(pipelines.file(), m->line("steps"), "pipeline " + name + " has no steps",
                      "add e.g.\n  steps:\n    train: {project: churn-model}");
  for (const auto& step : step_names) {
    check_step_name(*steps, name, step);
    spec.steps.push_back(parse_step(*steps, name, step));
  }
  for (const auto& [param, value] :
       m->located_map("params").value_or(std::vector<std::pair<Located, Located>>{})) {
    if (!artifact_name(param.value))
      throw ConfigError(m->file(), param.line, "'" + prefix + "params' name '" + param.value + "' is not a parameter name",
                        "letters, digits, '_' and '-', not starting with '-', e.g. day");
    spec.params.emplace_back(param, value);
  }
  parse_schedule_fields(*m, prefix, "pipeline", spec.schedule);
  parse_runs_on(*m, spec.schedule);
  if (spec.schedule.runs_on == JobTarget::Ecs)
    m->fail("runs_on", "a pipeline runs in GitHub Actions or on Kubernetes (Argo Workflows), not on ECS",
            "write 'runs_on: github-actions' or 'runs_on: kubernetes'; its steps' jobs can still run on ECS alone");
  if (auto t = m->string("timeout")) {
    try {
      spec.timeout_seconds = util::parse_duration(t->value);
    } catch (const std::invalid_argument& e) {
      throw ConfigError(m->file(), t->line, "'" + prefix + "timeout': " + e.what());
    }
  }
  return spec;
}

} // namespace

std::vector<PipelineSpec> parse_pipelines(MapReader& workspace) {
  std::vector<PipelineSpec> out;
  auto names = workspace.map_keys("pipelines");
  auto pipelines = workspace.map("pipelines", names);
  if (!pipelines)
    return out;
  for (const auto& name : names)
    out.push_back(parse_pipeline(*pipelines, name));
  return out;
}

} // namespace mlrepo::config
