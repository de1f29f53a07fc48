// From a pipeline as written to the plan both runners read. The passes: the
// projects, the references (inputs, after, params), the order (which also
// finds cycles), and the merged run fields.
#include "mlrepo/pipeline/plan.hpp"

#include "mlrepo/util/error.hpp"
#include "mlrepo/util/text.hpp"

#include <algorithm>
#include <memory>
#include <regex>
#include <set>

namespace mlrepo::pipeline {
namespace {

using Problems = std::vector<std::shared_ptr<const Error>>;

struct Checker {
  const config::PipelineSpec& spec;
  std::string file;
  Problems problems;

  void add(int line, std::string message, std::string hint) {
    problems.push_back(std::make_shared<ConfigError>(file, line, std::move(message), std::move(hint)));
  }
  std::string key(const config::StepSpec& s, const std::string& rest) const {
    return "'pipelines." + spec.name + ".steps." + s.name + "." + rest + "'";
  }
};

std::vector<std::string> step_names(const config::PipelineSpec& spec) {
  std::vector<std::string> out;
  for (const auto& s : spec.steps)
    out.push_back(s.name);
  return out;
}

using util::did_you_mean;
using util::listed;

// Each step's project, by name or path.
std::vector<std::optional<size_t>> resolve_projects(Checker& c, const View& view) {
  std::vector<std::string> names;
  for (const auto& p : view.graph.projects())
    names.push_back(p.name);
  std::vector<std::optional<size_t>> out;
  for (const auto& s : c.spec.steps) {
    auto i = view.graph.find(s.project.value);
    if (!i)
      c.add(s.project.line, c.key(s, "project") + " names '" + s.project.value + "', which is no project",
            did_you_mean(s.project.value, names, "'mlrepo list' shows the projects (a name, or a path from the root)"));
    out.push_back(i);
  }
  return out;
}

const std::regex& param_use() {
  static const std::regex use(R"(\{\{\s*params\.([^}\s]*)\s*\}\})");
  return use;
}

// The NAMEs of the {{params.NAME}} in `text`.
std::vector<std::string> params_in(const std::string& text) {
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), param_use()); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1]);
  return out;
}

// Every param a step's run fields use, sorted.
std::vector<std::string> params_used(const config::JobSpec& run) {
  std::set<std::string> names;
  auto add = [&](const std::string& text) {
    for (auto& n : params_in(text))
      names.insert(std::move(n));
  };
  for (const auto& w : run.command)
    add(w);
  for (const auto& w : run.args)
    add(w);
  for (const auto& [k, v] : run.env)
    add(v);
  return {names.begin(), names.end()};
}

// Every {{params.NAME}} in `text` names a parameter.
void check_params_used(Checker& c, const config::StepSpec& s, const std::string& field, const std::string& text,
                       const std::set<std::string>& known) {
  for (const auto& name : params_in(text)) {
    if (known.count(name))
      continue;
    c.add(s.line, c.key(s, field) + " uses {{params." + name + "}}, and pipeline " + c.spec.name +
                      " has no parameter '" + name + "'",
          "declare it under 'pipelines." + c.spec.name + ".params' with its default, e.g. '" + name + ": \"\"'");
  }
}

