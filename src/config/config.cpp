#include "mlrepo/config/config.hpp"

#include "mlrepo/context/providers.hpp"
#include "mlrepo/source_commit.hpp"
#include "mlrepo/version.hpp"

#include "mlrepo/util/error.hpp"
#include "mlrepo/util/cron.hpp"
#include "mlrepo/util/glob.hpp"
#include "mlrepo/util/text.hpp"
#include "mlrepo/util/timezone.hpp"
#include "mlrepo/util/units.hpp"
#include "mlrepo/util/image_ref.hpp"

#include <regex>
#include "fields.hpp"
#include "yaml_reader.hpp"

#include <algorithm>
#include <cstring>

namespace mlrepo::config {

std::string default_mlrepo_action(bool pin_sha) {
  std::string commit = kSourceCommit;
  if (pin_sha && commit.size() == 40)
    return "mlrepo/mlrepo@" + commit;
  return std::string("mlrepo/mlrepo@v") + kVersion;
}
namespace {

// CI providers keep some variable names for themselves (the provider table says which):
// a secret may not be named so.
bool reserved_by_a_provider(const std::string& name) {
  for (auto prefix : context::reserved_variable_prefixes())
    if (name.rfind(prefix, 0) == 0)
      return true;
  return false;
}

std::string reserved_prefixes() {
  std::string out;
  for (auto prefix : context::reserved_variable_prefixes())
    out += (out.empty() ? "" : " or ") + std::string(prefix);
  return out;
}

std::vector<Located> globs(MapReader& reader, const std::string& key) {
  auto list = reader.string_list(key).value_or(std::vector<Located>{});
  for (const auto& g : list)
    if (auto problem = util::glob_problem(g.value))
      throw ConfigError(reader.file(), g.line, "'" + key + "' pattern '" + g.value + "': " + *problem);
  return list;
}

std::vector<std::string> plain(const std::vector<Located>& list) {
  std::vector<std::string> out;
  for (const auto& l : list)
    out.push_back(l.value);
  return out;
}

bool identifier(const std::string& s) {
  bool ok = !s.empty() && !std::isdigit(static_cast<unsigned char>(s[0]));
  for (char c : s)
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  return ok;
}

} // namespace

// runs_on: kubernetes | github-actions | {github-actions: [LABEL, ...]}
void parse_runs_on(MapReader& job, JobSpec& spec) {
  if (!job.has("runs_on"))
    return;
  spec.runs_on_line = job.line("runs_on");
  const std::string hint = "write 'runs_on: kubernetes', 'runs_on: ecs', 'runs_on: github-actions', or GitHub "
                           "runner labels as 'runs_on: {github-actions: [self-hosted, gpu]}'";
  auto keys = job.map_keys("runs_on");
  if (!keys.empty()) {
    auto m = job.map("runs_on", {"github-actions"});
    auto labels = m->string_or_list("github-actions");
    if (!labels || labels->empty())
      job.fail("runs_on", "names no GitHub Actions runner labels", hint);
    for (const auto& l : *labels) {
      if (l.value.empty() || l.value.find_first_of(" \t,\n") != std::string::npos)
        throw ConfigError(job.file(), l.line, "runner label '" + l.value + "' is not a GitHub runner label", hint);
      spec.runner_labels.push_back(l.value);
    }
    spec.runs_on = JobTarget::GithubActions;
    return;
  }
  auto v = job.string("runs_on");
  if (!v)
    return;
  if (v->value == "github-actions")
    spec.runs_on = JobTarget::GithubActions;
  else if (v->value == "kubernetes")
    spec.runs_on = JobTarget::Kubernetes;
  else if (v->value == "ecs")
    spec.runs_on = JobTarget::Ecs;
  else
  {
    auto near = util::closest(v->value, {"kubernetes", "ecs", "github-actions"}, 4);
    job.fail("runs_on", "must be kubernetes, ecs or github-actions, not '" + v->value + "'" +
                            (near ? " (did you mean '" + *near + "'?)" : std::string()),
             hint);
  }
}


// What runs, as a job: and a pipeline step say it (command, args, env,
// secrets, resources, timeout, retries); `prefix` ("job.") names the keys in
// messages. Every value is checked here, so that each runner can trust it.
RunFieldsGiven parse_run_fields(MapReader& reader, const std::string& prefix, JobSpec& spec) {
  RunFieldsGiven given;
  auto* job = &reader;
  const std::string& file = job->file();
  given.command = job->has("command");
  given.args = job->has("args");
  given.timeout = job->has("timeout");
  given.retries = job->has("retries");
  spec.command = job->command("command").value_or(std::vector<std::string>{});
  if (job->has("command") && (spec.command.empty() || spec.command[0].empty()))
    job->fail("command", "is empty", "write the command to run, e.g. [\"python\", \"-m\", \"churn.train\"], "
                                     "or leave 'command' out to run the image's own");
  if (job->has("args")) {
    auto args = job->command("args").value_or(std::vector<std::string>{});
    spec.args = args;
  }
  auto names = [&](const char* key, std::map<std::string, std::string>& out, bool secrets) {
    for (const auto& [k, v] : job->located_map(key).value_or(std::vector<std::pair<Located, Located>>{})) {
      if (!identifier(k.value))
        throw ConfigError(file, k.line, "'" + prefix + std::string(key) + "' name '" + k.value +
                                            "' is not an environment variable name",
                          "use letters, digits and '_', not starting with a digit, e.g. MODEL_DIR");
      if (secrets) {
        if (!identifier(v.value) || reserved_by_a_provider(v.value))
          throw ConfigError(file, v.line,
                            "'" + prefix + "secrets." + k.value + "' names the secret '" + v.value +
                                "', which is not a secret name",
                            "a secret name uses letters, digits and '_', does not start with a digit or " +
                                reserved_prefixes() + ", e.g. 'DB_PASSWORD: CHURN_DB_PASSWORD'");
        if (spec.env.count(k.value))
          throw ConfigError(file, k.line, "'" + k.value + "' is under both " + prefix + "env and " + prefix + "secrets",
                            "keep it in one: a secret's value is never written in mlrepo.yaml");
      }
      out[k.value] = v.value;
    }
  };
  names("env", spec.env, false);
  names("secrets", spec.secrets, true);
  if (auto res = job->map("resources", {"cpu", "memory", "gpu"})) {
    auto quantity = [&](const char* key, const char* example) -> std::optional<std::string> {
      auto v = res->string(key);
      if (!v)
        return std::nullopt;
      util::Quantity q;
      try {
        q = util::parse_quantity(v->value);
      } catch (const std::invalid_argument& e) {
        throw ConfigError(file, v->line, "'" + prefix + "resources." + std::string(key) + "': " + e.what(),
                          std::string("e.g. ") + key + ": " + example);
      }
      if (q.milli <= 0)
        throw ConfigError(file, v->line, "'" + prefix + "resources." + std::string(key) + "' must be above zero");
      // "512m" is 0.512 bytes: a Kubernetes suffix read as Docker's.
      if (std::string(key) == "memory" && q.milli % 1000 != 0)
        throw ConfigError(file, v->line,
                          "'" + prefix + "resources.memory' '" + v->value + "' is a fraction of a byte ('m' is milli)",
                          "write mebibytes as " + v->value.substr(0, v->value.size() - 1) + "Mi or megabytes as " +
                              v->value.substr(0, v->value.size() - 1) + "M");
      if (std::string(key) == "memory" && q.milli < 6LL * 1024 * 1024 * 1000)
        throw ConfigError(file, v->line,
                          "'" + prefix + "resources.memory' '" + v->value + "' is less than a container can start with (6Mi)",
                          "memory is in bytes unless suffixed: write e.g. 512Mi or 8Gi");
      return v->value;
    };
    given.cpu = res->has("cpu");
    given.memory = res->has("memory");
    given.gpu = res->has("gpu");
    spec.cpu = quantity("cpu", "\"2\" or 500m");
    spec.memory = quantity("memory", "8Gi or 512Mi");
    if (res->has("gpu"))
      spec.gpu = res->integer("gpu", 0, 64).value_or(0);
  }
  if (auto t = job->string("timeout")) {
    try {
      spec.timeout_seconds = util::parse_duration(t->value);
    } catch (const std::invalid_argument& e) {
      throw ConfigError(file, t->line, "'" + prefix + "timeout': " + e.what());
    }
    if (spec.timeout_seconds > 7 * 86400)
      throw ConfigError(file, t->line, "'" + prefix + "timeout' '" + t->value + "' is more than 7 days",
                        "GitHub's runners stop a job long before that; split the work or write e.g. 12h");
  }
  if (job->has("retries"))
    spec.retries = job->integer("retries", 0, 20).value_or(0);
  return given;
}

// schedule, timezone and concurrency, as a job: and a pipeline say them;
// `owner` ("job", "pipeline") for messages.
void parse_schedule_fields(MapReader& reader, const std::string& prefix, const std::string& owner, JobSpec& spec) {
  auto* job = &reader;
  const std::string& file = job->file();
  spec.schedule = job->string_or_list("schedule").value_or(std::vector<Located>{});
  if (job->has("schedule") && spec.schedule.empty())
    job->fail("schedule", "is an empty list", "write a cron such as '0 3 * * 1-5', or leave it out for a job "
                                              "that runs only on demand");
  for (const auto& s : spec.schedule) {
    try {
      util::parse_cron(s.value);
    } catch (const std::invalid_argument& e) {
      throw ConfigError(file, s.line, "'" + prefix + "schedule': " + e.what());
    }
  }
  if (auto tz = job->string("timezone")) {
    std::string problem;
    if (!util::TimeZone::load(tz->value, &problem)) {
      // A fixed offset (UTC+1, GMT-05:00) is not an IANA name, and the nearest
      // name by spelling (UTC) would be hours off: the Etc/GMT zone of that
      // offset is meant, whose sign POSIX inverts.
      static const std::regex offset(R"((?:UTC|GMT)\s*([+-])(\d{1,2})(?::?00)?)", std::regex::icase);
      std::smatch m;
      if (std::regex_match(tz->value, m, offset) && std::stoi(m[2]) <= 14) {
        std::string etc = "Etc/GMT" + std::string(m[1] == "+" ? "-" : "+") + std::to_string(std::stoi(m[2]));
        throw ConfigError(file, tz->line, "'" + prefix + "timezone' '" + tz->value + "' is a fixed offset, not an IANA name",
                          "write the place (e.g. Europe/Berlin, which also follows daylight saving), or '" + etc +
                              "' for " + tz->value + " all year: the Etc/GMT names invert the sign (POSIX), so "
                              "Etc/GMT-1 is one hour ahead of UTC");
      }
      auto best = util::closest(tz->value, util::known_time_zones(), 3);
      throw ConfigError(file, tz->line, "'" + prefix + "timezone' '" + tz->value + "' " + problem,
                        best ? "did you mean '" + *best + "'?"
                             : "write an IANA name such as Europe/Berlin, America/New_York or UTC");
    }
    if (spec.schedule.empty())
      job->fail("timezone", "is set but the " + owner + " has no 'schedule' for it to apply to",
                "add a schedule, or remove the time zone");
    spec.timezone = tz->value;
  }
  if (auto c = job->string("concurrency")) {
    if (c->value == "forbid")
      spec.concurrency = Concurrency::Forbid;
    else if (c->value == "replace")
      spec.concurrency = Concurrency::Replace;
    else if (c->value == "allow")
      spec.concurrency = Concurrency::Allow;
    else
      job->fail("concurrency", "must be forbid, replace or allow, not '" + c->value + "'",
                "forbid: a run waits for the one before; replace: it stops the one before; allow: both run");
  }
}

namespace {

// job: — every value checked, so that each runner can trust it.
JobSpec parse_job(MapReader& parent) {
  auto job = parent.map("job", {"command", "args", "env", "secrets", "resources", "timeout", "retries",
                                "schedule", "timezone", "concurrency", "runs_on", "schedule_from_environment"});
  JobSpec spec;
  spec.line = parent.line("job");
  if (!job)
    return spec;
  parse_run_fields(*job, "job.", spec);
  parse_schedule_fields(*job, "job.", "job", spec);
  parse_runs_on(*job, spec);
  if (auto b = job->boolean("schedule_from_environment"))
    spec.schedule_from_environment = *b;
  return spec;
}

// A name Kubernetes would accept, or an error at its line saying the rule.
std::string k8s_name(MapReader& m, const std::string& key, bool subdomain) {
  auto v = m.string(key);
  if (!v)
    return {};
  if (!(subdomain ? util::is_dns_subdomain(v->value) : util::is_dns_label(v->value)))
    m.fail(key, "'" + v->value + "' is not a name Kubernetes accepts",
           subdomain ? "lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253"
                     : "lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63");
  return v->value;
}

std::optional<std::string> k8s_quantity(MapReader& m, const std::string& key) {
  auto v = m.string(key);
  if (!v)
    return std::nullopt;
  try {
    if (util::parse_quantity(v->value).milli <= 0)
      m.fail(key, "must be above zero");
  } catch (const std::invalid_argument& e) {
    m.fail(key, e.what());
  }
  return v->value;
}

// tolerations: [{key, operator, value, effect}], as Kubernetes reads them.
std::vector<Toleration> parse_tolerations(MapReader& m, const std::string& key) {
  std::vector<Toleration> out;
  for (auto& t : m.map_list(key, {"key", "operator", "value", "effect"}).value_or(std::vector<MapReader>{})) {
    Toleration tol;
    if (auto k = t.string("key"))
      tol.key = k->value;
    if (auto op = t.string("operator")) {
      if (op->value != "Exists" && op->value != "Equal")
        t.fail("operator", "must be Exists or Equal, not '" + op->value + "'");
      tol.op = op->value;
    }
    if (auto v = t.string("value")) {
      if (tol.op == "Exists")
        t.fail("value", "goes with operator: Equal (Exists matches any value)");
      tol.value = v->value;
    }
    if (auto e = t.string("effect")) {
      if (e->value != "NoSchedule" && e->value != "PreferNoSchedule" && e->value != "NoExecute")
        t.fail("effect", "must be NoSchedule, PreferNoSchedule or NoExecute, not '" + e->value + "'");
      tol.effect = e->value;
    }
    if (tol.key.empty() && tol.op != "Exists")
      t.fail("operator", "an empty key needs operator: Exists (it tolerates every taint)");
    out.push_back(std::move(tol));
  }
  return out;
}

// Pod annotations: keys are Kubernetes' qualified names ([prefix/]name).
std::map<std::string, std::string> parse_annotations(MapReader& m, const std::string& key) {
  auto values = m.scalar_map(key).value_or(std::map<std::string, std::string>{});
  for (const auto& [name, value] : values) {
    auto slash = name.find('/');
    std::string prefix = slash == std::string::npos ? "" : name.substr(0, slash);
    std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
    bool ok = !base.empty() && base.size() <= 63 && (prefix.empty() || util::is_dns_subdomain(prefix)) &&
              std::isalnum(static_cast<unsigned char>(base.front())) &&
              std::isalnum(static_cast<unsigned char>(base.back()));
    for (char c : base)
      ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.');
    if (!ok)
      m.fail(key, "'" + name + "' is not an annotation name Kubernetes accepts ([prefix/]name, the name up to 63 "
                  "letters, digits, '-', '_' or '.')",
             "e.g. sidecar.istio.io/inject");
  }
  return values;
}

WorkspaceKubernetes parse_kubernetes(MapReader& k) {
  WorkspaceKubernetes out;
  out.namespace_name = k8s_name(k, "namespace", false);
  auto directory = [&](const char* key, const char* example, std::string& into) {
    auto dir = k.string(key);
    if (!dir)
      return;
    if (dir->value.empty() || dir->value.front() == '/' || dir->value.find("..") != std::string::npos)
      k.fail(key, std::string("must be a directory inside the repository, such as ") + example);
    into = dir->value;
    while (into.size() > 1 && into.back() == '/')
      into.pop_back();
  };
  directory("dir", "deploy/k8s", out.dir);
  directory("pipelines_dir", "deploy/argo", out.pipelines_dir);
  out.service_account = k8s_name(k, "service_account", true);
  out.image_pull_secret = k8s_name(k, "image_pull_secret", true);
  if (auto s = k8s_name(k, "secret", true); !s.empty())
    out.secret = s;
  if (auto gpu = k.string("gpu_resource")) {
    // An extended resource: <domain>/<name>, as device plugins register them.
    auto slash = gpu->value.find('/');
    if (slash == std::string::npos || !util::is_dns_subdomain(gpu->value.substr(0, slash)) ||
        gpu->value.substr(slash + 1).empty() || gpu->value.find('/', slash + 1) != std::string::npos)
      k.fail("gpu_resource", "'" + gpu->value + "' is not an extended resource name",
             "write the device plugin's resource, e.g. nvidia.com/gpu or amd.com/gpu");
    out.gpu_resource = gpu->value;
  }
  if (auto sel = k.scalar_map("gpu_node_selector"))
    out.gpu_node_selector = *sel;
  if (k.has("gpu_tolerations"))
    out.gpu_tolerations = parse_tolerations(k, "gpu_tolerations");
  out.pod_annotations = parse_annotations(k, "pod_annotations");
  if (auto policy = k.string("image_pull_policy")) {
    if (policy->value != "Always" && policy->value != "IfNotPresent" && policy->value != "Never")
      k.fail("image_pull_policy", "must be Always, IfNotPresent or Never, not '" + policy->value + "'",
             "images are pinned by digest, so IfNotPresent (Kubernetes' default for them) pulls each digest once");
    out.image_pull_policy = policy->value;
  }
  if (auto ttl = k.string("ttl_after_finished")) {
    try {
      out.ttl_seconds_after_finished = util::parse_duration(ttl->value);
    } catch (const std::invalid_argument& e) {
      k.fail("ttl_after_finished", e.what());
    }
  }
  std::optional<Located> deploy = k.string("deploy");
  if (auto secret = k.string("kubeconfig_secret")) {
    bool ok = !secret->value.empty();
    for (char c : secret->value)
      ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
    if (!ok)
      k.fail("kubeconfig_secret", "must be a secret name (letters, digits, '_')");
    out.kubeconfig_secret = secret->value;
  }
  auto names = k.map_keys("environments");
  if (auto envs = k.map("environments", names)) {
    for (const auto& name : names) {
      if (!util::is_dns_label(name))
        envs->fail(name, "'" + name + "' is not an environment name Kubernetes labels accept",
                   "lower-case letters, digits and '-', e.g. staging or prod");
      KubernetesEnvironment e;
      e.name = name;
      e.line = envs->line(name);
      auto m = envs->map(name, {"namespace", "env", "resources", "schedule", "suspend", "gpu_tolerations",
                                "pod_annotations"});
      if (m) {
        e.namespace_name = k8s_name(*m, "namespace", false);
        if (auto env = m->scalar_map("env"))
          e.env = *env;
        if (auto res = m->map("resources", {"cpu", "memory", "gpu"})) {
          e.cpu = k8s_quantity(*res, "cpu");
          e.memory = k8s_quantity(*res, "memory");
          if (res->has("gpu"))
            e.gpu = res->integer("gpu", 0, 64);
        }
        e.schedule = m->string_or_list("schedule").value_or(std::vector<Located>{});
        for (const auto& s : e.schedule) {
          try {
            util::parse_cron(s.value);
          } catch (const std::invalid_argument& err) {
            throw ConfigError(m->file(), s.line, "'" + m->qualified_key("schedule") + "': " + err.what());
          }
        }
        e.suspend = m->boolean("suspend");
        if (m->has("gpu_tolerations"))
          e.gpu_tolerations = parse_tolerations(*m, "gpu_tolerations");
        e.pod_annotations = parse_annotations(*m, "pod_annotations");
      }
      out.environments.push_back(std::move(e));
    }
  }
  read_deploy(deploy, out.environments, k.file(), "kubernetes", out.deploy, out.deploy_environment);
  return out;
}

} // namespace

WorkspaceConfig parse_workspace_config(const std::string& content, const std::string& file) {
  YAML::Node root = load_yaml(content, file);
  MapReader r(root, file, "",
              {"registry", "image_prefix", "default_branch", "name_from", "exclude",
               "global_triggers", "docker", "tags", "default_branch_tags", "ci", "build_cache", "prune",
               "kubernetes", "ecs", "pipelines"});
  WorkspaceConfig cfg;
  cfg.file = file;
  if (auto reg = r.string("registry")) {
    std::string v = reg->value;
    if (v.find("://") != std::string::npos)
      throw ConfigError(file, reg->line, "'registry' must be a host and path, not a URL",
                        "write e.g. 'ghcr.io/acme' instead of 'https://ghcr.io/acme'");
    while (!v.empty() && v.back() == '/')
      v.pop_back();
    // A registry is what image names start with: valid when "<registry>/x" is.
    if (!v.empty())
      if (auto problem = util::repository_problem(v + "/x"))
        throw ConfigError(file, reg->line, "'registry' is not a valid image repository: " + *problem,
                          "write the registry host and namespace Docker pushes to, in lower case, "
                          "e.g. 'ghcr.io/acme' or 'localhost:5000'");
    cfg.registry = v;
  }
  if (auto prefix = r.string("image_prefix")) {
    // The prefix is glued to each name: it is valid when "<prefix>x" is.
    if (!prefix->value.empty())
      if (auto problem = util::repository_problem(prefix->value + "x"); problem || prefix->value.front() == '/')
        throw ConfigError(file, prefix->line,
                          "'image_prefix' '" + prefix->value + "' does not make valid image names" +
                              (problem ? " ('" + prefix->value + "<name>'): " + *problem : ""),
                          "use lower-case letters and digits, ending in a separator such as 'ml-' "
                          "or 'team/'");
    cfg.image_prefix = prefix->value;
  }
  if (auto branch = r.string("default_branch")) {
    if (branch->value.empty())
      throw ConfigError(file, branch->line, "'default_branch' must not be empty");
    cfg.default_branch = branch->value;
  }
  if (auto nf = r.string("name_from")) {
    if (nf->value == "leaf")
      cfg.name_from = NameFrom::Leaf;
    else if (nf->value == "path")
      cfg.name_from = NameFrom::Path;
    else
      throw ConfigError(file, nf->line, "'name_from' must be 'leaf' or 'path', not '" + nf->value + "'");
  }
  // `build_cache: off` reads as it is written (YAML 1.1 spelling), as do true/false.
  if (auto cache = r.string("build_cache")) {
    if (cache->value == "on" || cache->value == "true")
      cfg.build_cache = true;
    else if (cache->value == "off" || cache->value == "false")
      cfg.build_cache = false;
    else
      throw ConfigError(file, cache->line, "'build_cache' must be on or off, not '" + cache->value + "'");
  }
  cfg.exclude = globs(r, "exclude");
  cfg.global_triggers = globs(r, "global_triggers");
  if (auto d = r.string("docker")) {
    bool absolute = !d->value.empty() && d->value.front() == '/';
    if (d->value.empty() || (!absolute && d->value.find('/') != std::string::npos))
      throw ConfigError(file, d->line,
                        "'docker' must be a program name on PATH (docker, podman) or an absolute path "
                        "(/usr/bin/docker), not '" + d->value + "'");
    cfg.docker = d->value;
  }
  for (const char* key : {"tags", "default_branch_tags"}) {
    auto list = r.string_list(key).value_or(std::vector<Located>{});
    for (const auto& t : list) {
      std::string probe = t.value;
      for (const char* ph : {"{branch}", "{short_sha}"})
        for (size_t pos; (pos = probe.find(ph)) != std::string::npos;)
          probe.replace(pos, std::string(ph).size(), "x");
      bool ok = !probe.empty() && probe.size() <= 128 && probe[0] != '.' && probe[0] != '-';
      for (char c : probe)
        ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-');
      if (!ok)
        throw ConfigError(file, t.line, std::string("'") + key + "' entry '" + t.value +
                                            "' is not a valid image tag",
                          "tags use letters, digits, '_', '.' and '-' (not first), at most 128; "
                          "placeholders: {branch}, {short_sha}");
    }
    (std::string(key) == "tags" ? cfg.tags : cfg.default_branch_tags) = plain(list);
  }
  if (auto ci = r.map("ci", {"mode", "mlrepo_action", "runs_on", "pin_actions",
                             "registry_username_secret", "registry_password_secret", "notify"})) {
    if (auto mode = ci->string("mode")) {
      if (mode->value == "per-project")
        cfg.ci.mode = CiMode::PerProject;
      else if (mode->value == "matrix")
        cfg.ci.mode = CiMode::Matrix;
      else
        ci->fail("mode", "must be 'per-project' or 'matrix', not '" + mode->value + "'");
    }
    if (auto action = ci->string("mlrepo_action")) {
      auto at = action->value.find('@');
      auto slash = action->value.find('/');
      if (at == std::string::npos || slash == std::string::npos || slash > at || at + 1 == action->value.size())
        ci->fail("mlrepo_action", "must be OWNER/REPO@REF (the repository holding mlrepo's action.yml)");
      cfg.ci.mlrepo_action = action->value;
      cfg.ci.mlrepo_action_default = false;
    }
    if (auto runs_on = ci->string("runs_on"))
      cfg.ci.runs_on = runs_on->value;
    if (auto pin = ci->string("pin_actions")) {
      if (pin->value != "sha" && pin->value != "tag")
        ci->fail("pin_actions", "must be 'sha' or 'tag'");
      cfg.ci.pin_sha = pin->value == "sha";
      if (cfg.ci.mlrepo_action_default)
        cfg.ci.mlrepo_action = default_mlrepo_action(cfg.ci.pin_sha);
    }
    auto secret_name = [](MapReader& m, const char* key, std::string& field) {
      if (auto v = m.string(key)) {
        bool ok = !v->value.empty();
        for (char c : v->value)
          ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
        if (!ok)
          m.fail(key, "must be a secret name (letters, digits, '_')");
        field = v->value;
      }
    };
    secret_name(*ci, "registry_username_secret", cfg.ci.registry_username_secret);
    secret_name(*ci, "registry_password_secret", cfg.ci.registry_password_secret);
    if (auto notify = ci->map("notify", {"slack_webhook_secret"}))
      secret_name(*notify, "slack_webhook_secret", cfg.ci.slack_webhook_secret);
  }
  if (auto k8s = r.map("kubernetes", {"namespace", "dir", "pipelines_dir", "service_account", "image_pull_secret", "gpu_resource",
                                      "gpu_node_selector", "secret", "ttl_after_finished", "deploy",
                                      "kubeconfig_secret", "environments", "gpu_tolerations",
                                      "pod_annotations", "image_pull_policy"}))
  {
    cfg.kubernetes = parse_kubernetes(*k8s);
    cfg.kubernetes.configured = true;
  }
  cfg.ecs = parse_ecs(r);
  // A job's default place is the one target CI deploys to; with two there is
  // no default to guess.
  if (cfg.kubernetes.deploy && cfg.ecs.deploy)
    throw ConfigError(file, r.key_line("ecs"),
                      "'kubernetes.deploy' and 'ecs.deploy' are both set: CI deploys each job to one target",
                      "keep one (each job's schedule then runs there unless its job.runs_on says otherwise)");
  cfg.pipelines = parse_pipelines(r);
  if (auto prune = r.map("prune", {"keep_last", "older_than"})) {
    if (prune->has("keep_last"))
      cfg.prune.keep_last = prune->integer("keep_last", 0, 100000).value_or(10);
    if (auto age = prune->string("older_than")) {
      try {
        cfg.prune.older_than_seconds = util::parse_duration(age->value);
      } catch (const std::invalid_argument& e) {
        throw ConfigError(file, age->line, std::string("'prune.older_than': ") + e.what());
      }
    }
  }
  return cfg;
}

std::string ci_secret_for(const ProjectConfig& config, const std::string& variable) {
  auto it = config.ci_secrets.find(variable);
  return it == config.ci_secrets.end() ? variable : it->second;
}

ProjectConfig parse_project_config(const std::string& content, const std::string& file) {
  YAML::Node root = load_yaml(content, file);
  MapReader r(root, file, "",
              {"name", "dockerfile", "context", "build_args", "target", "platforms", "depends_on",
               "test", "lint", "run", "ci", "secrets", "job"});
  ProjectConfig cfg;
  cfg.file = file;
  cfg.name = r.string("name");
  cfg.dockerfile = r.string("dockerfile");
  cfg.context = r.string("context");
  cfg.build_args = r.scalar_map("build_args").value_or(std::map<std::string, std::string>{});
  cfg.secrets = r.scalar_map("secrets").value_or(std::map<std::string, std::string>{});
  auto word = [](const std::string& s, const char* extra) {
    bool ok = !s.empty() && !std::isdigit(static_cast<unsigned char>(s[0]));
    for (char c : s)
      ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || std::strchr(extra, c));
    return ok;
  };
  for (const auto& [id, var] : cfg.secrets)
    if (!word(id, ".-") || !word(var, ""))
      throw ConfigError(file, 0, "'secrets' entry '" + id + ": " + var + "' is not 'ID: ENV_VAR'",
                        "map each BuildKit secret id (letters, digits, '_', '.', '-') to the name of "
                        "the environment variable holding its value, e.g. 'pip_token: PIP_TOKEN'");
  if (auto t = r.string("target"))
    cfg.target = t->value;
  cfg.platforms = plain(r.string_list("platforms").value_or(std::vector<Located>{}));
  cfg.depends_on = r.string_list("depends_on").value_or(std::vector<Located>{});
  cfg.test = r.command("test").value_or(std::vector<std::string>{});
  cfg.lint = r.command("lint").value_or(std::vector<std::string>{});
  if (auto run = r.map("run", {"env", "volumes", "gpus", "ports", "command"})) {
    cfg.run.env = run->scalar_map("env").value_or(std::map<std::string, std::string>{});
    cfg.run.volumes = plain(run->string_list("volumes").value_or(std::vector<Located>{}));
    if (auto g = run->string("gpus"))
      cfg.run.gpus = g->value;
    cfg.run.ports = plain(run->string_list("ports").value_or(std::vector<Located>{}));
    cfg.run.command = run->command("command").value_or(std::vector<std::string>{});
  }
  if (auto ci = r.map("ci", {"matrix", "enabled", "timeout_minutes", "secrets"})) {
    cfg.ci_secrets = ci->scalar_map("secrets").value_or(std::map<std::string, std::string>{});
    for (const auto& [var, secret] : cfg.ci_secrets) {
      bool used = false;
      for (const auto& [id, v] : cfg.secrets)
        used |= v == var;
      if (!used)
        ci->fail("secrets", "'" + var + "' is not the variable of any build secret (top-level 'secrets:' maps "
                            "ID: VARIABLE; ci.secrets maps VARIABLE: CI_SECRET)");
      if (!word(secret, ""))
        ci->fail("secrets", "'" + secret + "' is not a GitHub secret name (letters, digits, '_')");
    }
    cfg.ci_matrix = ci->list_map("matrix").value_or(std::map<std::string, std::vector<std::string>>{});
    for (const auto& [name, values] : cfg.ci_matrix) {
      bool ok = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
      for (char c : name)
        ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
      if (!ok)
        ci->fail("matrix", "key '" + name + "' is not a build argument name (letters, digits, '_')");
    }
    cfg.ci_enabled = ci->boolean("enabled").value_or(true);
    cfg.ci_timeout_minutes = ci->integer("timeout_minutes", 1, 4320).value_or(60);
  }
  if (r.has("job"))
    cfg.job = parse_job(r);
  return cfg;
}

