#include "mlrepo/report/pipeline.hpp"

#include "mlrepo/report/jobs.hpp"
#include "mlrepo/util/units.hpp"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace mlrepo::report {
namespace {

std::string padded(const std::string& s, size_t width) {
  return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}

// A quoted string for Graphviz and Mermaid labels (names are DNS labels;
// artifact names letters, digits, '_' and '-': nothing to escape but quotes).
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s)
    out += c == '"' ? std::string("\\\"") : std::string(1, c);
  return out + "\"";
}

} // namespace

std::string pipeline_list_text(const std::vector<pipeline::PipelineEntry>& pipelines, bool changed_only) {
  std::string out;
  for (const auto& e : pipelines) {
    const auto& plan = e.plan;
    if (!out.empty())
      out += "\n";
    out += plan.name + "\n";
    size_t name_width = 0, project_width = 0;
    for (const auto& s : plan.steps) {
      name_width = std::max(name_width, s.name.size() + 2);
      project_width = std::max(project_width, s.project_name.size() + 2);
    }
    for (size_t i = 0; i < plan.steps.size(); ++i) {
      const auto& s = plan.steps[i];
      std::string line = std::string(i == 0 ? "  steps      " : "             ") + padded(s.name, name_width) +
                         padded(s.project_name, project_width) + e.images[i];
      if (changed_only && e.changed[i])
        line += "  (changed)";
      out += line + "\n";
    }
    out += schedule_lines(plan.schedule, e.next, "schedule");
    if (!plan.params.empty()) {
      std::string params;
      for (const auto& [k, v] : plan.params)
        params += (params.empty() ? "" : ", ") + k + "=" + v;
      out += "  params     " + params + "\n";
    }
    out += "  timeout    " + (plan.timeout_seconds ? util::format_duration(plan.timeout_seconds) : "none") +
           ", concurrency " + concurrency_name(plan.schedule.concurrency) + "\n";
  }
  return out;
}

std::string pipeline_list_json(const std::vector<pipeline::PipelineEntry>& pipelines, bool changed_only) {
  auto list = nlohmann::ordered_json::array();
  for (const auto& e : pipelines) {
    const auto& plan = e.plan;
    nlohmann::ordered_json o;
    o["name"] = plan.name;
    auto steps = nlohmann::ordered_json::array();
    for (size_t i = 0; i < plan.steps.size(); ++i) {
      const auto& s = plan.steps[i];
      nlohmann::ordered_json step;
      step["name"] = s.name;
      step["project"] = s.project_name;
      step["image"] = e.images[i];
      auto needs = nlohmann::ordered_json::array();
      for (size_t u : s.upstream)
        needs.push_back(plan.steps[u].name);
      step["needs"] = needs;
      nlohmann::ordered_json inputs = nlohmann::ordered_json::object();
      for (const auto& in : s.inputs)
        inputs[in.name] = plan.steps[in.step].name + "." + in.output;
      step["inputs"] = inputs;
      step["outputs"] = s.outputs;
      if (changed_only)
        step["changed"] = static_cast<bool>(e.changed[i]);
      steps.push_back(step);
    }
    o["steps"] = steps;
    auto schedule = nlohmann::ordered_json::array();
    for (const auto& s : plan.schedule.schedule)
      schedule.push_back(s.value);
    o["schedule"] = schedule;
    o["timezone"] = plan.schedule.timezone;
    o["next_runs"] = next_runs_json(e.next);
    o["concurrency"] = concurrency_name(plan.schedule.concurrency);
    o["timeout_seconds"] = plan.timeout_seconds ? nlohmann::ordered_json(plan.timeout_seconds) : nullptr;
    nlohmann::ordered_json params = nlohmann::ordered_json::object();
    for (const auto& [k, v] : plan.params)
      params[k] = v;
    o["params"] = params;
    list.push_back(o);
  }
  return nlohmann::ordered_json{{"pipelines", list}}.dump() + "\n";
}

std::string pipeline_graph_json(const pipeline::Plan& plan) {
  auto steps = nlohmann::ordered_json::array();
  for (const auto& s : plan.steps)
    steps.push_back({{"name", s.name}, {"project", s.project_name}});
  auto edges = nlohmann::ordered_json::array();
  for (const auto& e : plan.edges)
    edges.push_back({{"from", plan.steps[e.from].name},
                     {"to", plan.steps[e.to].name},
                     {"artifact", e.artifact ? nlohmann::ordered_json(*e.artifact) : nullptr}});
  return nlohmann::ordered_json{{"steps", steps}, {"edges", edges}}.dump() + "\n";
}

std::string pipeline_graph_dot(const pipeline::Plan& plan) {
  std::string out = "digraph " + quoted(plan.name) + " {\n  rankdir=LR;\n  node [shape=box];\n";
  for (const auto& s : plan.steps)
    out += "  " + quoted(s.name) + " [label=" + quoted(s.name + "\\n(" + s.project_name + ")") + "];\n";
  for (const auto& e : plan.edges)
    out += "  " + quoted(plan.steps[e.to].name) + " -> " + quoted(plan.steps[e.from].name) +
           (e.artifact ? " [label=" + quoted(*e.artifact) + "]" : std::string(" [style=dashed]")) + ";\n";
  return out + "}\n";
}

