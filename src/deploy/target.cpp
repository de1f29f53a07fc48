// The deploy targets, one row each. The next one is a file of its own
// beside kubernetes.cpp and ecs.cpp, and one more row here.
#include "mlrepo/deploy/target.hpp"

#include "mlrepo/deploy/ecs.hpp"
#include "mlrepo/deploy/kubernetes.hpp"

namespace mlrepo::deploy {

std::span<const Target> targets() {
  static const Target rows[] = {kKubernetes, kEcs};
  return rows;
}

const Target& target_named(std::string_view name) {
  std::string known;
  for (const auto& t : targets()) {
    if (name == t.name)
      return t;
    known += (known.empty() ? "" : ", ") + std::string(t.name);
  }
  throw UsageError("no deploy target '" + std::string(name) + "'", "known: " + known);
}

const Target& target_for(const config::WorkspaceConfig& ws, std::string_view asked) {
  if (!asked.empty())
    return target_named(asked);
  std::vector<const Target*> configured;
  std::string names, flags;
  for (const auto& t : targets())
    if (t.configured(ws)) {
      configured.push_back(&t);
      names += (names.empty() ? "" : " and ") + std::string(t.name) + ":";
      flags += (flags.empty() ? "" : " or ") + std::string("--target ") + t.name;
    }
  if (configured.size() > 1)
    throw UsageError(ws.file + " configures " + names + "; which target?", "say it with " + flags);
  // No section at all: Kubernetes, as before there was a choice.
  return configured.empty() ? targets().front() : *configured.front();
}

} // namespace mlrepo::deploy
