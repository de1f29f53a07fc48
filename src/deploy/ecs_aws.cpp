// `mlrepo job deploy --target ecs`: one project's rendered files through the
// `aws` CLI, which finds credentials, profiles, roles and AWS_ENDPOINT_URL as
// its users configured them (mlrepo never reads them). Each object is read
// back first and changed only when it differs, so a second deploy of the
// same spec changes nothing: no new task definition revision, no schedule
// update, no rule put.
#include "mlrepo/deploy/ecs.hpp"

#include "mlrepo/util/error.hpp"
#include "mlrepo/util/fs.hpp"
#include "mlrepo/util/process.hpp"
#include "mlrepo/util/text.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <regex>
#include <set>
#include <unistd.h>

namespace mlrepo::deploy {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

// True when every field `ours` sets is in `theirs` with the same value: AWS
// adds its own (ARNs, dates, defaults), which say nothing about a change.
bool covers(const Json& theirs, const Json& ours) {
  if (ours.is_object()) {
    if (!theirs.is_object())
      return false;
    for (const auto& [key, value] : ours.items())
      if (!theirs.contains(key) || !covers(theirs[key], value))
        return false;
    return true;
  }
  if (ours.is_array()) {
    if (!theirs.is_array() || theirs.size() != ours.size())
      return false;
    for (size_t i = 0; i < ours.size(); ++i)
      if (!covers(theirs[i], ours[i]))
        return false;
    return true;
  }
  return theirs == ours;
}

// A directory for the inputs handed to --cli-input-json, removed at the end.
class InputDir {
public:
  InputDir() {
    std::string pattern = (fs::temp_directory_path() / "mlrepo-ecs-XXXXXX").string();
    if (!::mkdtemp(pattern.data()))
      throw EnvironmentError("cannot create a temporary directory in " + fs::temp_directory_path().string(),
                             "check TMPDIR");
    path_ = pattern;
  }
  ~InputDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  InputDir(const InputDir&) = delete;
  InputDir& operator=(const InputDir&) = delete;
  std::string write(const std::string& name, const std::string& content) {
    auto file = path_ / name;
    util::write_file_atomic(file, content);
    return "file://" + file.string();
  }

private:
  fs::path path_;
};

// The aws CLI, pointed at one region, for one project.
class Aws {
public:
  Aws(const ApplyRequest& r, util::ProcessRunner& runner, std::string region)
      : r_(r), runner_(runner), region_(std::move(region)) {}

  // nullopt: AWS said the object does not exist (`missing` is its error code).
  std::optional<Json> read(const std::string& service, const std::string& op, std::vector<std::string> args,
                           const std::string& missing) {
    return call(service, op, std::move(args), missing);
  }
  Json change(const std::string& service, const std::string& op, std::vector<std::string> args) {
    return *call(service, op, std::move(args), "");
  }
  // `op` with a rendered file as its --cli-input-json.
  Json change_with(const std::string& service, const std::string& op, const generated::File& file) {
    return change(service, op, {"--cli-input-json", inputs_.write(fs::path(file.path).filename(), file.content)});
  }

private:
  std::optional<Json> call(const std::string& service, const std::string& op, std::vector<std::string> args,
                           const std::string& missing) {
    util::ProcessSpec spec;
    spec.argv = {r_.tool, service, op};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    for (const char* a : {"--region", region_.c_str(), "--output", "json"})
      spec.argv.emplace_back(a);
    spec.cwd = r_.workdir;
    spdlog::debug("{}", util::shell_quote(spec.argv));
    auto res = runner_.run(spec);
    if (res.ok()) {
      if (res.out.find_first_not_of(" \t\r\n") == std::string::npos)
        return Json::object();
      try {
        return Json::parse(res.out);
      } catch (const Json::exception&) {
        throw Error(ExitCode::WorkFailed, "aws " + service + " " + op + " answered what is not JSON: " + res.out,
                    "check the aws CLI ('aws --version'); mlrepo runs it with --output json");
      }
    }
    std::string said = res.said();
    if (!missing.empty() && said.find(missing) != std::string::npos)
      return std::nullopt;
    for (const char* sign : {"Unable to locate credentials", "could not be found", "ExpiredToken",
                             "InvalidClientTokenId", "Could not connect to the endpoint URL", "UnrecognizedClientException"})
      if (said.find(sign) != std::string::npos)
        throw EnvironmentError("the aws CLI cannot reach AWS for " + r_.project + " (" + util::last_line(said) + ")",
                               "check its credentials and region ('aws sts get-caller-identity'), then deploy again");
    throw Error(ExitCode::WorkFailed,
                "aws " + service + " " + op + " failed for " + r_.what + " " + r_.project + ": " + said,
                "check the ecs: section and the roles' permissions, and 'mlrepo job render --target ecs " + r_.project +
                    " -o -'");
  }

