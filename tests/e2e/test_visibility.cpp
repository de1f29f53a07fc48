// `changed` and the content tag follow one rule: a project changed exactly
// when a file its build can see changed, or the .dockerignore that decides
// what it sees. A seeded random walk of edits, committed and uncommitted,
// checks at every step that the projects `changed` names are exactly those
// whose content tag (from `build --dry-run`) moved.
#include "support/docker.hpp"
#include "support/repo.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <random>
#include <regex>
#include <set>

using namespace mlrepo::test;
using Catch::Contains;

namespace {

// Project name -> content tag, as the build would tag it now.
std::map<std::string, std::string> content_tags(const GitRepo& r) {
  auto run = r.mlrepo({"build", "--all", "--dry-run"});
  INFO(run.err);
  REQUIRE(run.code == 0);
  std::map<std::string, std::string> out;
  static const std::regex tag(R"(-t ([a-z0-9./:-]+?):content-([0-9a-f]+))");
  for (const auto& line : run.lines())
    for (std::sregex_iterator it(line.begin(), line.end(), tag), end; it != end; ++it)
      out[(*it)[1]] = (*it)[2];
  return out;
}

std::set<std::string> moved(const std::map<std::string, std::string>& before,
                            const std::map<std::string, std::string>& after) {
  std::set<std::string> out;
  for (const auto& [name, tag] : after)
    if (!before.count(name) || before.at(name) != tag)
      out.insert(name);
  return out;
}

std::set<std::string> changed(const GitRepo& r, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"changed"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto run = r.mlrepo(argv);
  INFO(run.err);
  REQUIRE(run.code == 0);
  auto lines = run.lines();
  return {lines.begin(), lines.end()};
}

// A monorepo where .dockerignore decides a lot: a project ignoring docs, a
// data directory with an exception and a nested project; one whose context
// is the repository root (the root .dockerignore applies) with a depends_on
// path; one built FROM the first; one with nothing ignored.
void layout(const GitRepo& r) {
  r.write("a/Dockerfile", "FROM scratch\nCOPY . /\n");
  r.write("a/.dockerignore", "# docs and checkpoints stay out\n*.md\ndata\n!data/keep.csv\nsub\n");
  r.write("a/train.py", "1\n");
  r.write("a/README.md", "1\n");
  r.write("a/data/keep.csv", "1\n");
  r.write("a/data/big.csv", "1\n");
  r.write("a/sub/Dockerfile", "FROM scratch\n");
  r.write("a/sub/y.py", "1\n");
  r.write("svc/b/Dockerfile", "FROM scratch\nCOPY svc/b /app\nCOPY libs/shared /shared\n");
  r.write("svc/b/mlrepo.yaml", "context: ../..\ndepends_on: [libs/shared]\n");
  r.write("svc/b/main.py", "1\n");
  r.write("svc/b/notes.tmp", "1\n");
  r.write(".dockerignore", "**/*.tmp\nlibs/shared/tests\n");
  r.write("libs/shared/u.py", "1\n");
  r.write("libs/shared/tests/t.py", "1\n");
  r.write("libs/other/o.py", "1\n");
  r.write("c/Dockerfile", "FROM a\n");
  r.write("c/z.py", "1\n");
  r.write("d/Dockerfile", "FROM scratch\n");
  r.write("d/notes.md", "1\n");
  r.write("top.md", "1\n");
  r.commit("layout");
}

const std::vector<std::string> kFiles{
    "a/train.py",     "a/README.md",       "a/data/keep.csv", "a/data/big.csv", "a/data/new.csv",
    "a/sub/y.py",     "a/docs/guide.md",   "a/mlrepo.yaml",   "svc/b/main.py",  "svc/b/notes.tmp",
    "svc/b/new.tmp",  "libs/shared/u.py",  "libs/shared/tests/t.py", "libs/other/o.py", "c/z.py",
    "d/notes.md",     "top.md",            "a/.dockerignore", ".dockerignore"};

// One random edit: rewrite, append to, create or delete a file. The ignore
// files get one of a few real variants, so what is seen moves too.
void random_edit(const GitRepo& r, std::mt19937& rng, std::string& what) {
  const auto& file = kFiles[rng() % kFiles.size()];
  bool exists = fs::exists(r.file(file));
  if (file == "a/.dockerignore" || file == ".dockerignore") {
    static const std::vector<std::string> a_variants{"*.md\ndata\n!data/keep.csv\nsub\n", "*.md\nsub\n",
                                                     "data\nsub\n", "**/*.csv\n!data/keep.csv\nsub\n"};
    static const std::vector<std::string> root_variants{"**/*.tmp\nlibs/shared/tests\n", "**/*.tmp\n",
                                                        "libs/shared/tests\n", ""};
    const auto& variants = file == ".dockerignore" ? root_variants : a_variants;
    r.write(file, variants[rng() % variants.size()]);
    what = "rewrite " + file;
    return;
  }
  if (file == "a/mlrepo.yaml") {
    r.write(file, rng() % 2 ? "test: 'true'\n" : "test: 'false'\n");
    what = "config " + file;
    return;
  }
  if (exists && rng() % 4 == 0) {
    r.remove(file);
    what = "delete " + file;
  } else {
    r.write(file, std::to_string(rng()) + "\n");
    what = (exists ? "edit " : "create ") + file;
  }
}

} // namespace

