#include "support/lint.hpp"

#include <catch2/catch.hpp>

namespace mlrepo::test {

namespace {
std::string tool(const std::string& name) {
  auto path = fs::path(MLREPO_TOOLS_DIR) / name;
  INFO(name << " is installed by 'scripts/bootstrap --test' into " << MLREPO_TOOLS_DIR);
  REQUIRE(fs::exists(path));
  return path.string();
}
} // namespace

void expect_workflows_lint_clean(const GitRepo& r) {
  auto al = run_program({tool("actionlint"), "-shellcheck", "shellcheck"}, r.path());
  INFO("actionlint:\n" << al.out << al.err);
  CHECK(al.code == 0);
  auto zz = run_program({tool("zizmor"), "--offline", "--min-severity", "medium", ".github/workflows"},
                        r.path());
  INFO("zizmor:\n" << zz.out << zz.err);
  CHECK(zz.code == 0);
}

void expect_action_lint_clean(const fs::path& action) {
  auto zz = run_program({tool("zizmor"), "--offline", "--min-severity", "medium", action.string()},
                        action.parent_path());
  INFO("zizmor:\n" << zz.out << zz.err);
  CHECK(zz.code == 0);
}

} // namespace mlrepo::test