  const ApplyRequest& r_;
  util::ProcessRunner& runner_;
  std::string region_;
  InputDir inputs_;
};

struct Files {
  const generated::File* task_definition = nullptr;
  std::vector<const generated::File*> schedules;
  const generated::File* alert_rule = nullptr;
  const generated::File* alert_targets = nullptr;
};

Files sorted(const ApplyRequest& r) {
  Files f;
  for (const auto* file : r.files) {
    auto name = fs::path(file->path).filename().string();
    if (name == "task-definition.json")
      f.task_definition = file;
    else if (name.rfind("schedule", 0) == 0)
      f.schedules.push_back(file);
    else if (name == "alert-rule.json")
      f.alert_rule = file;
    else if (name == "alert-targets.json")
      f.alert_targets = file;
  }
  return f;
}

// The passes, in order: the task definition (the schedules run its latest
// revision), the schedules, the schedules of crons gone, the alert.
void task_definition(Aws& aws, const generated::File& file, ApplyResult& out) {
  Json ours = Json::parse(file.content);
  std::string family = ours["family"];
  auto theirs = aws.read("ecs", "describe-task-definition", {"--task-definition", family, "--include", "TAGS"},
                         "Unable to describe task definition");
  if (theirs) {
    Json latest = (*theirs)["taskDefinition"];
    latest["tags"] = theirs->value("tags", Json::array());
    if (covers(latest, ours)) {
      out.objects.push_back("TaskDefinition/" + family + ":" + std::to_string(latest.value("revision", 0)) +
                            " unchanged");
      return;
    }
  }
  Json registered = aws.change_with("ecs", "register-task-definition", file);
  out.objects.push_back("TaskDefinition/" + family + ":" +
                        std::to_string(registered["taskDefinition"].value("revision", 0)) + " registered");
  out.applied = true;
}

void schedules(Aws& aws, const std::vector<const generated::File*>& files, ApplyResult& out) {
  for (const auto* file : files) {
    Json ours = Json::parse(file->content);
    std::string name = ours["Name"];
    auto theirs = aws.read("scheduler", "get-schedule", {"--name", name}, "ResourceNotFoundException");
    if (theirs && covers(*theirs, ours)) {
      out.objects.push_back("Schedule/" + name + " unchanged");
      continue;
    }
    aws.change_with("scheduler", theirs ? "update-schedule" : "create-schedule", *file);
    out.objects.push_back("Schedule/" + name + (theirs ? " updated" : " created"));
    out.applied = true;
  }
}

// A schedule of this family mlrepo made for a cron the job no longer has.
void obsolete_schedules(Aws& aws, const std::string& family, const std::vector<const generated::File*>& files,
                        ApplyResult& out) {
  std::set<std::string> wanted;
  for (const auto* file : files)
    wanted.insert(Json::parse(file->content)["Name"].get<std::string>());
  auto listed = aws.change("scheduler", "list-schedules", {"--name-prefix", family});
  std::regex ours(std::regex_replace(family, std::regex(R"([.^$|()\[\]{}*+?\\-])"), R"(\$&)") + R"((\.[0-9]+)?)");
  for (const auto& s : listed.value("Schedules", Json::array())) {
    std::string name = s.value("Name", "");
    if (wanted.count(name) || !std::regex_match(name, ours))
      continue;
    auto theirs = aws.read("scheduler", "get-schedule", {"--name", name}, "ResourceNotFoundException");
    if (!theirs || theirs->value("Description", "").find(kEcsMarker) == std::string::npos)
      continue; // not mlrepo's: never touched
    aws.change("scheduler", "delete-schedule", {"--name", name});
    out.objects.push_back("Schedule/" + name + " deleted");
    out.applied = true;
  }
}

void alert(Aws& aws, const std::string& family, const Files& f, ApplyResult& out) {
  std::string rule = ecs_alert_rule_name(family);
  auto theirs = aws.read("events", "describe-rule", {"--name", rule}, "ResourceNotFoundException");
  if (!f.alert_rule) {
    // ecs.alert was removed: the rule mlrepo put goes too.
    if (!theirs || theirs->value("Description", "").find(kEcsMarker) == std::string::npos)
      return;
    auto targets = aws.change("events", "list-targets-by-rule", {"--rule", rule});
    std::vector<std::string> args{"--rule", rule, "--ids"};
    for (const auto& t : targets.value("Targets", Json::array()))
      args.push_back(t.value("Id", ""));
    if (args.size() > 3)
      aws.change("events", "remove-targets", args);
    aws.change("events", "delete-rule", {"--name", rule});
    out.objects.push_back("AlertRule/" + rule + " deleted");
    out.applied = true;
    return;
  }
  Json ours = Json::parse(f.alert_rule->content);
  bool same = theirs && theirs->value("State", "") == ours["State"] &&
              theirs->value("Description", "") == ours["Description"] &&
              Json::parse(theirs->value("EventPattern", "{}")) == Json::parse(ours["EventPattern"].get<std::string>());
  if (same) {
    out.objects.push_back("AlertRule/" + rule + " unchanged");
  } else {
    aws.change_with("events", "put-rule", *f.alert_rule);
    out.objects.push_back("AlertRule/" + rule + (theirs ? " updated" : " created"));
    out.applied = true;
  }
  Json wanted = Json::parse(f.alert_targets->content);
  auto targets = aws.change("events", "list-targets-by-rule", {"--rule", rule});
  if (covers(targets.value("Targets", Json::array()), wanted["Targets"])) {
    out.objects.push_back("AlertTarget/" + rule + " unchanged");
    return;
  }
  aws.change_with("events", "put-targets", *f.alert_targets);
  out.objects.push_back("AlertTarget/" + rule + " put");
  out.applied = true;
}

} // namespace