TEST_CASE("visibility: changed names a project exactly when its content tag moved, over random edits",
          "[changed][dockerignore]") {
  unsigned seed = 20261203;
  if (const char* s = std::getenv("MLREPO_TEST_SEED"))
    seed = static_cast<unsigned>(std::strtoul(s, nullptr, 10));
  INFO("seed " << seed << " (MLREPO_TEST_SEED repeats a run)");
  std::mt19937 rng(seed);
  GitRepo r;
  layout(r);
  auto committed = content_tags(r);
  REQUIRE(committed.size() == 5);
  size_t steps_with_changes = 0, steps_without = 0;
  for (int step = 0; step < 24; ++step) {
    std::string log;
    int edits = 1 + static_cast<int>(rng() % 2);
    for (int e = 0; e < edits; ++e) {
      std::string what;
      random_edit(r, rng, what);
      log += what + "; ";
    }
    INFO("step " << step << ": " << log);
    // Uncommitted: the work tree against HEAD.
    auto now = content_tags(r);
    auto expected = moved(committed, now);
    CHECK(changed(r, {"--base", "HEAD"}) == expected);
    // Committed: the new commit against its parent.
    r.commit("step " + std::to_string(step));
    CHECK(changed(r, {"--base", "HEAD~1", "--head", "HEAD", "--no-uncommitted"}) == expected);
    CHECK(content_tags(r) == now); // committing the same bytes keeps every tag
    (expected.empty() ? steps_without : steps_with_changes)++;
    committed = now;
  }
  // The walk exercised both answers.
  CHECK(steps_with_changes >= 5);
  CHECK(steps_without >= 2);
}

TEST_CASE("visibility: a .dockerignore'd file is no change, a .dockerignore change is, and both agree with "
          "build --changed",
          "[changed][dockerignore]") {
  GitRepo r;
  layout(r);
  r.write("a/README.md", "edited\n");
  r.write("a/data/big.csv", "new checkpoint\n");
  auto quiet = r.mlrepo({"changed", "-v"});
  CHECK(quiet.lines().empty());
  CHECK_THAT(quiet.err, Contains("a/README.md is left out of its build by .dockerignore"));
  auto build = r.mlrepo({"build", "--changed", "--dry-run"});
  CHECK(build.code == 0);
  CHECK(build.lines().empty());
  r.commit("docs");

  // The root .dockerignore is outside svc/b but decides what its build sees.
  r.write(".dockerignore", "**/*.tmp\n");
  auto json = r.mlrepo({"changed", "--base", "HEAD", "--json"}).json();
  REQUIRE(json["changed"].size() == 1);
  CHECK(json["changed"][0]["name"] == "b");
  CHECK_THAT(json["changed"][0]["reasons"][0]["detail"].get<std::string>(),
             Contains(".dockerignore (decides what the build sees)"));
  // And the project's own, even when it lists itself.
  r.commit("root ignore");
  r.write("a/.dockerignore", "*.md\nsub\n.dockerignore\n");
  auto own = r.mlrepo({"changed", "--base", "HEAD"});
  CHECK(own.lines() == std::vector<std::string>{"a", "c"});
}

// Nested projects against a real build: the outer project's context holds the
// inner one's directory, so a file there is in the outer image (unless the
// outer .dockerignore leaves it out), and `changed` must name the outer project
// exactly when its image would differ. The image's own listing is the oracle.
TEST_CASE("visibility: a file in a nested project reaches the enclosing image exactly when changed says so",
          "[visibility][docker]") {
  ImageScope images;
  GitRepo r;
  r.write("mlrepo.yaml", "image_prefix: " + images.prefix() + "\n");
  r.write("outer/Dockerfile", "FROM " + busybox_image() + "\nCOPY . /outer/\n");
  r.write("outer/.dockerignore", "inner/scratch\n");
  r.write("outer/main.py", "1\n");
  r.write("outer/inner/Dockerfile", "FROM " + busybox_image() + "\nCOPY model.py /inner/\n");
  r.write("outer/inner/model.py", "1\n");
  r.write("outer/inner/scratch/notes.txt", "1\n");
  r.commit();
  auto build = r.mlrepo({"build", "--all"});
  INFO(build.err);
  REQUIRE(build.code == 0);
  auto listing = docker({"run", "--rm", images.prefix() + "outer:" + r.head(), "sh", "-c", "cd /outer && ls -R"});
  // The oracle: what the outer build really sent.
  bool outer_sees_model = listing.find("model.py") != std::string::npos;
  bool outer_sees_scratch = listing.find("notes.txt") != std::string::npos;
  CHECK(outer_sees_model);
  CHECK_FALSE(outer_sees_scratch);

  r.write("outer/inner/model.py", "2\n");
  auto changed = r.mlrepo({"changed", "--base", "HEAD"}).lines();
  std::vector<std::string> expected{"inner"};
  if (outer_sees_model)
    expected.insert(expected.begin(), "outer");
  std::sort(changed.begin(), changed.end());
  std::sort(expected.begin(), expected.end());
  CHECK(changed == expected);
  r.git({"checkout", "--", "."});

  r.write("outer/inner/scratch/notes.txt", "2\n");
  auto ignored = r.mlrepo({"changed", "--base", "HEAD"}).lines();
  std::vector<std::string> only_inner{"inner"};
  if (outer_sees_scratch)
    only_inner.insert(only_inner.begin(), "outer");
  std::sort(ignored.begin(), ignored.end());
  CHECK(ignored == only_inner);
  // And the outer content tag agrees: rebuilding builds inner only.
  auto again = r.mlrepo({"build", "--all"});
  INFO(again.err);
  CHECK(again.code == 0);
  CHECK_THAT(again.err, Contains("==> inner built") && Contains("==> outer up to date"));
}
