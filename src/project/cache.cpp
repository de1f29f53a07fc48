#include "mlrepo/project/cache.hpp"

#include "mlrepo/util/fs.hpp"
#include "mlrepo/util/serial.hpp"
#include "mlrepo/version.hpp"

#include <cstring>
#include <filesystem>
#include <spdlog/spdlog.h>

namespace mlrepo::project {
namespace {

// Bump when the layout or discovery's meaning changes: old entries are then
// simply never looked up again.
constexpr const char* kMagic = "mlrepo-discovery-12\n";
constexpr size_t kMaxEntries = 32;

// Config values keep their line for later messages.
void put_located(util::ByteWriter& w, const config::Located& l) {
  w.s(l.value);
  w.u(static_cast<uint64_t>(l.line));
}

void put_opt_located(util::ByteWriter& w, const std::optional<config::Located>& l) {
  w.u(l ? 1 : 0);
  if (l)
    put_located(w, *l);
}

config::Located get_located(util::ByteReader& r) {
  config::Located l;
  l.value = r.s();
  l.line = static_cast<int>(r.u());
  return l;
}

std::optional<config::Located> get_opt_located(util::ByteReader& r) {
  if (!r.u())
    return std::nullopt;
  return get_located(r);
}

using Writer = util::ByteWriter;
using Reader = util::ByteReader;

void write_config(Writer& w, const config::ProjectConfig& c) {
  w.s(c.file);
  put_opt_located(w, c.name);
  put_opt_located(w, c.dockerfile);
  put_opt_located(w, c.context);
  w.map(c.build_args);
  w.opt(c.target);
  w.strings(c.platforms);
  w.u(c.depends_on.size());
  for (const auto& d : c.depends_on)
    put_located(w, d);
  w.strings(c.test);
  w.strings(c.lint);
  w.map(c.run.env);
  w.strings(c.run.volumes);
  w.opt(c.run.gpus);
  w.strings(c.run.ports);
  w.strings(c.run.command);
  w.u(c.ci_matrix.size());
  for (const auto& [k, v] : c.ci_matrix) {
    w.s(k);
    w.strings(v);
  }
  w.u(c.ci_enabled ? 1 : 0);
  w.u(static_cast<uint64_t>(c.ci_timeout_minutes));
  w.map(c.secrets);
  w.map(c.ci_secrets);
  w.u(c.job ? 1 : 0);
  if (c.job) {
    const auto& j = *c.job;
    w.u(static_cast<uint64_t>(j.line));
    w.strings(j.command);
    w.strings(j.args);
    w.map(j.env);
    w.map(j.secrets);
    w.opt(j.cpu);
    w.opt(j.memory);
    w.u(static_cast<uint64_t>(j.gpu));
    w.u(static_cast<uint64_t>(j.timeout_seconds));
    w.u(static_cast<uint64_t>(j.retries));
    w.u(j.schedule.size());
    for (const auto& s : j.schedule)
      put_located(w, s);
    w.s(j.timezone);
    w.u(static_cast<uint64_t>(j.concurrency));
    w.u(static_cast<uint64_t>(j.runs_on));
    w.u(static_cast<uint64_t>(j.runs_on_line));
    w.strings(j.runner_labels);
    w.u(j.schedule_from_environment ? 1 : 0);
  }
}

config::ProjectConfig read_config(Reader& r) {
  config::ProjectConfig c;
  c.file = r.s();
  c.name = get_opt_located(r);
  c.dockerfile = get_opt_located(r);
  c.context = get_opt_located(r);
  c.build_args = r.map();
  c.target = r.opt();
  c.platforms = r.strings();
  for (size_t n = r.bounded(r.u()); n > 0 && r.ok(); --n)
    c.depends_on.push_back(get_located(r));
  c.test = r.strings();
  c.lint = r.strings();
  c.run.env = r.map();
  c.run.volumes = r.strings();
  c.run.gpus = r.opt();
  c.run.ports = r.strings();
  c.run.command = r.strings();
  for (size_t n = r.bounded(r.u()); n > 0 && r.ok(); --n) {
    auto k = r.s();
    c.ci_matrix[k] = r.strings();
  }
  c.ci_enabled = r.u() != 0;
  c.ci_timeout_minutes = static_cast<int>(r.u());
  c.secrets = r.map();
  c.ci_secrets = r.map();
  if (r.u()) {
    config::JobSpec j;
    j.line = static_cast<int>(r.u());
    j.command = r.strings();
    j.args = r.strings();
    j.env = r.map();
    j.secrets = r.map();
    j.cpu = r.opt();
    j.memory = r.opt();
    j.gpu = static_cast<int>(r.u());
    j.timeout_seconds = static_cast<std::int64_t>(r.u());
    j.retries = static_cast<int>(r.u());
    for (size_t n = r.bounded(r.u()); n > 0 && r.ok(); --n)
      j.schedule.push_back(get_located(r));
    j.timezone = r.s();
    auto concurrency = r.u();
    if (concurrency > static_cast<uint64_t>(config::Concurrency::Allow))
      r.fail();
    j.concurrency = static_cast<config::Concurrency>(concurrency);
    auto target = r.u();
    if (target > static_cast<uint64_t>(config::JobTarget::Ecs))
      r.fail();
    j.runs_on = static_cast<config::JobTarget>(target);
    j.runs_on_line = static_cast<int>(r.u());
    j.runner_labels = r.strings();
    j.schedule_from_environment = r.u() != 0;
    c.job = std::move(j);
  }
  return c;
}

} // namespace

std::string serialize_discovery(const std::optional<std::string>& workspace_yaml, const Graph& graph) {
  Writer w;
  w.s(kVersion);
  w.opt(workspace_yaml);
  const auto& projects = graph.projects();
  w.u(projects.size());
  for (size_t i = 0; i < projects.size(); ++i) {
    const auto& p = projects[i];
    w.s(p.name);
    w.s(p.path);
    w.s(p.dockerfile);
    w.s(p.context);
    w.s(p.image);
    // Most projects have no mlrepo.yaml: one byte says "defaults".
    bool has_config = !p.config->file.empty();
    w.u(has_config ? 1 : 0);
    if (has_config)
      write_config(w, *p.config);
    const auto& inputs = graph.path_dependencies(i);
    w.u(inputs.size());
    for (const auto& in : inputs) {
      w.s(in.path);
      w.s(in.origin);
      w.u(in.glob ? 1 : 0);
    }
  }
  w.u(graph.edges().size());
  for (const auto& e : graph.edges()) {
    w.u(e.from);
    w.u(e.to);
    w.s(e.via);
  }
  w.u(graph.own_base_uses().size());
  for (const auto& o : graph.own_base_uses()) {
    w.u(o.project);
    w.u(static_cast<uint64_t>(o.line));
    w.s(o.reference);
  }
  return util::frame(kMagic, w.out);
}

std::optional<CachedDiscovery> deserialize_discovery(std::string_view data) {
  auto payload = util::unframe(kMagic, data);
  if (!payload)
    return std::nullopt;
  return decode_discovery_payload(*payload);
}

std::optional<CachedDiscovery> decode_discovery_payload(std::string_view payload) {
  Reader r(payload);
  if (r.s() != kVersion)
    return std::nullopt;
  CachedDiscovery c;
  c.workspace_yaml = r.opt();
  size_t n = r.bounded(r.u());
  c.projects.resize(n);
  c.path_deps.resize(n);
  for (size_t i = 0; i < n && r.ok(); ++i) {
    auto& p = c.projects[i];
    p.name = r.s();
    p.path = r.s();
    p.dockerfile = r.s();
    p.context = r.s();
    p.image = r.s();
    if (r.u())
      p.config = std::make_shared<const config::ProjectConfig>(read_config(r));
    for (size_t k = r.bounded(r.u()); k > 0 && r.ok(); --k) {
      PathInput in;
      in.path = r.s();
      in.origin = r.s();
      in.glob = r.u() != 0;
      c.path_deps[i].push_back(std::move(in));
    }
  }
  for (size_t e = r.bounded(r.u()); e > 0 && r.ok(); --e) {
    Edge edge;
    edge.from = r.u();
    edge.to = r.u();
    edge.via = r.s();
    if (edge.from >= n || edge.to >= n)
      return std::nullopt;
    c.edges.push_back(std::move(edge));
  }
  for (size_t k = r.bounded(r.u()); k > 0 && r.ok(); --k) {
    OwnBaseUse o;
    o.project = r.u();
    o.line = static_cast<int>(r.u());
    o.reference = r.s();
    if (o.project >= n)
      return std::nullopt;
    c.own_base.push_back(std::move(o));
  }
  if (!r.ok() || !r.done())
    return std::nullopt;
  return c;
}

DiscoveryCache::DiscoveryCache(std::string dir) : dir_(std::move(dir)) {}

std::optional<CachedDiscovery> DiscoveryCache::load(const std::string& tree_id) const {
  if (dir_.empty())
    return std::nullopt;
  auto data = util::read_file(dir_ + "/" + tree_id);
  if (!data)
    return std::nullopt;
  auto out = deserialize_discovery(*data);
  if (!out)
    spdlog::debug("discovery cache entry {} is damaged; rebuilding it", tree_id);
  return out;
}

void DiscoveryCache::store(const std::string& tree_id, const std::string& data) const {
  if (dir_.empty())
    return;
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir_, ec);
  try {
    util::write_file_atomic(dir_ + "/" + tree_id, data);
  } catch (const std::exception& e) {
    spdlog::debug("cannot write the discovery cache: {}", e.what());
    return;
  }
  // Keep the cache small: drop the least recently written entries.
  std::vector<std::pair<fs::file_time_type, fs::path>> entries;
  for (const auto& e : fs::directory_iterator(dir_, ec))
    if (e.is_regular_file(ec) && e.path().filename().string().find(".tmp.") == std::string::npos)
      entries.emplace_back(e.last_write_time(ec), e.path());
  if (entries.size() <= kMaxEntries)
    return;
  std::sort(entries.begin(), entries.end());
  for (size_t i = 0; i + kMaxEntries < entries.size(); ++i)
    fs::remove(entries[i].second, ec);
}

} // namespace mlrepo::project
