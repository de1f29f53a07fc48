#pragma once
// What a Kubernetes pod of a job or of a pipeline step says the same way,
// written once for the CronJob/Job renderer (deploy/kubernetes.cpp) and the
// Argo renderer (deploy/argo.cpp): labels, the GPU's node selector and
// tolerations, the container's command, args, env (secrets as secretKeyRef)
// and resources. An environment's values go over the workspace's.
#include "mlrepo/config/config.hpp"
#include "mlrepo/generated/yaml.hpp"

#include <map>
#include <string>

namespace mlrepo::deploy::pod {

// The application the objects are part of: the workspace's image prefix,
// else its registry namespace; from config, so the same on every clone.
std::string part_of(const config::WorkspaceConfig& ws);

// A CronJob's or CronWorkflow's concurrencyPolicy: Forbid, Replace, Allow.
const char* concurrency_policy(config::Concurrency concurrency);

// app.kubernetes.io/ labels of an object called `name`, at `indent`.
void labels(generated::Yaml& y, int indent, const std::string& name, const config::WorkspaceConfig& ws,
            const config::KubernetesEnvironment* env);

// The pod annotations: the workspace's, then the environment's over them.
std::map<std::string, std::string> annotations(const config::WorkspaceConfig& ws,
                                               const config::KubernetesEnvironment* env);

// How many GPUs the pod asks for: the environment's count over the job's.
int gpu_count(const config::JobSpec& run, const config::KubernetesEnvironment* env);

// nodeSelector and tolerations for a pod with `gpu` GPUs (nothing for none),
// at `indent` of the pod spec (or of an Argo template, which has both fields).
void gpu_placement(generated::Yaml& y, int indent, int gpu, const config::WorkspaceConfig& ws,
                   const config::KubernetesEnvironment* env);

// The container's command, args, env and resources, at `indent` (the
// container's fields, after its image).
void container_run(generated::Yaml& y, int indent, const config::JobSpec& run, const config::WorkspaceConfig& ws,
                   const config::KubernetesEnvironment* env);

} // namespace mlrepo::deploy::pod
