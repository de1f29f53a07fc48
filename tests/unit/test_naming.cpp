#include "mlrepo/project/naming.hpp"
#include "mlrepo/util/image_ref.hpp"

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

TEST_CASE("image references normalise and validate as Docker does", "[naming]") {
  using mlrepo::util::canonical_repository;
  using mlrepo::util::repository_problem;
  CHECK(canonical_repository("python") == "docker.io/library/python");
  CHECK(canonical_repository("library/python") == "docker.io/library/python");
  CHECK(canonical_repository("docker.io/library/python") == "docker.io/library/python");
  CHECK(canonical_repository("index.docker.io/python") == "docker.io/library/python");
  CHECK(canonical_repository("acme/base") == "docker.io/acme/base");
  CHECK(canonical_repository("localhost/base") == "localhost/base");
  CHECK(canonical_repository("localhost:5000/a/b") == "localhost:5000/a/b");
  CHECK(canonical_repository("nvcr.io/nvidia/pytorch") == "nvcr.io/nvidia/pytorch");
  for (const char* ok : {"a", "ghcr.io/acme/x", "localhost:5000/x", "registry.example.com:8443/a_b/c-d",
                         "acme/x", "a.b/c"})
    CHECK_FALSE(repository_problem(ok));
  for (const char* bad : {"", "ghcr.io/Acme/x", "Acme/x", "https://ghcr.io/x", "ghcr.io//x", "x/",
                          "ghcr.io:port/x", "-a.io/x", "a b"})
    CHECK(repository_problem(bad));
  CHECK(repository_problem(std::string(200, 'a') + "/" + std::string(60, 'b')));
  CHECK_FALSE(repository_problem(std::string(200, 'a') + "/" + std::string(50, 'b')));
}
