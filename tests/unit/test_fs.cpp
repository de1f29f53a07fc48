#include "mlrepo/util/fs.hpp"

#include <catch2/catch.hpp>

using namespace mlrepo::util;

TEST_CASE("repo paths normalise and may not leave the repo", "[fs]") {
  CHECK(normalize_repo_path("a/./b/") == "a/b");
  CHECK(normalize_repo_path("a/../b") == "b");
  CHECK(normalize_repo_path(".") == "");
  CHECK_FALSE(normalize_repo_path("../x"));
  CHECK_FALSE(normalize_repo_path("a/../../x"));
  CHECK_FALSE(normalize_repo_path("/etc"));
}

TEST_CASE("path containment is by component", "[fs]") {
  CHECK(path_within("a/b/c", "a/b"));
  CHECK(path_within("a/b", "a/b"));
  CHECK_FALSE(path_within("a/bc", "a/b"));
  CHECK(path_within("x", ""));
  CHECK(parent_path("a/b/c") == "a/b");
  CHECK(parent_path("a").empty());
  CHECK(base_name("a/b") == "b");
}
