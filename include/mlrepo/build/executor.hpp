#pragma once
// Runs a build plan: existence checks, docker build / tag / push, in
// dependency order and in parallel, reporting through a BuildStatus.
#include "mlrepo/build/plan.hpp"
#include "mlrepo/docker/engine.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlrepo::build {

struct ExecOptions {
  bool push = false;
  bool force = false;
  bool keep_going = false;
  int jobs = 2;
  int push_retries = 3;
  std::chrono::milliseconds retry_delay{1000}; // doubles after each retry
  std::string log_dir;                         // one <name>.log per project
  std::string workdir;                         // repository root, absolute
  // Import and export each build's layer cache through the registry
  // (<image>:buildcache, BuildKit inline cache; dependencies' caches too).
  bool registry_cache = false;
  // Asks the registry for an image: its digest ("" when the registry gives
  // none), nullopt when absent; throws Error when it cannot say. Unset: ask
  // through the docker CLI (`docker manifest inspect`).
  std::function<std::optional<std::string>(const std::string& ref)> remote_digest;
  // Gives an image already in the registry more tags there, by copying its
  // manifest once (no upload), and returns its digest. Set: an image is
  // pushed once, by its content tag, and every other tag is added this way.
  // Unset: each tag is tagged and pushed through docker.
  std::function<std::string(const std::string& from_ref, const std::vector<std::string>& to_refs)> copy_tags;
  // Called once the existence checks are done, with the items that will
  // build, before anything runs; throws to refuse (a missing build secret).
  std::function<void(const std::vector<const PlanItem*>& building)> before_building;
};

enum class Status { Built, Skipped, Failed, Blocked, Cancelled };
const char* status_name(Status s);

struct Result {
  size_t item = 0;
  std::string name;
  Status status = Status::Cancelled;
  double duration_s = 0;
  std::vector<std::string> images;
  std::vector<std::string> pushed; // tags this run pushed to the registry
  std::string digest;              // the image's digest in the registry, when known
  std::string log;   // path of the log file
  std::string error; // why it failed, was blocked or cancelled
  // Skipped: where the image was: "found locally", "in the registry",
  // "pulled from the registry".
  std::string found;
};

// Where progress goes; presentation lives in report/. Calls may come from
// several threads at once: implementations serialise them.
class BuildStatus {
public:
  virtual ~BuildStatus() = default;
  virtual void started(const PlanItem& item, std::string_view what) = 0;
  virtual void line(const PlanItem& item, std::string_view line) = 0;
  virtual void note(const PlanItem& item, std::string_view message) = 0;
  virtual void finished(const PlanItem& item, const Result& result) = 0;
  virtual void summary(const std::vector<Result>& results) = 0;
};

std::vector<Result> execute(const std::vector<PlanItem>& plan, docker::Engine& engine,
                            const ExecOptions& options, BuildStatus& status);

// The commands execute() would run, in order, given what already exists.
std::vector<std::vector<std::string>> dry_run(const std::vector<PlanItem>& plan,
                                              docker::Engine& engine, const ExecOptions& options,
                                              bool engine_reachable);

// The build request for one item (paths resolved against options.workdir).
docker::BuildRequest build_request(const PlanItem& item, const std::vector<PlanItem>& plan,
                                   const ExecOptions& options);

} // namespace mlrepo::build
