#include "mlrepo/report/prune.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace mlrepo::report {
namespace {

std::string tag_list(const release::PruneImage& image) {
  std::string out;
  for (const auto& t : image.tags)
    out += (out.empty() ? "" : ", ") + t;
  return out.empty() ? "untagged" : out;
}

std::string describe(const release::PruneImage& image) {
  return image.digest + " (" + tag_list(image) + (image.created.empty() ? "" : "; created " + image.created) + ")";
}

} // namespace

std::string prune_deleted_line(const release::PruneProject& project, const release::PruneImage& image) {
  return "deleted " + project.repository + "@" + describe(image) + "\n";
}

std::string prune_plan_text(const release::PruneOutcome& outcome) {
  std::string out;
  size_t going = 0, staying = 0;
  for (const auto& p : outcome.projects) {
    out += p.name + " (" + p.repository + (p.removed ? ", project removed from " + outcome.default_branch : "") +
           ")\n";
    if (p.images.empty())
      out += "  no images\n";
    for (const auto& image : p.images) {
      if (image.keep.empty()) {
        ++going;
        out += "  delete " + describe(image) + "\n";
      } else {
        ++staying;
        out += "  keep   " + describe(image) + ": " + image.keep + "\n";
      }
    }
  }
  out += std::to_string(going) + (going == 1 ? " image" : " images") + " would be deleted, " +
         std::to_string(staying) + " kept\n";
  return out;
}

std::string prune_json(const release::PruneOutcome& outcome) {
  nlohmann::ordered_json doc;
  doc["default_branch"] = outcome.default_branch;
  doc["commit"] = outcome.commit;
  doc["keep_last"] = outcome.keep_last;
  doc["older_than_seconds"] = outcome.older_than_seconds;
  doc["dry_run"] = outcome.dry_run;
  doc["projects"] = nlohmann::ordered_json::array();
  for (const auto& p : outcome.projects) {
    nlohmann::ordered_json project{{"name", p.name}, {"repository", p.repository}, {"removed", p.removed}};
    project["deleted"] = nlohmann::ordered_json::array();
    project["kept"] = nlohmann::ordered_json::array();
    for (const auto& image : p.images) {
      nlohmann::ordered_json entry{{"digest", image.digest}, {"tags", image.tags}, {"created", image.created}};
      if (image.keep.empty()) {
        project["deleted"].push_back(std::move(entry)); // in a dry run: would be
      } else {
        entry["reason"] = image.keep;
        project["kept"].push_back(std::move(entry));
      }
    }
    doc["projects"].push_back(std::move(project));
  }
  return doc.dump() + "\n";
}

namespace {

std::string mib(std::uintmax_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

} // namespace

std::string pipeline_prune_text(const pipeline::CachePrune& prune, bool dry_run) {
  std::string out;
  std::uintmax_t total = 0;
  const char* verb = dry_run ? "would remove " : "removed ";
  for (const auto& e : prune.entries) {
    out += verb + std::string("cache entry ") + e.path + " (" + e.about + "), " + mib(e.bytes) + "\n";
    total += e.bytes;
  }
  for (const auto& r : prune.runs) {
    out += verb + std::string("run ") + r.path + " (" + r.about + "), " + mib(r.bytes) + "\n";
    total += r.bytes;
  }
  out += std::string(dry_run ? "would free " : "freed ") + mib(total) + ": " + std::to_string(prune.entries.size()) +
         " cache entries, " + std::to_string(prune.runs.size()) + " runs\n";
  return out;
}

std::string pipeline_prune_json(const pipeline::CachePrune& prune, bool dry_run) {
  auto list = [](const std::vector<pipeline::PrunedDir>& dirs) {
    auto a = nlohmann::ordered_json::array();
    for (const auto& d : dirs)
      a.push_back({{"path", d.path}, {"about", d.about}, {"bytes", d.bytes}});
    return a;
  };
  return nlohmann::ordered_json{{"dry_run", dry_run}, {"entries", list(prune.entries)}, {"runs", list(prune.runs)}}
             .dump() +
         "\n";
}

} // namespace mlrepo::report