// Upstream steps from inputs and after:, each reference checked.
std::vector<std::vector<size_t>> references(Checker& c, std::vector<std::vector<StepInput>>& inputs,
                                            std::vector<std::vector<size_t>>& after) {
  const auto names = step_names(c.spec);
  auto index = [&](const std::string& n) -> std::optional<size_t> {
    auto it = std::find(names.begin(), names.end(), n);
    return it == names.end() ? std::nullopt : std::optional<size_t>(it - names.begin());
  };
  const size_t n = c.spec.steps.size();
  std::vector<std::vector<size_t>> upstream(n);
  inputs.assign(n, {});
  after.assign(n, {});
  for (size_t i = 0; i < n; ++i) {
    const auto& s = c.spec.steps[i];
    std::set<std::string> outputs;
    for (const auto& o : s.outputs)
      if (!outputs.insert(o.value).second)
        c.add(o.line, c.key(s, "outputs") + " lists '" + o.value + "' twice",
              "each output is one directory (" + std::string(kOutputsDir) + "/" + o.value + "): list it once");
    for (const auto& in : s.inputs) {
      auto dot = in.from.value.find('.');
      std::string step = in.from.value.substr(0, dot), output = in.from.value.substr(dot + 1);
      auto from = index(step);
      if (!from) {
        c.add(in.from.line, c.key(s, "inputs." + in.name.value) + " reads from the step '" + step +
                                ", which pipeline " + c.spec.name + " does not have",
              did_you_mean(step, names, "its steps are: " + listed(names)));
        continue;
      }
      if (*from == i) {
        c.add(in.from.line, c.key(s, "inputs." + in.name.value) + " reads step " + s.name +
                                "'s own output: an input comes from a step upstream",
              "name the step that writes '" + output + "', or drop the input");
        continue;
      }
      const auto& source = c.spec.steps[*from];
      bool has = std::any_of(source.outputs.begin(), source.outputs.end(),
                             [&](const config::Located& o) { return o.value == output; });
      if (!has) {
        std::vector<std::string> theirs;
        for (const auto& o : source.outputs)
          if (std::find(theirs.begin(), theirs.end(), o.value) == theirs.end())
            theirs.push_back(o.value);
        c.add(in.from.line, c.key(s, "inputs." + in.name.value) + " reads '" + output + "' of step " + step +
                                ", which has no such output (its outputs: " + listed(theirs) + ")",
              did_you_mean(output, theirs, "add '" + output + "' to the outputs of " + step));
        continue;
      }
      inputs[i].push_back({in.name.value, *from, output});
      upstream[i].push_back(*from);
    }
    for (const auto& a : s.after) {
      auto from = index(a.value);
      if (!from) {
        c.add(a.line, c.key(s, "after") + " names the step '" + a.value + "', which pipeline " + c.spec.name +
                          " does not have",
              did_you_mean(a.value, names, "its steps are: " + listed(names)));
        continue;
      }
      if (*from == i) {
        c.add(a.line, c.key(s, "after") + " names step " + s.name + " itself", "remove it from its own 'after'");
        continue;
      }
      after[i].push_back(*from);
      upstream[i].push_back(*from);
    }
    std::sort(upstream[i].begin(), upstream[i].end());
    upstream[i].erase(std::unique(upstream[i].begin(), upstream[i].end()), upstream[i].end());
  }
  return upstream;
}

// A dependency order (ties: as written), or the steps of a cycle.
std::vector<size_t> order(Checker& c, const std::vector<std::vector<size_t>>& upstream) {
  const size_t n = upstream.size();
  std::vector<size_t> out;
  std::vector<bool> placed(n, false);
  while (out.size() < n) {
    bool progress = false;
    for (size_t i = 0; i < n; ++i) {
      if (placed[i])
        continue;
      if (std::all_of(upstream[i].begin(), upstream[i].end(), [&](size_t u) { return placed[u]; })) {
        placed[i] = true;
        out.push_back(i);
        progress = true;
        break; // the earliest ready step first: document order among equals
      }
    }
    if (progress)
      continue;
    // Walk upstream from an unplaced step until a step repeats: that loop is a cycle.
    size_t at = 0;
    while (placed[at])
      ++at;
    std::vector<size_t> path;
    std::vector<int> seen(n, -1);
    while (seen[at] < 0) {
      seen[at] = static_cast<int>(path.size());
      path.push_back(at);
      for (size_t u : upstream[at])
        if (!placed[u]) {
          at = u;
          break;
        }
    }
    std::string cycle;
    for (size_t k = static_cast<size_t>(seen[at]); k < path.size(); ++k)
      cycle += c.spec.steps[path[k]].name + " -> ";
    cycle += c.spec.steps[at].name;
    c.add(c.spec.steps[at].line,
          "the steps of pipeline " + c.spec.name + " form a cycle (each needs the next): " + cycle,
          "a step can only read from or run after steps before it: remove one of these inputs or 'after' entries");
    return {};
  }
  return out;
}

