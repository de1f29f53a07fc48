#include "mlrepo/project/cache.hpp"

#include "mlrepo/util/fs.hpp"
#include "mlrepo/version.hpp"

#include <cstring>
#include <filesystem>
#include <spdlog/spdlog.h>

namespace mlrepo::project {
namespace {

// Bump when the layout or discovery's meaning changes: old entries are then
// simply never looked up again.
constexpr const char* kMagic = "mlrepo-discovery-6\n";
constexpr size_t kMaxEntries = 32;

uint64_t fnv1a(std::string_view data) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

class Writer {
public:
  void u(uint64_t v) {
    while (v >= 0x80) {
      out += static_cast<char>(v | 0x80);
      v >>= 7;
    }
    out += static_cast<char>(v);
  }
  void s(std::string_view v) {
    u(v.size());
    out.append(v);
  }
  void strings(const std::vector<std::string>& v) {
    u(v.size());
    for (const auto& x : v)
      s(x);
  }
  void map(const std::map<std::string, std::string>& m) {
    u(m.size());
    for (const auto& [k, v] : m) {
      s(k);
      s(v);
    }
  }
  void located(const config::Located& l) {
    s(l.value);
    u(static_cast<uint64_t>(l.line));
  }
  void opt_located(const std::optional<config::Located>& l) {
    u(l ? 1 : 0);
    if (l)
      located(*l);
  }
  void opt(const std::optional<std::string>& v) {
    u(v ? 1 : 0);
    if (v)
      s(*v);
  }
  std::string out;
};

class Reader {
public:
  explicit Reader(std::string_view data) : d_(data) {}
  bool ok() const { return ok_; }
  bool done() const { return pos_ == d_.size(); }
  uint64_t u() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= d_.size())
        return fail();
      auto c = static_cast<unsigned char>(d_[pos_++]);
      v |= static_cast<uint64_t>(c & 0x7f) << shift;
      if (!(c & 0x80))
        return v;
    }
    return fail();
  }
  std::string s() {
    uint64_t n = u();
    if (!ok_ || n > d_.size() - pos_) {
      fail();
      return {};
    }
    std::string out(d_.substr(pos_, n));
    pos_ += n;
    return out;
  }
  std::vector<std::string> strings() {
    std::vector<std::string> v(bounded(u()));
    for (auto& x : v)
      x = s();
    return v;
  }
  std::map<std::string, std::string> map() {
    std::map<std::string, std::string> m;
    for (size_t n = bounded(u()); n > 0 && ok_; --n) {
      auto k = s();
      m[k] = s();
    }
    return m;
  }
  config::Located located() {
    config::Located l;
    l.value = s();
    l.line = static_cast<int>(u());
    return l;
  }
  std::optional<config::Located> opt_located() {
    if (!u())
      return std::nullopt;
    return located();
  }
  std::optional<std::string> opt() {
    if (!u())
      return std::nullopt;
    return s();
  }
  size_t bounded(uint64_t n) {
    // Every element takes at least a byte: larger counts mean damage.
    if (n > d_.size() - pos_)
      return fail(), 0;
    return static_cast<size_t>(n);
  }

private:
  uint64_t fail() {
    ok_ = false;
    pos_ = d_.size();
    return 0;
  }
  std::string_view d_;
  size_t pos_ = 0;
  bool ok_ = true;
};

void write_config(Writer& w, const config::ProjectConfig& c) {
  w.s(c.file);
  w.opt_located(c.name);
  w.opt_located(c.dockerfile);
  w.opt_located(c.context);
  w.map(c.build_args);
  w.opt(c.target);
  w.strings(c.platforms);
  w.u(c.depends_on.size());
  for (const auto& d : c.depends_on)
    w.located(d);
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
}

config::ProjectConfig read_config(Reader& r) {
  config::ProjectConfig c;
  c.file = r.s();
  c.name = r.opt_located();
  c.dockerfile = r.opt_located();
  c.context = r.opt_located();
  c.build_args = r.map();
  c.target = r.opt();
  c.platforms = r.strings();
  for (size_t n = r.bounded(r.u()); n > 0 && r.ok(); --n)
    c.depends_on.push_back(r.located());
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
    bool has_config = !p.config.file.empty();
    w.u(has_config ? 1 : 0);
    if (has_config)
      write_config(w, p.config);
    w.strings(graph.path_dependencies(i));
  }
  w.u(graph.edges().size());
  for (const auto& e : graph.edges()) {
    w.u(e.from);
    w.u(e.to);
    w.s(e.via);
  }
  std::string out = kMagic;
  out += w.out;
  uint64_t sum = fnv1a(w.out);
  out.append(reinterpret_cast<const char*>(&sum), sizeof sum);
  return out;
}

std::optional<CachedDiscovery> deserialize_discovery(std::string_view data) {
  size_t magic = std::strlen(kMagic);
  if (data.size() < magic + 8 || data.substr(0, magic) != kMagic)
    return std::nullopt;
  std::string_view payload = data.substr(magic, data.size() - magic - 8);
  uint64_t sum;
  std::memcpy(&sum, data.data() + data.size() - 8, 8);
  if (sum != fnv1a(payload))
    return std::nullopt;
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
      p.config = read_config(r);
    c.path_deps[i] = r.strings();
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
