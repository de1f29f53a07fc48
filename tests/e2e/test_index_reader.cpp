// The direct index reader against git's own view of the index, in every
// format version, and the libgit2 fallback for what it leaves alone.
#include "support/repo.hpp"

#include "mlrepo/git/handles.hpp"
#include "mlrepo/git/index_reader.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <sstream>

using namespace mlrepo::test;
using Lines = std::vector<std::string>;

namespace {

// "mode object stage\tpath" per entry, as `git ls-files -s` lists them.
Lines git_view(const GitRepo& r) {
  Lines out;
  std::istringstream in(r.git({"ls-files", "-s"}));
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

std::optional<mlrepo::git::IndexFile> read_index(const GitRepo& r) {
  return mlrepo::git::read_index_file((r.path() / ".git" / "index").string());
}

Lines reader_view(const GitRepo& r) {
  auto idx = read_index(r);
  REQUIRE(idx);
  Lines out;
  for (const auto& e : idx->entries) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%06o", e.mode);
    git_oid id = e.id();
    out.push_back(std::string(mode) + " " + mlrepo::git::oid_hex(id) + " " + std::to_string(e.stage) +
                  "\t" + std::string(e.path));
  }
  return out;
}

void populate(const GitRepo& r) {
  r.write("a/Dockerfile", "FROM scratch\n");
  r.write("a/deep/er/path/with a space/file.txt", "x");
  r.write("a/exec.sh", "#!/bin/sh\n");
  r.git({"add", "-A"});
  r.git({"update-index", "--chmod=+x", "a/exec.sh"});
  r.write("b/long-" + std::string(120, 'n') + ".txt", "x");
  r.write("b/short", "x");
  r.write("zz/Dockerfile", "FROM scratch\n");
  r.commit();
}

} // namespace

TEST_CASE("index reader: versions 2, 3 and 4 match git", "[index]") {
  GitRepo r;
  populate(r);
  CHECK(reader_view(r) == git_view(r));
  r.write("new/intent.txt", "x");
  r.git({"add", "--intent-to-add", "new/intent.txt"}); // extended flags: version 3
  CHECK(reader_view(r) == git_view(r));
  r.git({"update-index", "--index-version", "4"});
  CHECK(reader_view(r) == git_view(r));
  CHECK(r.mlrepo({"list"}).lines() == Lines{"a\ta", "zz\tzz"});
}

TEST_CASE("index reader: merge conflicts keep every stage, and list lists the path once", "[index]") {
  GitRepo r;
  populate(r);
  r.git({"checkout", "-q", "-b", "other"});
  r.write("b/short", "other");
  r.commit();
  r.git({"checkout", "-q", "main"});
  r.write("b/short", "main");
  r.commit();
  run_program({"git", "merge", "-q", "other"}, r.path());
  auto view = reader_view(r);
  CHECK(view == git_view(r));
  CHECK(std::count_if(view.begin(), view.end(), [](auto& l) { return l.find("b/short") != std::string::npos; }) == 3);
  r.write("b/Dockerfile", "FROM scratch\n");
  CHECK(r.mlrepo({"list"}).lines() == Lines{"a\ta", "b\tb", "zz\tzz"});
}

TEST_CASE("index reader: split indexes are refused with what to do", "[index]") {
  GitRepo r;
  populate(r);
  r.git({"update-index", "--split-index"});
  r.write("c/Dockerfile", "FROM scratch\n");
  r.git({"add", "c/Dockerfile"});
  CHECK_FALSE(read_index(r));
  auto run = r.mlrepo({"list"});
  CHECK(run.code == 3);
  CHECK_THAT(run.err, Catch::Contains("split index") && Catch::Contains("--no-split-index"));
  r.git({"update-index", "--no-split-index"});
  CHECK(r.mlrepo({"list"}).lines() == Lines{"a\ta", "c\tc", "zz\tzz"});
}

TEST_CASE("index reader: stat data is what git recorded", "[index]") {
  GitRepo r;
  populate(r);
  // `git ls-files --debug` prints the stat data of each entry.
  std::istringstream in(r.git({"ls-files", "--debug"}));
  auto idx = read_index(r);
  REQUIRE(idx);
  size_t k = 0;
  std::string line;
  while (std::getline(in, line)) {
    REQUIRE(k < idx->entries.size());
    const auto& e = idx->entries[k++];
    CHECK(line == e.path);
    std::string ctime, mtime, dev, uid, size;
    std::getline(in, ctime);
    std::getline(in, mtime);
    std::getline(in, dev);
    std::getline(in, uid);
    std::getline(in, size); // and the flags
    CHECK(ctime == "  ctime: " + std::to_string(e.ctime_s()) + ":" + std::to_string(e.ctime_ns()));
    CHECK(mtime == "  mtime: " + std::to_string(e.mtime_s()) + ":" + std::to_string(e.mtime_ns()));
    CHECK(dev == "  dev: " + std::to_string(e.dev()) + "\tino: " + std::to_string(e.ino()));
    CHECK(uid == "  uid: " + std::to_string(e.uid()) + "\tgid: " + std::to_string(e.gid()));
    CHECK(size.substr(0, size.find('\t')) == "  size: " + std::to_string(e.size()));
  }
  CHECK(k == idx->entries.size());
}

TEST_CASE("index reader: the cache-tree names the trees git would write", "[index]") {
  GitRepo r;
  populate(r);
  r.git({"write-tree"}); // a commit leaves the cache-tree complete
  auto idx = read_index(r);
  REQUIRE(idx);
  REQUIRE_FALSE(idx->cache_tree.empty());
  const auto& root = idx->cache_tree[0];
  CHECK(root.valid);
  CHECK(mlrepo::git::oid_hex(root.id) == r.git({"rev-parse", "HEAD^{tree}"}).substr(0, 40));
  std::map<std::string, std::string> subtrees;
  for (size_t c : root.children)
    subtrees[std::string(idx->cache_tree[c].name)] = mlrepo::git::oid_hex(idx->cache_tree[c].id);
  CHECK(subtrees["a"] == r.git({"rev-parse", "HEAD:a"}).substr(0, 40));
  CHECK(subtrees["b"] == r.git({"rev-parse", "HEAD:b"}).substr(0, 40));

  // Staging a change invalidates its directories up to the root, not its siblings.
  r.write("a/exec.sh", "#!/bin/sh\necho changed\n");
  r.git({"add", "a/exec.sh"});
  idx = read_index(r);
  REQUIRE(idx);
  CHECK_FALSE(idx->cache_tree[0].valid);
  for (size_t c : idx->cache_tree[0].children) {
    const auto& node = idx->cache_tree[c];
    CHECK(node.valid == (node.name != "a"));
  }
}