// The step's fields over its project's job: (env and secrets merged, the
// step's winning; a variable it makes a secret is no longer plain env).
config::JobSpec merged_run(const config::StepSpec& s, const project::Project& p) {
  config::JobSpec job = p.config && p.config->job ? *p.config->job : config::JobSpec{};
  config::JobSpec run;
  run.line = s.line;
  run.command = s.given.command ? s.run.command : job.command;
  run.args = s.given.args ? s.run.args : job.args;
  run.env = job.env;
  run.secrets = job.secrets;
  for (const auto& [k, v] : s.run.env) {
    run.env[k] = v;
    run.secrets.erase(k);
  }
  for (const auto& [k, v] : s.run.secrets) {
    run.secrets[k] = v;
    run.env.erase(k);
  }
  run.cpu = s.given.cpu ? s.run.cpu : job.cpu;
  run.memory = s.given.memory ? s.run.memory : job.memory;
  run.gpu = s.given.gpu ? s.run.gpu : job.gpu;
  // A step's timeout is each attempt's; a job's timeout is not carried over
  // (it bounds the job's attempts together, a different thing).
  run.timeout_seconds = s.given.timeout ? s.run.timeout_seconds : 0;
  run.retries = s.given.retries ? s.run.retries : 0;
  return run;
}

std::vector<std::pair<std::string, std::string>> effective_params(Checker& c,
                                                                  const std::map<std::string, std::string>& given) {
  std::vector<std::pair<std::string, std::string>> out;
  std::vector<std::string> names;
  for (const auto& [name, value] : c.spec.params) {
    names.push_back(name.value);
    auto it = given.find(name.value);
    out.emplace_back(name.value, it == given.end() ? value.value : it->second);
  }
  for (const auto& [name, value] : given)
    if (std::find(names.begin(), names.end(), name) == names.end())
      c.problems.push_back(std::make_shared<UsageError>(
          "--param " + name + ": pipeline " + c.spec.name + " has no parameter '" + name + "' (its parameters: " +
              listed(names) + ")",
          did_you_mean(name, names, "declare it under 'pipelines." + c.spec.name + ".params' in " + c.file)));
  return out;
}

} // namespace

std::optional<size_t> Plan::find(const std::string& step) const {
  for (size_t i = 0; i < steps.size(); ++i)
    if (steps[i].name == step)
      return i;
  return std::nullopt;
}

std::vector<size_t> Plan::downstream(size_t step) const {
  std::vector<bool> below(steps.size(), false);
  below[step] = true;
  std::vector<size_t> out;
  for (size_t i = step + 1; i < steps.size(); ++i) // plan order: upstream steps come first
    for (size_t u : steps[i].upstream)
      if (below[u]) {
        below[i] = true;
        out.push_back(i);
        break;
      }
  return out;
}

const config::PipelineSpec& find_pipeline(const config::WorkspaceConfig& ws, const std::string& name) {
  std::vector<std::string> names;
  for (const auto& p : ws.pipelines) {
    if (p.name == name)
      return p;
    names.push_back(p.name);
  }
  if (names.empty())
    throw UsageError("there is no pipeline '" + name + "': " + ws.file + " has no 'pipelines:' section",
                     "add one (docs/pipelines.md): e.g.\n  pipelines:\n    " + name +
                         ":\n      steps:\n        train: {project: NAME}");
  throw UsageError("there is no pipeline '" + name + "' in " + ws.file + " (its pipelines: " + listed(names) + ")",
                   did_you_mean(name, names, "'mlrepo pipeline list' shows them"));
}

