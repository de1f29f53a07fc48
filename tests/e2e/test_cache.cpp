// The discovery cache under .git/mlrepo/cache must never change an answer:
// every command gives what it gives with the cache off (MLREPO_NO_CACHE=1).
#include "support/repo.hpp"

#include "mlrepo/util/fs.hpp"

#include <catch2/catch.hpp>
#include <atomic>
#include <fcntl.h>
#include <sys/stat.h>
#include <thread>

using namespace mlrepo::test;
using Catch::Contains;

namespace {

// The outputs that depend on discovery at a revision, cached and uncached.
void same_with_and_without_cache(const GitRepo& r, const std::string& rev) {
  for (auto args : {std::vector<std::string>{"list", "--json", "--rev", rev},
                    {"graph", "--format", "json", "--rev", rev},
                    {"changed", "--json", "--base", rev + "~1", "--head", rev}}) {
    auto cached = r.mlrepo(args);
    auto again = r.mlrepo(args); // certainly from the cache now
    auto fresh = r.mlrepo(args, {{"MLREPO_NO_CACHE", "1"}});
    INFO(args[0] << " at " << rev << "\n" << fresh.err);
    REQUIRE(fresh.code == 0);
    CHECK(cached.out == fresh.out);
    CHECK(again.out == fresh.out);
  }
}

size_t cache_entries(const GitRepo& r) {
  auto dir = r.file(".git/mlrepo/cache");
  if (!fs::exists(dir))
    return 0;
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

} // namespace

TEST_CASE("cache: edits, commits, checkouts and rebases never give stale answers", "[cache]") {
  GitRepo r;
  r.write("base/Dockerfile", "FROM scratch\n");
  r.write("app/Dockerfile", "FROM scratch\n");
  r.commit("one");
  r.write("app/x", "1");
  r.commit("two");
  same_with_and_without_cache(r, "HEAD");
  CHECK(cache_entries(r) >= 1);

  // A Dockerfile edit makes a dependency; a config edit renames a project.
  r.write("app/Dockerfile", "FROM base\n");
  r.write("base/mlrepo.yaml", "name: foundation\n");
  r.commit("three");
  same_with_and_without_cache(r, "HEAD");
  CHECK_THAT(r.mlrepo({"graph", "--format", "json", "--rev", "HEAD"}).out, Contains("foundation"));

  // Back to an older commit: its own answer, not the newest one.
  r.git({"checkout", "-q", "HEAD~1"});
  same_with_and_without_cache(r, "HEAD");
  CHECK_THAT(r.mlrepo({"graph", "--format", "json", "--rev", "HEAD"}).out, !Contains("foundation"));

  // A rebase rewrites commits onto a new base.
  r.git({"checkout", "-q", "-b", "topic"});
  r.write("tool/Dockerfile", "FROM app\n");
  r.commit("tool");
  r.git({"checkout", "-q", "main"});
  r.write("app/mlrepo.yaml", "depends_on: [base]\n");
  r.commit("main moves");
  r.git({"checkout", "-q", "topic"});
  r.git({"rebase", "-q", "main"});
  same_with_and_without_cache(r, "HEAD");

  // Damaged entries are ignored and rewritten.
  for (const auto& e : fs::recursive_directory_iterator(r.file(".git/mlrepo/cache")))
    if (e.is_regular_file())
      mlrepo::util::write_file_atomic(e.path(), "garbage");
  same_with_and_without_cache(r, "HEAD");
  for (const auto& e : fs::recursive_directory_iterator(r.file(".git/mlrepo/cache"))) {
    if (!e.is_regular_file())
      continue;
    auto content = *mlrepo::util::read_file(e.path());
    mlrepo::util::write_file_atomic(e.path(), content.substr(0, content.size() / 2));
  }
  same_with_and_without_cache(r, "HEAD");
}

TEST_CASE("cache: deleting it while commands run changes nothing", "[cache]") {
  GitRepo r;
  for (int i = 0; i < 20; ++i)
    r.write("p" + std::to_string(i) + "/Dockerfile", i ? "FROM p0\n" : "FROM scratch\n");
  r.commit();
  r.write("p0/x", "1");
  r.commit();
  auto expected = r.mlrepo({"changed", "--base", "HEAD~1", "--no-uncommitted"}, {{"MLREPO_NO_CACHE", "1"}});
  REQUIRE(expected.lines().size() == 20);
  std::atomic<bool> stop{false};
  std::thread deleter([&] {
    while (!stop) {
      std::error_code ec;
      fs::remove_all(r.file(".git/mlrepo"), ec);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  for (int i = 0; i < 30; ++i) {
    auto run = r.mlrepo({"changed", "--base", "HEAD~1", "--no-uncommitted"});
    CHECK(run.code == 0);
    CHECK(run.out == expected.out);
  }
  stop = true;
  deleter.join();
}

TEST_CASE("cache: concurrent runs fill it together without a wrong answer", "[cache]") {
  GitRepo r;
  for (int i = 0; i < 30; ++i)
    r.write("g" + std::to_string(i % 3) + "/p" + std::to_string(i) + "/Dockerfile",
            i ? "FROM p0\n" : "FROM scratch\n");
  r.commit("one");
  r.write("g1/p1/mlrepo.yaml", "name: renamed\n");
  r.write("g2/new/Dockerfile", "FROM scratch\n");
  r.commit("two");
  r.write("g0/p3/x", "1");
  r.commit("three");
  std::this_thread::sleep_for(std::chrono::milliseconds(2200)); // let work-tree caches store

  // Each command at each revision, and the work tree, against its uncached answer.
  std::vector<std::vector<std::string>> commands;
  for (std::string rev : {"HEAD", "HEAD~1", "HEAD~2"}) {
    commands.push_back({"list", "--json", "--rev", rev});
    commands.push_back({"graph", "--format", "json", "--rev", rev});
  }
  commands.push_back({"changed", "--json", "--base", "HEAD~2"});
  commands.push_back({"list", "--json"});
  std::vector<std::string> expected;
  for (const auto& c : commands) {
    auto fresh = r.mlrepo(c, {{"MLREPO_NO_CACHE", "1"}});
    REQUIRE(fresh.code == 0);
    expected.push_back(fresh.out);
  }

  // Four rounds from an empty cache, every command at once: writers race on the
  // same entries and readers may meet half-filled directories.
  for (int round = 0; round < 4; ++round) {
    std::error_code ec;
    fs::remove_all(r.file(".git/mlrepo"), ec);
    std::vector<Run> got(commands.size() * 2);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < got.size(); ++i)
      threads.emplace_back([&, i] { got[i] = r.mlrepo(commands[i % commands.size()]); });
    for (auto& t : threads)
      t.join();
    for (size_t i = 0; i < got.size(); ++i) {
      const auto& command = commands[i % commands.size()];
      INFO("round " << round << ": mlrepo " << command[0] << " " << command.back() << "\n"
                    << got[i].err);
      CHECK(got[i].code == 0);
      CHECK(got[i].out == expected[i % commands.size()]);
    }
  }
  // What the racing runs left behind answers right too.
  for (size_t i = 0; i < commands.size(); ++i)
    CHECK(r.mlrepo(commands[i]).out == expected[i]);
}

TEST_CASE("cache: the work-tree directory cache sees every change", "[cache]") {
  GitRepo r;
  r.write(".gitignore", "ignored/\n");
  r.write("a/Dockerfile", "FROM scratch\n");
  r.write("b/src/x.py", "");
  r.write("c/deep/Dockerfile", "FROM scratch\n");
  r.commit();
  // Directories changed within the last two seconds are never cached; wait so
  // that this run stores every listing and later runs reuse them.
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  auto list = [&] {
    auto cached = r.mlrepo({"list"});
    auto fresh = r.mlrepo({"list"}, {{"MLREPO_NO_CACHE", "1"}});
    INFO(cached.err);
    REQUIRE(cached.code == 0);
    CHECK(cached.out == fresh.out);
    return cached.lines();
  };
  using Lines = std::vector<std::string>;
  CHECK(list() == Lines{"a\ta", "deep\tc/deep"});
  REQUIRE(fs::exists(r.file(".git/mlrepo/cache/worktree/dirs-Dockerfile")));
  CHECK(list() == Lines{"a\ta", "deep\tc/deep"}); // from the cache

  r.write("b/Dockerfile", "FROM scratch\n");           // new file in a cached directory
  r.write("b/src/inner/Dockerfile", "FROM scratch\n"); // new directory below one
  r.remove("c/deep");                                  // a cached directory disappears
  r.write("ignored/Dockerfile", "FROM scratch\n");     // never a project
  CHECK(list() == Lines{"a\ta", "b\tb", "inner\tb/src/inner"});
  r.remove("a/Dockerfile");
  std::filesystem::create_directory(r.file("a/Dockerfile")); // same name, now a directory
  CHECK(list() == Lines{"b\tb", "inner\tb/src/inner"});

  // Damage is detected and the cache rebuilt.
  mlrepo::util::write_file_atomic(r.file(".git/mlrepo/cache/worktree/dirs-Dockerfile"), "garbage");
  CHECK(list() == Lines{"b\tb", "inner\tb/src/inner"});
}

TEST_CASE("cache: the work-tree discovery cache sees every edit", "[cache]") {
  GitRepo r;
  r.write("base/Dockerfile", "FROM scratch\n");
  r.write("app/Dockerfile", "FROM scratch\n");
  r.commit();
  auto graph = [&] {
    auto cached = r.mlrepo({"graph", "--format", "json"});
    auto fresh = r.mlrepo({"graph", "--format", "json"}, {{"MLREPO_NO_CACHE", "1"}});
    INFO(cached.err);
    REQUIRE(cached.code == 0);
    CHECK(cached.out == fresh.out);
    return cached.out;
  };
  // Files changed within two seconds of a run are never remembered: wait, so
  // that each step below starts from a stored entry.
  auto settle = [&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(2200));
    graph();
  };
  settle();
  REQUIRE(fs::exists(r.file(".git/mlrepo/cache/worktree/discovery")));
  CHECK_THAT(graph(), Contains("\"edges\":[]"));

  r.write("app/Dockerfile", "FROM base\n");
  CHECK_THAT(graph(), Contains("\"from\":\"app\""));
  settle();
  r.write("base/mlrepo.yaml", "name: foundation\n"); // a file that was absent
  CHECK_THAT(graph(), Contains("foundation"));
  settle();

  // Same size, and the old mtime put back: the ctime still moves.
  struct stat before;
  REQUIRE(::stat(r.file("app/Dockerfile").c_str(), &before) == 0);
  r.write("app/Dockerfile", "FROM cafe\n");
  struct timespec times[2] = {before.st_atim, before.st_mtim};
  REQUIRE(utimensat(AT_FDCWD, r.file("app/Dockerfile").c_str(), times, 0) == 0);
  CHECK_THAT(graph(), !Contains("\"from\":\"app\""));
  settle();

  r.remove("base/mlrepo.yaml");
  CHECK_THAT(graph(), !Contains("foundation"));
  r.remove("app");
  CHECK_THAT(graph(), !Contains("\"name\":\"app\""));
}