ApplyResult ecs_apply(const ApplyRequest& r, util::ProcessRunner& runner) {
  ApplyResult out;
  Files f = sorted(r);
  if (!f.task_definition) {
    out.note = "nothing for ECS: its job runs elsewhere, and ECS could not run it (the warning above says why)";
    return out;
  }
  EcsPlace place = ecs_place(*r.ws, r.project, r.env);
  spdlog::info("==> {}: {} (ECS, {}) {}", r.project, place.family, place.region, r.image);
  if (r.dry_run) {
    out.objects.push_back("TaskDefinition/" + place.family);
    for (const auto* s : f.schedules)
      out.objects.push_back("Schedule/" + Json::parse(s->content)["Name"].get<std::string>());
    if (f.alert_rule)
      out.objects.push_back("AlertRule/" + ecs_alert_rule_name(place.family));
    return out;
  }
  Aws aws(r, runner, place.region);
  task_definition(aws, *f.task_definition, out);
  schedules(aws, f.schedules, out);
  obsolete_schedules(aws, place.family, f.schedules, out);
  alert(aws, place.family, f, out);
  out.unchanged = !out.applied;
  if (f.schedules.empty())
    out.note = !r.scheduled_elsewhere.empty()
                   ? "its schedule runs elsewhere (job.runs_on: " + r.scheduled_elsewhere +
                         "), so no ECS schedule; run it here with 'aws ecs run-task --task-definition " + place.family +
                         "'"
                   : "no schedule: the task definition runs on demand ('aws ecs run-task --task-definition " +
                         place.family + "')";
  if (out.unchanged)
    out.note = "unchanged: AWS already holds exactly this" + (out.note.empty() ? "" : "; " + out.note);
  out.applied = true; // the deploy reached AWS
  return out;
}

} // namespace mlrepo::deploy
