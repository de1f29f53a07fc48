// The deploy targets, one row each. The next one (ECS) is a
// file of its own beside kubernetes.cpp and one more row here.
#include "mlrepo/deploy/target.hpp"

#include "mlrepo/deploy/kubernetes.hpp"

namespace mlrepo::deploy {

std::span<const Target> targets() {
  static const Target rows[] = {kKubernetes};
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

} // namespace mlrepo::deploy
