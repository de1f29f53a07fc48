#pragma once
// One normalised plan per pipeline run: the steps in dependency order with
// their projects, merged run fields (the step's over its project's job:),
// artifacts and edges. The local runner and the Argo renderer both read this
// plan, so the order, the mounts and the DAG cannot drift apart.
#include "mlrepo/config/config.hpp"
#include "mlrepo/workspace.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mlrepo::pipeline {

// Where a step's artifacts are in its container, locally and in the cluster.
inline constexpr const char* kOutputsDir = "/mlrepo/outputs";
inline constexpr const char* kInputsDir = "/mlrepo/inputs";

struct StepInput {
  std::string name;   // mounted read-only at kInputsDir/name
  size_t step;        // the plan's index of the step that writes it
  std::string output; // that step's output name
};

struct Step {
  std::string name;
  size_t project; // index into the view's graph
  std::string project_name;
  // command, args, env, secrets, resources, timeout (each attempt), retries:
  // the step's own, else its project's job:. `{{params.NAME}}` left in place.
  config::JobSpec run;
  std::vector<std::string> outputs; // written at kOutputsDir/name
  std::vector<StepInput> inputs;
  std::vector<size_t> after;    // steps named under after: (no artifact)
  std::vector<size_t> upstream; // every step it directly needs: inputs and after, sorted
  std::vector<std::string> params; // the params its command, args and env use, sorted
};

// A directory a step's container sees: an output it writes, or an input
// (read-only) that an upstream step wrote. The local runner mounts these and
// the Argo renderer declares them as artifacts: one list, so the paths agree.
struct Mount {
  std::string artifact; // the output's or the input's name
  std::string path;     // in the container: kOutputsDir/NAME or kInputsDir/NAME
  bool input = false;
  size_t from_step = 0;    // an input's writer (plan index)
  std::string from_output; // and its output's name
};

// The step's outputs, then its inputs, each as written.
std::vector<Mount> mounts(const Step& step);

// `from` runs after `to`; `artifact` is empty for an after: edge.
struct Edge {
  size_t from, to;
  std::optional<std::string> artifact;
};

struct Plan {
  std::string name;
  std::string file; // the workspace config, for messages
  std::vector<Step> steps; // dependency order: each after the steps it needs (ties: as written)
  std::vector<Edge> edges; // sorted by (from, to, artifact)
  std::vector<std::pair<std::string, std::string>> params; // name -> value (default or --param), as written
  config::JobSpec schedule; // schedule, timezone, concurrency
  std::int64_t timeout_seconds = 0;

  std::optional<size_t> find(const std::string& step) const;
  // Every step downstream of `step` (not itself), in plan order.
  std::vector<size_t> downstream(size_t step) const;
};

// The pipeline called `name`: exit 2 naming the nearest one when none is.
const config::PipelineSpec& find_pipeline(const config::WorkspaceConfig& ws, const std::string& name);

// The plan of `spec` over `view`'s projects, with `params` (--param NAME=VALUE)
// over the defaults. Every problem at once, exit 2, each naming the file,
// line and key: an unknown project, step, output or parameter, a cycle, an
// input of a step's own output, a duplicate output.
Plan make_plan(const config::PipelineSpec& spec, const View& view,
               const std::map<std::string, std::string>& params = {});

// Every pipeline of the workspace (or those of `specs`), planned with its
// defaults; every pipeline's problems at once.
std::vector<Plan> make_plans(const View& view);
std::vector<Plan> make_plans(const View& view, const std::vector<const config::PipelineSpec*>& specs);

// `text` with each {{params.NAME}} replaced by `values`' NAME.
std::string substitute(const std::string& text, const std::vector<std::pair<std::string, std::string>>& values);

// A step's run fields with every {{params.NAME}} replaced (command, args, env values).
config::JobSpec with_params(const config::JobSpec& run, const std::vector<std::pair<std::string, std::string>>& values);

} // namespace mlrepo::pipeline
