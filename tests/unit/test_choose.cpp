// choose_projects: the one place a command's PROJECT..., --all, --changed and
// "the project you are in" become projects.
#include "mlrepo/choose.hpp"
#include "mlrepo/git/handles.hpp"
#include "mlrepo/util/error.hpp"
#include "support/repo.hpp"

#include <catch2/catch.hpp>

using namespace mlrepo;
using Catch::Contains;

namespace {

std::vector<std::string> names(const View& view, const std::optional<std::vector<size_t>>& chosen) {
  std::vector<std::string> out;
  for (size_t i : chosen.value())
    out.push_back(view.graph.projects()[i].name);
  return out;
}

} // namespace

TEST_CASE("choose: names and paths, --all, --changed and the project you stand in", "[choose]") {
  git::Library libgit2;
  test::GitRepo r;
  r.write("images/base/Dockerfile", "FROM scratch\n");
  r.write("apps/train/Dockerfile", "FROM scratch\n");
  r.write("apps/train/src/x.py", "\n");
  r.write("apps/serve/Dockerfile", "FROM scratch\n");
  r.commit();
  auto repo = git::Repository::discover(r.path().string());
  View view = open_view(repo, std::nullopt);
  auto root_cwd = r.path().string();

  ProjectChoice named;
  named.names = {"serve", "images/base", "./apps/train"};
  named.cwd = root_cwd;
  CHECK(names(view, choose_projects(repo, view, named)) == std::vector<std::string>{"serve", "base", "train"});
  // Paths from where the user stands.
  named.names = {"../serve"};
  named.cwd = (r.path() / "apps" / "train").string();
  CHECK(names(view, choose_projects(repo, view, named)) == std::vector<std::string>{"serve"});
  named.names = {"nope"};
  CHECK_THROWS_AS(choose_projects(repo, view, named), UsageError);

  ProjectChoice all;
  all.all = true;
  all.names = {"serve"}; // --all wins the tie the caller refused (require_one_way)
  all.cwd = root_cwd;
  CHECK(choose_projects(repo, view, all)->size() == 3);

  // --changed: the change set's projects, by path, into this view.
  changes::ChangeSet set;
  auto serve = view.graph.find("apps/serve");
  REQUIRE(serve);
  set.changed.push_back({*serve, {}});
  ProjectChoice changed;
  changed.changed = &set;
  changed.changed_graph = &view.graph;
  changed.cwd = root_cwd;
  CHECK(names(view, choose_projects(repo, view, changed)) == std::vector<std::string>{"serve"});
  changes::ChangeSet none;
  changed.changed = &none;
  CHECK(choose_projects(repo, view, changed)->empty()); // chosen, and nothing changed

  // Nothing named: the deepest project containing the current directory.
  ProjectChoice here;
  here.cwd = (r.path() / "apps" / "train" / "src").string();
  CHECK(names(view, choose_projects(repo, view, here)) == std::vector<std::string>{"train"});
  here.cwd = (r.path() / "apps").string();
  CHECK_FALSE(choose_projects(repo, view, here)); // in no project: the caller says what to do
  here.cwd = (r.path() / "apps" / "train").string();
  here.here = false;
  CHECK_FALSE(choose_projects(repo, view, here));
}

TEST_CASE("choose: one way at a time", "[choose]") {
  CHECK_NOTHROW(require_one_way({false, true, false}, "PROJECT..., --changed or --all"));
  CHECK_NOTHROW(require_one_way({false, false}, "PROJECT... or --all"));
  try {
    require_one_way({true, true, false}, "PROJECT..., --changed or --all");
    FAIL("two ways were accepted");
  } catch (const UsageError& e) {
    CHECK_THAT(std::string(e.what()), Contains("choose projects one way: PROJECT..., --changed or --all"));
  }
}
