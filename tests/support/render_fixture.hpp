#pragma once
// The workspace and the `train` job that the render tests share: the e2e test
// renders them through `mlrepo job render` against a real registry, the unit
// test through the deploy target table, and both compare with
// tests/golden/k8s/train-cronjob.yaml.
#include <string>

namespace mlrepo::test {

inline std::string render_workspace_config(const std::string& registry, const std::string& image_prefix) {
  return "registry: " + registry + "\nimage_prefix: " + image_prefix +
         "\nkubernetes:\n  namespace: ml\n  service_account: ml-runner\n"
         "  image_pull_secret: regcred\n  gpu_node_selector: {accelerator: nvidia-a100}\n"
         "  image_pull_policy: IfNotPresent\n"
         "  environments:\n    prod:\n      namespace: ml-prod\n      env: {STAGE: prod}\n"
         "      resources: {memory: 16Gi}\n"
         "      gpu_tolerations: [{key: dedicated, operator: Equal, value: gpu, "
         "effect: NoSchedule}]\n"
         "      pod_annotations: {sidecar.istio.io/inject: 'false'}\n    staging:\n      schedule: '0 5 * * *'\n"
         "      suspend: true\n";
}

inline const char* const kTrainJobConfig = "job:\n  command: [sh, /train.sh]\n  args: ['--epochs', '20']\n"
                                           "  env: {MODEL_DIR: /models, QUOTE: \"it's: #1\"}\n"
                                           "  secrets: {DB_PASSWORD: TRAIN_DB_PASSWORD}\n"
                                           "  resources: {cpu: 500m, memory: 8Gi, gpu: 1}\n  timeout: 2h\n"
                                           "  retries: 2\n"
                                           "  schedule: ['0 3 * * mon-fri', '@monthly']\n  timezone: Europe/Berlin\n"
                                           "  concurrency: replace\n  runs_on: kubernetes\n";

} // namespace mlrepo::test
