#include "mlrepo/deploy/pod.hpp"

#include "mlrepo/run/container.hpp"

#include <algorithm>
#include <cctype>

namespace mlrepo::deploy::pod {
namespace {

using generated::Yaml;
using generated::yaml_quote;

// Label values: at most 63, alphanumeric at both ends, '-', '_', '.' inside.
bool label_value_ok(const std::string& v) {
  if (v.size() > 63)
    return false;
  if (v.empty())
    return true;
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  if (!alnum(v.front()) || !alnum(v.back()))
    return false;
  return std::all_of(v.begin(), v.end(), [&](char c) { return alnum(c) || c == '-' || c == '_' || c == '.'; });
}

} // namespace

std::string part_of(const config::WorkspaceConfig& ws) {
  std::string s = ws.image_prefix;
  while (!s.empty() && !std::isalnum(static_cast<unsigned char>(s.back())))
    s.pop_back();
  if (s.empty())
    s = ws.registry.substr(ws.registry.rfind('/') + 1);
  if (auto slash = s.rfind('/'); slash != std::string::npos)
    s = s.substr(slash + 1);
  return label_value_ok(s) && !s.empty() ? s : "mlrepo";
}

const char* concurrency_policy(config::Concurrency c) {
  switch (c) {
  case config::Concurrency::Forbid:
    return "Forbid";
  case config::Concurrency::Replace:
    return "Replace";
  case config::Concurrency::Allow:
    return "Allow";
  }
  return "Forbid";
}

void labels(Yaml& y, int indent, const std::string& name, const config::WorkspaceConfig& ws,
            const config::KubernetesEnvironment* env) {
  y.line(indent, "labels:");
  y.line(indent + 1, "app.kubernetes.io/name: " + yaml_quote(name));
  y.line(indent + 1, "app.kubernetes.io/part-of: " + yaml_quote(part_of(ws)));
  y.line(indent + 1, "app.kubernetes.io/managed-by: mlrepo");
  if (env)
    y.line(indent + 1, "app.kubernetes.io/instance: " + yaml_quote(env->name));
}

std::map<std::string, std::string> annotations(const config::WorkspaceConfig& ws,
                                               const config::KubernetesEnvironment* env) {
  std::map<std::string, std::string> out = ws.kubernetes.pod_annotations;
  if (env)
    for (const auto& [key, value] : env->pod_annotations)
      out[key] = value;
  return out;
}

int gpu_count(const config::JobSpec& run, const config::KubernetesEnvironment* env) {
  return env && env->gpu ? *env->gpu : run.gpu;
}

void gpu_placement(Yaml& y, int indent, int gpu, const config::WorkspaceConfig& ws,
                   const config::KubernetesEnvironment* env) {
  if (gpu <= 0)
    return;
  const auto& k = ws.kubernetes;
  if (!k.gpu_node_selector.empty()) {
    y.line(indent, "nodeSelector:");
    for (const auto& [key, value] : k.gpu_node_selector)
      y.line(indent + 1, yaml_quote(key) + ": " + yaml_quote(value));
  }
  // GPU node pools are usually tainted: without a toleration the pod waits
  // forever. The environment's list replaces the workspace's; the default
  // tolerates the GPU resource's own taint.
  auto tolerations = env && env->gpu_tolerations ? *env->gpu_tolerations
                     : k.gpu_tolerations          ? *k.gpu_tolerations
                                                  : std::vector<config::Toleration>{{k.gpu_resource, "Exists", "", "NoSchedule"}};
  if (tolerations.empty())
    return;
  y.line(indent, "tolerations:");
  for (const auto& t : tolerations) {
    bool first = true;
    auto field = [&](const std::string& key, const std::string& value) {
      y.line(first ? indent + 1 : indent + 2, (first ? "- " : "") + key + ": " + value);
      first = false;
    };
    if (!t.key.empty())
      field("key", yaml_quote(t.key));
    field("operator", t.op);
    if (!t.value.empty())
      field("value", yaml_quote(t.value));
    if (!t.effect.empty())
      field("effect", t.effect);
  }
}

void container_run(Yaml& y, int c, const config::JobSpec& run, const config::WorkspaceConfig& ws,
                   const config::KubernetesEnvironment* env) {
  const auto& k = ws.kubernetes;
  auto list = [&](const char* key, const std::vector<std::string>& items) {
    if (items.empty())
      return;
    y.line(c, std::string(key) + ":");
    for (const auto& i : items)
      y.line(c + 1, "- " + yaml_quote(i));
  };
  // One string is a shell command, as `job run` reads it.
  list("command", run.command.empty() ? run.command : run::command_argv(run.command));
  list("args", run.args);
  std::map<std::string, std::string> values = run.env;
  if (env)
    for (const auto& [name, value] : env->env)
      values[name] = value;
  if (!values.empty() || !run.secrets.empty()) {
    y.line(c, "env:");
    // Sorted by name, plain values and secrets together: the order never changes.
    std::map<std::string, std::pair<bool, std::string>> all;
    for (const auto& [name, value] : values)
      all[name] = {false, value};
    for (const auto& [name, secret] : run.secrets)
      all[name] = {true, secret};
    for (const auto& [name, v] : all) {
      y.line(c + 1, "- name: " + yaml_quote(name));
      if (!v.first) {
        y.line(c + 2, "value: " + yaml_quote(v.second));
        continue;
      }
      // The value stays in the cluster's Secret; the manifest names its key.
      y.line(c + 2, "valueFrom:");
      y.line(c + 3, "secretKeyRef:");
      y.line(c + 4, "name: " + yaml_quote(k.secret));
      y.line(c + 4, "key: " + yaml_quote(v.second));
    }
  }
  auto cpu = env && env->cpu ? env->cpu : run.cpu;
  auto memory = env && env->memory ? env->memory : run.memory;
  int gpu = gpu_count(run, env);
  if (cpu || memory || gpu > 0) {
    // Requests equal limits, as the local engine enforces them: what runs on
    // a laptop is what the scheduler reserves.
    y.line(c, "resources:");
    for (const char* side : {"requests", "limits"}) {
      y.line(c + 1, std::string(side) + ":");
      if (cpu)
        y.line(c + 2, "cpu: " + yaml_quote(*cpu));
      if (memory)
        y.line(c + 2, "memory: " + yaml_quote(*memory));
      if (gpu > 0)
        y.line(c + 2, yaml_quote(k.gpu_resource) + ": " + yaml_quote(std::to_string(gpu)));
    }
  }
}

} // namespace mlrepo::deploy::pod
