// The work-tree status against git's own answer for the same question (the
// commit against the work tree: `git diff HEAD` plus untracked files that
// are not ignored), through every kind of uncommitted change.
#include "support/repo.hpp"

#include "mlrepo/git/status.hpp"

#include <catch2/catch.hpp>
#include <sstream>
#include <thread>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

using namespace mlrepo::test;
using Lines = std::vector<std::string>;
using Kind = mlrepo::git::WorktreeChange::Kind;

namespace {

// "<status letter> <path>", sorted: A added, D deleted, M modified, T type change.
Lines git_answer(const GitRepo& r) {
  std::map<std::string, char> out;
  std::istringstream diff(r.git({"diff", "HEAD", "--name-status", "--no-renames", "--ignore-submodules=dirty"}));
  for (std::string line; std::getline(diff, line);)
    out[line.substr(line.find('\t') + 1)] = line[0];
  // Untracked files, each listed (-uall); a nested repository is listed once.
  std::string status = r.git({"status", "--porcelain", "-z", "-uall", "--ignore-submodules=dirty"});
  for (size_t at = 0; at < status.size();) {
    size_t end = status.find('\0', at);
    std::string line = status.substr(at, end - at);
    at = end + 1;
    if (line.rfind("?? ", 0) != 0)
      continue;
    std::string path = line.substr(3);
    if (path.back() == '/')
      path.pop_back();
    out[path] = out.count(path) ? 'M' : 'A'; // removed from the index, still on disk
  }
  Lines lines;
  for (auto& [path, letter] : out)
    lines.push_back(std::string(1, letter) + " " + path);
  return lines;
}

Lines our_answer(const GitRepo& r, const std::string& cache = "") {
  static mlrepo::git::Library lib;
  auto repo = mlrepo::git::Repository::discover(r.path());
  auto head = repo.resolve_commit("HEAD");
  REQUIRE(head);
  Lines lines;
  for (const auto& c : mlrepo::git::worktree_changes(repo, *head, cache)) {
    char letter = c.kind == Kind::Added     ? 'A'
                  : c.kind == Kind::Deleted ? 'D'
                  : c.kind == Kind::TypeChanged ? 'T'
                                                : 'M';
    lines.push_back(std::string(1, letter) + " " + c.path);
  }
  return lines;
}

void populate(const GitRepo& r) {
  r.write(".gitignore", "*.log\nbuild/\n!keep.log\n");
  for (const char* p : {"a/x.txt", "a/y.txt", "a/deep/z.txt", "b/u.txt", "b/v.txt", "top.txt"})
    r.write(p, std::string("content of ") + p + "\n");
  r.write("a/run.sh", "#!/bin/sh\n");
  r.commit("base");
  r.git({"update-index", "--refresh"});
}

// Sets a file's mtime into the future of the index: git's "racily clean"
// rule then demands a content check.
void make_racy(const GitRepo& r, const std::string& rel) {
  struct timespec times[2];
  clock_gettime(CLOCK_REALTIME, &times[0]);
  times[0].tv_sec += 100;
  times[1] = times[0];
  REQUIRE(utimensat(AT_FDCWD, r.file(rel).c_str(), times, 0) == 0);
}

} // namespace

TEST_CASE("status: agrees with git through every kind of change", "[status]") {
  GitRepo r;
  populate(r);
  TempDir cache_dir;
  std::string cache = (cache_dir.path() / "dirs").string();
  auto agree = [&](const char* step) {
    INFO(step);
    auto expected = git_answer(r);
    CHECK(our_answer(r) == expected);
    CHECK(our_answer(r, cache) == expected); // first run writes the cache...
    CHECK(our_answer(r, cache) == expected); // ...the next one reads it
  };
  agree("clean");
  REQUIRE(our_answer(r).empty());

  r.write("a/x.txt", "edited\n");
  agree("unstaged edit");
  r.git({"add", "a/x.txt"});
  agree("staged edit");
  r.write("a/x.txt", "content of a/x.txt\n");
  agree("staged edit reverted in the work tree");
  r.git({"add", "a/x.txt"});
  agree("reverted and staged");

  r.write("a/y.txt", "same size!!!!!!!!!\n");
  make_racy(r, "a/y.txt");
  agree("same size, racy time");

  r.remove("b/u.txt");
  agree("deleted in the work tree");
  r.git({"rm", "-q", "b/v.txt"});
  agree("git rm");
  r.git({"rm", "-q", "--cached", "top.txt"});
  agree("git rm --cached");

  r.write("new/one.txt", "1\n");
  r.write("new/sub/two.txt", "2\n");
  r.write("a/deep/untracked.txt", "u\n");
  agree("untracked files and directories");
  r.write("a/deep/debug.log", "ignored\n");
  r.write("build/out/obj.o", "ignored\n");
  r.write("a/keep.log", "not ignored: negated\n");
  agree("ignored files and directories");

  r.git({"add", "-N", "new/one.txt"});
  agree("intent to add");

  REQUIRE(chmod(r.file("a/run.sh").c_str(), 0755) == 0);
  agree("executable bit");

  r.remove("a/deep/z.txt");
  REQUIRE(symlink("../top.txt", r.file("a/deep/z.txt").c_str()) == 0);
  agree("file replaced by a symbolic link");
  r.remove("a/deep/z.txt");
  r.write("a/deep/z.txt/inner.txt", "a directory now\n");
  agree("file replaced by a directory");

  GitRepo nested;
  nested.write("n.txt", "n\n");
  nested.commit();
  fs::create_directories(r.file("vendor"));
  r.git({"clone", "-q", nested.path().string(), "vendor/lib"});
  agree("a nested repository");

  // A directory entry added and removed leaves the cached listing stale by
  // its times; the walk must notice.
  r.write("a/later.txt", "later\n");
  agree("a file added to a cached directory");
  r.remove("a/later.txt");
  agree("and removed again");
}