JobTarget job_target(const JobSpec& job, const WorkspaceConfig& ws) {
  if (job.runs_on != JobTarget::Default)
    return job.runs_on;
  if (ws.kubernetes.deploy)
    return JobTarget::Kubernetes;
  return ws.ecs.deploy ? JobTarget::Ecs : JobTarget::GithubActions;
}

JobTarget deploy_target(const WorkspaceConfig& ws) {
  if (ws.kubernetes.deploy)
    return JobTarget::Kubernetes;
  return ws.ecs.deploy ? JobTarget::Ecs : JobTarget::Default;
}

JobTarget pipeline_target(const JobSpec& schedule, const WorkspaceConfig& ws) {
  if (schedule.runs_on != JobTarget::Default)
    return schedule.runs_on;
  return ws.kubernetes.deploy ? JobTarget::Kubernetes : JobTarget::GithubActions;
}

std::string deploy_environment(const WorkspaceConfig& ws) {
  return ws.kubernetes.deploy ? ws.kubernetes.deploy_environment : ws.ecs.deploy_environment;
}

std::vector<std::string> runner_labels(const JobSpec& job, const WorkspaceConfig& ws) {
  return job.runner_labels.empty() ? std::vector<std::string>{ws.ci.runs_on} : job.runner_labels;
}

const char* job_target_name(JobTarget target) {
  switch (target) {
  case JobTarget::Kubernetes:
    return "kubernetes";
  case JobTarget::Ecs:
    return "ecs";
  default:
    return "github-actions";
  }
}

bool github_hosted(const std::vector<std::string>& labels) {
  for (const auto& l : labels)
    if (!(l.starts_with("ubuntu-") || l.starts_with("windows-") || l.starts_with("macos-")))
      return false;
  return true;
}

} // namespace mlrepo::config
