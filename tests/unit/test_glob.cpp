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
