// The direct index reader against git's own view of the index, in every
// format version, and the libgit2 fallback for what it leaves alone.
#include "support/repo.hpp"

#include "mlrepo/git/index_reader.hpp"

#include <catch2/catch.hpp>
#include <sstream>

using namespace mlrepo::test;
using Lines = std::vector<std::string>;

namespace {

// "mode path" per stage-0/1 entry, as git lists it.
Lines git_view(const GitRepo& r) {
  Lines out;
  std::istringstream in(r.git({"ls-files", "-s"}));
  for (std::string line; std::getline(in, line);) {
    // <mode> <object> <stage>\t<path>
    auto tab = line.find('\t');
    std::string stage = line.substr(tab - 1, 1);
    if (stage == "2" || stage == "3")
      continue;
    out.push_back(line.substr(0, 6) + " " + line.substr(tab + 1));
  }
  return out;
}

Lines reader_view(const GitRepo& r) {
  auto idx = mlrepo::git::read_index_paths((r.path() / ".git" / "index").string());
  REQUIRE(idx);
  Lines out;
  for (size_t i = 0; i < idx->paths.size(); ++i) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%06o", idx->modes[i]);
    out.push_back(std::string(mode) + " " + std::string(idx->paths[i]));
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

TEST_CASE("index reader: merge conflicts list a path once", "[index]") {
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
  CHECK(std::count_if(view.begin(), view.end(), [](auto& l) { return l.find("b/short") != std::string::npos; }) == 1);
}

TEST_CASE("index reader: split indexes are refused with what to do", "[index]") {
  GitRepo r;
  populate(r);
  r.git({"update-index", "--split-index"});
  r.write("c/Dockerfile", "FROM scratch\n");
  r.git({"add", "c/Dockerfile"});
  CHECK_FALSE(mlrepo::git::read_index_paths((r.path() / ".git" / "index").string()));
  auto run = r.mlrepo({"list"});
  CHECK(run.code == 3);
  CHECK_THAT(run.err, Catch::Contains("split index") && Catch::Contains("--no-split-index"));
  r.git({"update-index", "--no-split-index"});
  CHECK(r.mlrepo({"list"}).lines() == Lines{"a\ta", "c\tc", "zz\tzz"});
}