Plan make_plan(const config::PipelineSpec& spec, const View& view, const std::map<std::string, std::string>& params) {
  Checker c{spec, view.config.file, {}};
  Plan plan;
  plan.name = spec.name;
  plan.file = view.config.file;
  plan.schedule = spec.schedule;
  plan.timeout_seconds = spec.timeout_seconds;

  // 1. The projects; 2. the parameters and their uses; 3. the references; 4. the order.
  auto projects = resolve_projects(c, view);
  plan.params = effective_params(c, params);
  std::set<std::string> known;
  for (const auto& [name, value] : spec.params)
    known.insert(name.value);
  for (const auto& s : spec.steps) {
    for (const auto& w : s.run.command)
      check_params_used(c, s, "command", w, known);
    for (const auto& w : s.run.args)
      check_params_used(c, s, "args", w, known);
    for (const auto& [k, v] : s.run.env)
      check_params_used(c, s, "env." + k, v, known);
  }
  std::vector<std::vector<StepInput>> inputs;
  std::vector<std::vector<size_t>> after;
  auto upstream = references(c, inputs, after);
  auto sequence = order(c, upstream); // over the references that resolved
  // In the order of the file: a reader fixes them top to bottom.
  auto line = [](const std::shared_ptr<const Error>& e) {
    const auto* ce = dynamic_cast<const ConfigError*>(e.get());
    return ce ? ce->line() : 0;
  };
  std::stable_sort(c.problems.begin(), c.problems.end(),
                   [&](const auto& a, const auto& b) { return line(a) < line(b); });
  throw_all(c.problems, "problems in pipeline " + spec.name + " (" + c.file + ")");

  // 5. The steps in that order, indices renumbered.
  std::vector<size_t> position(spec.steps.size());
  for (size_t k = 0; k < sequence.size(); ++k)
    position[sequence[k]] = k;
  for (size_t written : sequence) {
    const auto& s = spec.steps[written];
    const auto& p = view.graph.projects()[*projects[written]];
    Step step;
    step.name = s.name;
    step.project = *projects[written];
    step.project_name = p.name;
    step.run = merged_run(s, p);
    step.params = params_used(step.run);
    for (const auto& o : s.outputs)
      step.outputs.push_back(o.value);
    for (auto in : inputs[written]) {
      in.step = position[in.step];
      step.inputs.push_back(in);
    }
    for (size_t a : after[written])
      step.after.push_back(position[a]);
    for (size_t u : upstream[written])
      step.upstream.push_back(position[u]);
    std::sort(step.upstream.begin(), step.upstream.end());
    plan.steps.push_back(std::move(step));
  }
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    for (const auto& in : plan.steps[i].inputs)
      plan.edges.push_back({i, in.step, in.output});
    for (size_t a : plan.steps[i].after)
      plan.edges.push_back({i, a, std::nullopt});
  }
  std::sort(plan.edges.begin(), plan.edges.end(), [](const Edge& a, const Edge& b) {
    return std::tie(a.from, a.to, a.artifact) < std::tie(b.from, b.to, b.artifact);
  });
  plan.edges.erase(std::unique(plan.edges.begin(), plan.edges.end(),
                               [](const Edge& a, const Edge& b) {
                                 return a.from == b.from && a.to == b.to && a.artifact == b.artifact;
                               }),
                   plan.edges.end());
  return plan;
}

std::string substitute(const std::string& text, const std::vector<std::pair<std::string, std::string>>& values) {
  std::string out;
  auto last = text.begin();
  for (auto it = std::sregex_iterator(text.begin(), text.end(), param_use()); it != std::sregex_iterator(); ++it) {
    out.append(last, text.begin() + it->position());
    std::string name = (*it)[1];
    auto v = std::find_if(values.begin(), values.end(), [&](const auto& kv) { return kv.first == name; });
    out += v == values.end() ? it->str() : v->second;
    last = text.begin() + it->position() + it->length();
  }
  out.append(last, text.end());
  return out;
}

config::JobSpec with_params(const config::JobSpec& run, const std::vector<std::pair<std::string, std::string>>& values) {
  config::JobSpec out = run;
  for (auto& w : out.command)
    w = substitute(w, values);
  for (auto& w : out.args)
    w = substitute(w, values);
  for (auto& [k, v] : out.env)
    v = substitute(v, values);
  return out;
}

std::vector<Plan> make_plans(const View& view) {
  std::vector<const config::PipelineSpec*> all;
  for (const auto& spec : view.config.pipelines)
    all.push_back(&spec);
  return make_plans(view, all);
}

std::vector<Plan> make_plans(const View& view, const std::vector<const config::PipelineSpec*>& specs) {
  std::vector<Plan> out;
  std::vector<std::shared_ptr<const Error>> problems;
  for (const auto* spec : specs) {
    try {
      out.push_back(make_plan(*spec, view));
    } catch (const ConfigError& e) {
      problems.push_back(std::make_shared<ConfigError>(e));
    } catch (const Error& e) {
      problems.push_back(std::make_shared<Error>(e));
    }
  }
  throw_all(problems, "problems in the pipelines");
  return out;
}

std::vector<Mount> mounts(const Step& step) {
  std::vector<Mount> out;
  for (const auto& o : step.outputs)
    out.push_back({o, std::string(kOutputsDir) + "/" + o, false, 0, ""});
  for (const auto& in : step.inputs)
    out.push_back({in.name, std::string(kInputsDir) + "/" + in.name, true, in.step, in.output});
  return out;
}

} // namespace mlrepo::pipeline
