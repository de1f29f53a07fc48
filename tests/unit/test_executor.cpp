// The executor's flow, with a scripted runner: only argv and outcomes.
#include "mlrepo/build/executor.hpp"
#include "mlrepo/docker/engine.hpp"

#include <catch2/catch.hpp>
#include <filesystem>

using namespace mlrepo;
using namespace mlrepo::build;

namespace {

// Images are absent everywhere; every command succeeds but pushes of the
// cache tag, which the registry refuses.
class RefusingCache : public util::ProcessRunner {
public:
  std::vector<std::vector<std::string>> calls;
  util::ProcessResult run(const util::ProcessSpec& spec) override {
    calls.push_back(spec.argv);
    util::ProcessResult r;
    r.exit_code = 0;
    const auto& a = spec.argv;
    if (a.size() > 2 && a[1] == "image" && a[2] == "inspect") {
      r.exit_code = 1;
      r.err = "Error: No such image";
    } else if (a.size() > 2 && a[1] == "manifest") {
      r.exit_code = 1;
      r.err = "no such manifest";
    } else if (a.size() > 2 && a[1] == "push" && a[2].find(":buildcache") != std::string::npos) {
      r.exit_code = 1;
      r.err = "denied: requested access to the resource is denied";
    }
    return r;
  }
};

class Quiet : public BuildStatus {
public:
  std::vector<std::string> notes;
  void started(const PlanItem&, std::string_view) override {}
  void line(const PlanItem&, std::string_view) override {}
  void note(const PlanItem&, std::string_view m) override { notes.emplace_back(m); }
  void finished(const PlanItem&, const Result&) override {}
  void summary(const std::vector<Result>&) override {}
};

} // namespace

TEST_CASE("a registry that refuses the layer cache is a warning, not a failed build", "[executor]") {
  RefusingCache runner;
  docker::Engine engine(runner);
  PlanItem item;
  item.project = 0;
  item.name = "app";
  item.content_ref = "r.example/app:content-1";
  item.cache_ref = "r.example/app:buildcache";
  item.tags = {item.content_ref, "r.example/app:abc"};
  item.dockerfile = "app/Dockerfile";
  item.context = "app";
  ExecOptions opt;
  opt.push = true;
  opt.registry_cache = true;
  opt.jobs = 1;
  opt.workdir = "/nonexistent";
  opt.log_dir = (std::filesystem::temp_directory_path() / "mlrepo-executor-test").string();
  Quiet status;
  auto results = execute({item}, engine, opt, status);
  REQUIRE(results.size() == 1);
  INFO(results[0].error);
  CHECK(results[0].status == Status::Built);
  bool pushed_image = false, tried_cache = false;
  for (const auto& c : runner.calls) {
    pushed_image |= c.size() > 2 && c[1] == "push" && c[2] == "r.example/app:abc";
    tried_cache |= c.size() > 2 && c[1] == "push" && c[2] == "r.example/app:buildcache";
  }
  CHECK(pushed_image);
  CHECK(tried_cache);
  REQUIRE(status.notes.size() == 1);
  CHECK(status.notes[0].find("layer cache could not be pushed") != std::string::npos);
}
