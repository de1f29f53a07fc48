#include "mlrepo/project/naming.hpp"

#include <catch2/catch.hpp>

using namespace mlrepo::project;
using mlrepo::config::NameFrom;

TEST_CASE("valid image names follow Docker's repository grammar", "[naming]") {
  for (const char* ok : {"a", "base-notebook", "a.b", "a_b", "a__b", "a---b", "x9", "9x"})
    CHECK(valid_image_name(ok));
  for (const char* bad : {"", "A", "a b", "-a", "a-", "a..b", "a___b", "a/b", "é", ".a", "a_"})
    CHECK_FALSE(valid_image_name(bad));
}

TEST_CASE("default names lowercase the leaf or join the path", "[naming]") {
  CHECK(default_name("images/Base-Notebook", NameFrom::Leaf) == "base-notebook");
  CHECK(default_name("teams/vision/detector", NameFrom::Path) == "teams-vision-detector");
  CHECK(default_name("Top", NameFrom::Path) == "top");
  CHECK(default_name("dir/My Model", NameFrom::Leaf) == "my model"); // invalid: caught later
}

TEST_CASE("image names drop registry and path components", "[naming]") {
  CHECK(image_name_of("ghcr.io/acme/ml-base") == "ml-base");
  CHECK(image_name_of("ml-base") == "ml-base");
}
