#include "mlrepo/util/error.hpp"
#include "mlrepo/util/glob.hpp"

#include <catch2/catch.hpp>

using mlrepo::util::glob_match;
using mlrepo::util::glob_problem;

TEST_CASE("star stays inside one path component", "[glob]") {
  CHECK(glob_match("*.txt", "a.txt"));
  CHECK_FALSE(glob_match("*.txt", "dir/a.txt"));
  CHECK(glob_match("requirements/*.txt", "requirements/base.txt"));
  CHECK_FALSE(glob_match("requirements/*.txt", "requirements/x/base.txt"));
}

TEST_CASE("globstar crosses components and may match none", "[glob]") {
  CHECK(glob_match("**/*.txt", "a.txt"));
  CHECK(glob_match("**/*.txt", "x/y/a.txt"));
  CHECK(glob_match("a/**/b", "a/b"));
  CHECK(glob_match("a/**/b", "a/x/y/b"));
  CHECK_FALSE(glob_match("a/**/b", "ab"));
  CHECK(glob_match("legacy/**", "legacy/x/y"));
  CHECK(glob_match("**", "anything/at/all"));
}

TEST_CASE("patterns are anchored at the root", "[glob]") {
  CHECK(glob_match("legacy", "legacy"));
  CHECK_FALSE(glob_match("legacy", "teams/legacy"));
  CHECK(glob_match("**/legacy", "teams/legacy"));
  CHECK(glob_match("legacy/", "legacy"));
}

TEST_CASE("question marks and classes", "[glob]") {
  CHECK(glob_match("v?", "v1"));
  CHECK_FALSE(glob_match("v?", "v/"));
  CHECK(glob_match("[abc]x", "bx"));
  CHECK_FALSE(glob_match("[!abc]x", "bx"));
  CHECK(glob_match("[a-c]x", "cx"));
}

TEST_CASE("unusable patterns are explained", "[glob]") {
  CHECK(glob_problem("/abs"));
  CHECK(glob_problem(""));
  CHECK(glob_problem("[abc"));
  CHECK(glob_problem("!neg"));
  CHECK_FALSE(glob_problem("ok/**/*.py"));
}

TEST_CASE("runs of stars mean what one or two stars mean", "[glob]") {
  // Adversarial patterns that used to take exponential time; their time is
  // measured in bench/glob_bench.py, here only their answers.
  std::string stars16(16, '*');
  CHECK(glob_match(stars16 + "/x", "a/b/c/x"));
  CHECK_FALSE(glob_match(stars16 + "/x", "a/b/c/y"));
  CHECK(glob_match("***/x", "x"));
  std::string path(300, 'a');
  std::string many;
  for (int i = 0; i < 40; ++i)
    many += "a*";
  CHECK_FALSE(glob_match(many + "b", path));
  CHECK(glob_match(many, path));
  CHECK(glob_match("a*a*a*b", "aaaaab"));
  CHECK_FALSE(glob_match("a*a*a*b", "aaaaa/b"));
  CHECK(glob_match("*/*/*", "a/b/c"));
  CHECK_FALSE(glob_match("*/*/*", "a/b"));
  CHECK(glob_match("**/**/**/x", "x"));
  CHECK(glob_match("**/**/**/x", "p/q/r/s/x"));
}

TEST_CASE("patterns longer than the limit are refused with their length", "[glob]") {
  std::string long_pattern(1025, 'a');
  auto problem = glob_problem(long_pattern);
  REQUIRE(problem);
  CHECK_THAT(*problem, Catch::Contains("longer than 1024") && Catch::Contains("1025"));
  CHECK_FALSE(glob_problem(std::string(1024, 'a')));
}

TEST_CASE("matching a path or a parent in one pass equals matching each", "[glob]") {
  using mlrepo::util::glob_match_self_or_parent;
  auto each = [](const std::string& pattern, std::string path) {
    for (;;) {
      if (glob_match(pattern, path))
        return true;
      auto slash = path.rfind('/');
      if (slash == std::string::npos)
        return false;
      path.resize(slash);
    }
  };
  for (const char* pattern : {"data", "data/", "*.csv", "**/*.csv", "a/*/c", "a/**", "**/tmp", "a*", "*/b", "x?z",
                              "[ab]/c", "**", "a/**/d", "*"})
    for (const char* path : {"data", "data/raw/x.csv", "x.csv", "a/b/c", "a/b/c/d", "tmp/q", "z/tmp/q", "ab/c",
                             "a", "b/c", "xyz/1", "a/x/y/d/e"}) {
      INFO(pattern << " ~ " << path);
      CHECK(glob_match_self_or_parent(pattern, path) == each(pattern, path));
    }
}

TEST_CASE("glob: every pattern is bounded, so matching never recurses deep or allocates much", "[glob]") {
  // '**/' 22,000 times once overflowed the stack (one frame per star); now
  // the matcher refuses anything over kMaxGlobLength, as every reader does.
  std::string deep;
  for (int i = 0; i < 22000; ++i)
    deep += "**/";
  CHECK_THROWS_AS(glob_match(deep + "x", "a/x"), mlrepo::UsageError);
  CHECK_THROWS_AS(mlrepo::util::glob_match_self_or_parent(deep, "a/x"), mlrepo::UsageError);
  std::string stars;
  for (int i = 0; i < 20000; ++i)
    stars += "*?";
  CHECK_THROWS_AS(glob_match(stars, std::string(20000, 'a')), mlrepo::UsageError);
  // At the bound: 512 stars against a 20,000-byte path answers (a memo of
  // 512 x 20,001 states at most).
  std::string bounded;
  for (int i = 0; i < 512; ++i)
    bounded += "*?";
  REQUIRE(bounded.size() == mlrepo::util::kMaxGlobLength);
  CHECK(glob_match(bounded, std::string(20000, 'a')));
  CHECK_FALSE(glob_match(bounded, std::string(100, 'a')));
  std::string globstars;
  for (int i = 0; i < 341; ++i)
    globstars += "**/";
  CHECK(glob_match(globstars + "x", "a/b/x"));
  CHECK(glob_problem(deep).has_value());
}
