// The step cache: keys from what decides a step's outputs, entries that
// appear whole (one rename) and replace an older one, and a content hash of
// a directory tree that sees content and the executable bit, never times.
#include "mlrepo/pipeline/cache.hpp"
#include "mlrepo/util/fs.hpp"
#include "support/repo.hpp"

#include <catch2/catch.hpp>
#include <thread>

using namespace mlrepo;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  util::write_file_atomic(file, text);
}

} // namespace

TEST_CASE("pipeline cache: a tree's hash is its content, names and executable bits", "[pipeline]") {
  test::TempDir a, b;
  write(a.path() / "m/model.bin", "weights");
  write(a.path() / "m/sub/notes.txt", "n");
  write(b.path() / "m/sub/notes.txt", "n"); // written in another order
  write(b.path() / "m/model.bin", "weights");
  auto ha = pipeline::tree_hash(a.path() / "m");
  CHECK(ha == pipeline::tree_hash(b.path() / "m"));
  // A later modification time changes nothing.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  write(b.path() / "m/model.bin", "weights");
  CHECK(ha == pipeline::tree_hash(b.path() / "m"));
  write(b.path() / "m/model.bin", "weights2");
  CHECK(ha != pipeline::tree_hash(b.path() / "m"));
  write(b.path() / "m/model.bin", "weights");
  fs::permissions(b.path() / "m/model.bin", fs::perms::owner_exec, fs::perm_options::add);
  CHECK(ha != pipeline::tree_hash(b.path() / "m"));
  fs::permissions(b.path() / "m/model.bin", fs::perms::owner_exec, fs::perm_options::remove);
  fs::rename(b.path() / "m/sub/notes.txt", b.path() / "m/sub/notes.md");
  CHECK(ha != pipeline::tree_hash(b.path() / "m"));
  // An empty output and a missing one are the same: nothing.
  fs::create_directories(a.path() / "empty");
  CHECK(pipeline::tree_hash(a.path() / "empty") == pipeline::tree_hash(a.path() / "absent"));
}

TEST_CASE("pipeline cache: a key changes with everything that decides the outputs, and only with it", "[pipeline]") {
  pipeline::KeyInputs k;
  k.image_digest = "sha256:aa";
  k.command = {"python", "-m", "train"};
  k.env = {{"EPOCHS", "3"}};
  k.secret_names = {"TOKEN=CHURN_TOKEN"};
  k.outputs = {"model"};
  k.inputs = {{"features", "h1"}};
  const auto base = pipeline::step_key(k);
  CHECK(base == pipeline::step_key(k));
  auto changed = [&](auto edit) {
    auto copy = k;
    edit(copy);
    return pipeline::step_key(copy) != base;
  };
  CHECK(changed([](auto& c) { c.image_digest = "sha256:bb"; }));
  CHECK(changed([](auto& c) { c.command.push_back("--fast"); }));
  CHECK(changed([](auto& c) { c.args = {"x"}; }));
  CHECK(changed([](auto& c) { c.env["EPOCHS"] = "4"; }));
  CHECK(changed([](auto& c) { c.secret_names = {"TOKEN=OTHER_TOKEN"}; }));
  CHECK(changed([](auto& c) { c.params = {{"day", "1"}}; }));
  CHECK(changed([](auto& c) { c.outputs.push_back("metrics"); }));
  CHECK(changed([](auto& c) { c.inputs["features"] = "h2"; }));
  // ["a b"] and ["a", "b"] are different commands.
  auto one = k, two = k;
  one.command = {"a b"};
  two.command = {"a", "b"};
  CHECK(pipeline::step_key(one) != pipeline::step_key(two));
}

TEST_CASE("pipeline cache: an entry appears whole, is found, and a new run's replaces it", "[pipeline]") {
  test::TempDir dir;
  pipeline::StepCache cache(dir.path() / "cache");
  CHECK_FALSE(cache.find("k1"));
  auto outputs = dir.path() / "run/outputs";
  write(outputs / "model/m.txt", "v1");
  auto entry = cache.store("k1", outputs, {"model"}, "pipeline p, step train");
  CHECK_FALSE(fs::exists(outputs)); // moved, not copied
  CHECK(util::read_file(fs::path(entry.outputs_dir) / "model/m.txt") == std::optional<std::string>("v1"));
  auto found = cache.find("k1");
  REQUIRE(found);
  CHECK(found->outputs_dir == entry.outputs_dir);
  CHECK(found->content.at("model") == pipeline::tree_hash(fs::path(entry.outputs_dir) / "model"));
  // --no-cache: the same key again, new bytes.
  write(outputs / "model/m.txt", "v2");
  cache.store("k1", outputs, {"model"}, "again");
  CHECK(util::read_file(fs::path(cache.find("k1")->outputs_dir) / "model/m.txt") == std::optional<std::string>("v2"));
  // Nothing is left beside the entries: no .partial or .old directory.
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir.path() / "cache"))
    names.push_back(e.path().filename().string());
  CHECK(names == std::vector<std::string>{"k1"});
  // A directory without its entry file (a crash between the two) is no entry.
  fs::create_directories(dir.path() / "cache/k2/outputs");
  CHECK_FALSE(cache.find("k2"));
}

TEST_CASE("pipeline cache: prune removes what was not used for the given time, or everything", "[pipeline]") {
  test::TempDir dir;
  pipeline::StepCache cache(dir.path() / "cache");
  auto outputs = dir.path() / "run/outputs";
  write(outputs / "x/v", "1");
  cache.store("old", outputs, {"x"}, "pipeline p, step a");
  write(outputs / "x/v", "2");
  cache.store("new", outputs, {"x"}, "pipeline p, step b");
  fs::create_directories(dir.path() / "runs/p/20260101T000000Z-1/a");
  auto long_ago = fs::file_time_type::clock::now() - std::chrono::hours(24 * 10);
  fs::last_write_time(dir.path() / "cache/old", long_ago);
  fs::last_write_time(dir.path() / "runs/p/20260101T000000Z-1", long_ago);

  auto dry = pipeline::prune_pipeline_cache(dir.path(), 7 * 86400, true);
  REQUIRE(dry.entries.size() == 1);
  CHECK(dry.entries[0].about == "pipeline p, step a");
  CHECK(dry.runs.size() == 1);
  CHECK(fs::exists(dir.path() / "cache/old")); // a dry run removes nothing

  auto week = pipeline::prune_pipeline_cache(dir.path(), 7 * 86400, false);
  CHECK(week.entries.size() == 1);
  CHECK_FALSE(fs::exists(dir.path() / "cache/old"));
  CHECK(cache.find("new"));
  CHECK_FALSE(fs::exists(dir.path() / "runs/p/20260101T000000Z-1"));

  auto all = pipeline::prune_pipeline_cache(dir.path(), std::nullopt, false);
  CHECK(all.entries.size() == 1);
  CHECK_FALSE(cache.find("new"));
}