std::string pipeline_graph_mermaid(const pipeline::Plan& plan) {
  // Ids s0, s1, ...: a step called "end" would end a Mermaid flowchart.
  std::string out = "flowchart LR\n";
  for (size_t i = 0; i < plan.steps.size(); ++i)
    out += "  s" + std::to_string(i) + "[" + quoted(plan.steps[i].name + " (" + plan.steps[i].project_name + ")") +
           "]\n";
  for (const auto& e : plan.edges)
    out += "  s" + std::to_string(e.to) + (e.artifact ? " -->|" + quoted(*e.artifact) + "| " : std::string(" -.-> ")) +
           "s" + std::to_string(e.from) + "\n";
  return out;
}


std::string pipeline_run_text(const pipeline::RunReport& report) {
  std::vector<std::vector<std::string>> rows{{"STEP", "PROJECT", "STATUS", "ATTEMPTS", "DURATION", "EXIT", "IMAGE"}};
  for (const auto& s : report.steps) {
    std::string status = pipeline::status_name(s.status);
    if (s.timed_out && s.status == pipeline::StepStatus::Failed)
      status += " (timed out)";
    if (!s.blocked_by.empty())
      status += " (by " + s.blocked_by + ")";
    bool ran = s.attempts > 0;
    rows.push_back({s.name, s.project, status, ran ? std::to_string(s.attempts) : "-",
                    ran ? seconds_text(s.seconds) : "-", s.exit_code ? std::to_string(*s.exit_code) : "-",
                    s.digest.empty() ? "-" : s.digest.substr(0, 19)});
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c)
      width[c] = std::max(width[c], row[c].size());
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c)
      line += c + 1 == row.size() ? row[c] : padded(row[c], width[c] + 2);
    out += line + "\n";
  }
  out += "pipeline " + report.pipeline + ": " + report.status() + "; outputs under " + report.run_dir + "\n";
  return out;
}

std::string pipeline_run_markdown(const pipeline::RunReport& report) {
  std::string md = "### pipeline " + report.pipeline + ": " + report.status() +
                   "\n\n| step | project | status | attempts | duration | exit | image |\n|---|---|---|---|---|---|---|\n";
  for (const auto& s : report.steps) {
    std::string status = pipeline::status_name(s.status);
    if (s.timed_out && s.status == pipeline::StepStatus::Failed)
      status += " (timed out)";
    if (!s.blocked_by.empty())
      status += " (by " + s.blocked_by + ")";
    bool ran = s.attempts > 0;
    md += "| " + s.name + " | " + s.project + " | " + status + " | " + (ran ? std::to_string(s.attempts) : "-") +
          " | " + (ran ? seconds_text(s.seconds) : "-") + " | " + (s.exit_code ? std::to_string(*s.exit_code) : "-") +
          " | " + (s.digest.empty() ? "-" : "`" + s.digest + "`") + " |\n";
  }
  return md;
}

std::string pipeline_run_json(const pipeline::RunReport& report) {
  auto steps = nlohmann::ordered_json::array();
  for (const auto& s : report.steps) {
    nlohmann::ordered_json o;
    o["name"] = s.name;
    o["project"] = s.project;
    o["status"] = pipeline::status_name(s.status);
    o["attempts"] = s.attempts;
    o["exit_code"] = s.exit_code ? nlohmann::ordered_json(*s.exit_code) : nullptr;
    o["duration_s"] = std::round(s.seconds * 1000) / 1000;
    o["digest"] = s.digest.rfind("sha256:", 0) == 0 ? nlohmann::ordered_json(s.digest) : nullptr;
    o["outputs"] = s.outputs_dir.empty() ? nullptr : nlohmann::ordered_json(s.outputs_dir);
    steps.push_back(o);
  }
  nlohmann::ordered_json j{{"pipeline", report.pipeline},
                           {"status", report.status()},
                           {"run_dir", report.run_dir},
                           {"steps", steps}};
  return j.dump() + "\n";
}

std::string pipeline_deploy_text(const deploy::PipelineDeployOutcome& out) {
  std::string text;
  for (const auto& p : out.pipelines) {
    std::string objects;
    for (const auto& o : p.objects)
      objects += (objects.empty() ? "" : ",") + o;
    text += p.pipeline + "\t" + (p.applied ? "applied" : "not applied") + "\t" + objects + "\n";
  }
  return text;
}

std::string pipeline_deploy_markdown(const deploy::PipelineDeployOutcome& out) {
  std::string md = "### mlrepo pipeline deploy\n\n| pipeline | objects | images |\n|---|---|---|\n";
  for (const auto& p : out.pipelines) {
    std::string objects, images;
    for (const auto& o : p.objects)
      objects += (objects.empty() ? "" : ", ") + ("`" + o + "`");
    for (const auto& [project, ref] : p.images)
      images += (images.empty() ? "" : "<br>") + (project + ": `" + ref + "`");
    md += "| " + p.pipeline + " | " + objects + (p.applied ? "" : " (not applied)") + " | " + images + " |\n";
  }
  return md;
}

} // namespace mlrepo::report