TEST_CASE("status: line-ending filters count as git counts them", "[status]") {
  GitRepo r;
  r.write(".gitattributes", "*.txt text eol=crlf\n");
  r.write("doc.txt", "one\ntwo\n");
  r.commit();
  auto expected = git_answer(r);
  // The checked-out file holds CRLF, the blob LF: touching it forces a
  // content check, which must go through the filter to say "unchanged".
  r.write("doc.txt", "one\r\ntwo\r\n");
  make_racy(r, "doc.txt");
  CHECK(our_answer(r) == git_answer(r));
  CHECK(our_answer(r).empty());
  r.write("doc.txt", "one\r\nthree\r\n");
  CHECK(our_answer(r) == Lines{"M doc.txt"});
}

TEST_CASE("status: a moved submodule counts, edits inside it do not", "[status]") {
  GitRepo sub;
  sub.write("s.txt", "1\n");
  sub.commit();
  GitRepo r;
  r.write("top.txt", "t\n");
  r.commit();
  r.git({"-c", "protocol.file.allow=always", "submodule", "add", "-q", sub.path().string(), "mod"});
  r.commit("add submodule");
  CHECK(our_answer(r).empty());
  r.write("mod/s.txt", "dirty\n");
  CHECK(our_answer(r).empty());
  CHECK(our_answer(r) == git_answer(r));
  run_program({"git", "-C", r.file("mod").string(), "commit", "-qam", "moved"}, r.path());
  CHECK(our_answer(r) == Lines{"M mod"});
  CHECK(our_answer(r) == git_answer(r));
}

TEST_CASE("status: indexes the direct reader leaves alone get libgit2's answer", "[status]") {
  GitRepo r;
  populate(r);
  r.write("a/x.txt", "edited\n");
  r.write("new.txt", "n\n");
  r.git({"update-index", "--skip-worktree", "b/u.txt"}); // sparse checkouts set this
  CHECK(our_answer(r) == git_answer(r));
  CHECK(our_answer(r) == Lines{"M a/x.txt", "A new.txt"});
}

TEST_CASE("status: cached directory listings never hide a change", "[status]") {
  GitRepo r;
  populate(r);
  r.write("a/untracked.txt", "u\n");
  TempDir cache_dir;
  std::string cache = (cache_dir.path() / "dirs").string();
  // Listings changed within two seconds are never stored: wait, so that the
  // next run stores every directory and later runs reuse them.
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  auto agree = [&](const char* step) {
    INFO(step);
    CHECK(our_answer(r, cache) == git_answer(r));
  };
  agree("stores the listings");
  REQUIRE(fs::exists(cache));
  agree("reuses them");

  // The index changes while the directory does not: staging and unstaging
  // move a file between tracked and untracked without touching its directory.
  r.git({"add", "a/untracked.txt"});
  agree("an untracked file staged");
  r.git({"rm", "-q", "--cached", "a/untracked.txt"});
  agree("and unstaged again");
  r.git({"rm", "-q", "--cached", "b/u.txt"});
  agree("a tracked file unstaged");

  // The directory changes.
  r.write("b/new.txt", "n\n");
  agree("a file added to a cached directory");
  r.remove("a/untracked.txt");
  agree("an untracked file removed");
  r.write("a/deep/newdir/f.txt", "f\n");
  agree("a new directory below a cached one");
}
