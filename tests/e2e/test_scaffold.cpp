// `mlrepo new`: every template scaffolds a project that is listed, has a
// valid workflow and passing tests; refusals leave nothing behind.
#include "support/lint.hpp"

#include "mlrepo/util/fs.hpp"

#include <catch2/catch.hpp>

using namespace mlrepo::test;
using Catch::Contains;
using Lines = std::vector<std::string>;

namespace {

const char* kWorkspace = "ci:\n  mlrepo_action: acme/mlrepo@0123456789abcdef0123456789abcdef01234567\n";

// Everything below the repository root except .git, sorted.
Lines tree(const GitRepo& r) {
  Lines out;
  for (auto it = fs::recursive_directory_iterator(r.path()); it != fs::recursive_directory_iterator(); ++it) {
    if (it->path().filename() == ".git") {
      it.disable_recursion_pending();
      continue;
    }
    out.push_back(fs::relative(it->path(), r.path()).generic_string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void host_tests_pass(const GitRepo& r, const std::string& dir) {
  auto run = run_program({std::string(MLREPO_TOOLS_DIR) + "/python", "-m", "pytest", "-q", "-p",
                          "no:cacheprovider", "tests"},
                         r.path() / dir);
  INFO(run.out << run.err);
  CHECK(run.code == 0);
  CHECK_THAT(run.out, Contains("2 passed"));
}

} // namespace

TEST_CASE("new: the python template builds, tests and has its workflow", "[new]") {
  GitRepo r;
  r.write("mlrepo.yaml", kWorkspace);
  r.commit();
  auto run = r.mlrepo({"new", "teams/nlp/churn-model", "--python-version", "3.12"});
  INFO(run.err);
  REQUIRE(run.code == 0);
  CHECK_THAT(run.err, Contains("next steps") && Contains("mlrepo test"));
  CHECK(run.out.empty());
  const std::string dir = "teams/nlp/churn-model";
  for (auto f : {"Dockerfile", "requirements.txt", "mlrepo.yaml", ".dockerignore", "README.md",
                 "src/churn_model/__init__.py", "src/churn_model/model.py", "tests/test_model.py"})
    CHECK(fs::exists(r.file(dir + "/" + f)));
  auto df = *mlrepo::util::read_file(r.file(dir + "/Dockerfile"));
  CHECK_THAT(df, Contains("ARG PYTHON_VERSION=3.12") && Contains("FROM python:${PYTHON_VERSION}-slim") &&
                     Contains("\"-m\", \"churn_model\""));
  CHECK_THAT(*mlrepo::util::read_file(r.file(dir + "/.dockerignore")), Contains("data/") && Contains("*.ckpt"));
  CHECK_THAT(*mlrepo::util::read_file(r.file(dir + "/mlrepo.yaml")), Contains("test: python -m pytest"));
  CHECK_THAT(*mlrepo::util::read_file(r.file(dir + "/README.md")), Contains(dir));
  CHECK(r.mlrepo({"list"}).lines() == Lines{"churn-model\tteams/nlp/churn-model"});
  CHECK(fs::exists(r.file(".github/workflows/mlrepo-churn-model.yml")));
  CHECK(r.mlrepo({"ci", "generate", "--check"}).code == 0);
  expect_workflows_lint_clean(r);
  host_tests_pass(r, dir);
  auto dry = r.mlrepo({"build", "--dry-run"}, {}, dir);
  REQUIRE(dry.code == 0);
  CHECK_THAT(dry.out, Contains("--build-arg PYTHON_VERSION=3.12"));
}

TEST_CASE("new: the notebook template and --no-ci", "[new]") {
  GitRepo r;
  r.write("mlrepo.yaml", kWorkspace);
  auto run = r.mlrepo({"new", "explore", "--template", "notebook", "--no-ci"});
  INFO(run.err);
  REQUIRE(run.code == 0);
  CHECK(fs::exists(r.file("explore/notebooks/explore.ipynb")));
  CHECK_THAT(*mlrepo::util::read_file(r.file("explore/mlrepo.yaml")), Contains("8888:8888") && Contains("explore/data:/app/data"));
  CHECK_FALSE(fs::exists(r.file(".github")));
  auto nb = nlohmann::json::parse(*mlrepo::util::read_file(r.file("explore/notebooks/explore.ipynb")));
  CHECK(nb["nbformat"] == 4);
  host_tests_pass(r, "explore");
  CHECK(r.mlrepo({"list"}).lines() == Lines{"explore\texplore"});
}

TEST_CASE("new: repository templates override and extend the built-ins", "[new]") {
  GitRepo r;
  r.write("mlrepo.yaml", kWorkspace);
  r.write(".mlrepo/templates/python/Dockerfile", "FROM registry.internal/python:{{ python_version }}\n");
  r.write(".mlrepo/templates/python/{{ module }}.py", "NAME = '{{ name }}' # in {{ path }}\n");
  r.write(".mlrepo/templates/gpu/Dockerfile", "FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04\n");
  auto list = r.mlrepo({"new", "--list-templates"});
  CHECK(list.lines().size() == 3);
  CHECK_THAT(list.out, Contains("python\trepository template") && Contains("gpu\trepository template"));
  REQUIRE(r.mlrepo({"new", "x/my-model"}).code == 0);
  CHECK(*mlrepo::util::read_file(r.file("x/my-model/Dockerfile")) == "FROM registry.internal/python:3.11\n");
  CHECK(*mlrepo::util::read_file(r.file("x/my-model/my_model.py")) == "NAME = 'my-model' # in x/my-model\n");
  REQUIRE(r.mlrepo({"new", "trainer", "-t", "gpu"}).code == 0);
  CHECK(fs::exists(r.file("trainer/Dockerfile")));
}

TEST_CASE("new: refusals leave nothing behind", "[new]") {
  GitRepo r;
  r.write("mlrepo.yaml", std::string(kWorkspace) + "exclude: [attic]\n");
  r.write("existing/file.txt", "x");
  r.write("other/model/Dockerfile", "FROM scratch\n");
  r.commit();
  auto before = tree(r);
  struct Case {
    std::vector<std::string> args;
    const char* says;
  };
  for (const auto& c : std::vector<Case>{
           {{"new", "my model"}, "not a valid image name"},
           {{"new", "../outside"}, "inside the repository"},
           {{"new", ".git/hooks/x"}, ".git"},
           {{"new", ".hidden/x"}, "starting with '.'"},
           {{"new", "existing"}, "already exists"},
           {{"new", "attic/x"}, "exclude"},
           {{"new", "teams/model"}, "already exists at 'other/model'"},
           {{"new", "deep/new/x", "--template", "nope"}, "available templates: python, notebook"},
           {{"new", "x", "--python-version", "3.11; rm -rf /"}, "python-version"}}) {
    auto run = r.mlrepo(c.args);
    INFO(c.args.at(1));
    CHECK(run.code == 2);
    CHECK_THAT(run.err, Contains(c.says));
    CHECK(tree(r) == before);
  }
  // A failure after files were written (a hand-written workflow in the way)
  // removes the project and the directories made for it.
  r.write(".github/workflows/mlrepo-tagger.yml", "name: mine\n");
  before = tree(r);
  auto run = r.mlrepo({"new", "teams/nlp/tagger"});
  CHECK(run.code == 2);
  CHECK_THAT(run.err, Contains("not generated"));
  CHECK(tree(r) == before);
}
