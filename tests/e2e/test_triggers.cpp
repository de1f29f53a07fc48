// The generated workflows trigger exactly when `mlrepo changed` says so: for
// every file of a monorepo with nested projects, FROM and depends_on
// dependencies, COPY inputs, global triggers and awkward names, GitHub's
// `paths:` semantics (the last matching pattern decides) applied to each
// workflow's filter must name the same projects as `mlrepo changed`.
#include "support/lint.hpp"

#include "mlrepo/util/fs.hpp"

#include <catch2/catch.hpp>
#include <cctype>
#include <regex>
#include <set>
#include <sstream>
#include <yaml-cpp/yaml.h>

using namespace mlrepo::test;
using Catch::Contains;

namespace {

// GitHub's filter patterns, written here from GitHub's documentation
// ("Filter pattern cheat sheet") and independent of mlrepo's own glob
// matcher, so that the generator and this check cannot share a mistake:
// `*` any characters but '/', `**` any characters, `**/` also none, `?` the
// preceding character optional, `+` one or more of it, `[...]` a class, `\`
// an escape.
std::regex github_filter_regex(const std::string& pattern) {
  std::string rx;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      rx += std::string("\\") + pattern[++i];
    } else if (pattern.compare(i, 3, "**/") == 0) {
      rx += "(.*/)?";
      i += 2;
    } else if (pattern.compare(i, 2, "**") == 0) {
      rx += ".*";
      ++i;
    } else if (c == '*') {
      rx += "[^/]*";
    } else if (c == '?' || c == '+') {
      rx += c;
    } else if (c == '[') {
      auto end = pattern.find(']', i + 1);
      REQUIRE(end != std::string::npos);
      rx += pattern.substr(i, end - i + 1);
      i = end;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-') {
      rx += c;
    } else {
      rx += std::string("\\") + c;
    }
  }
  return std::regex(rx, std::regex::ECMAScript);
}

// GitHub: a file matches when the last pattern matching it is not negated.
bool github_paths_match(const std::vector<std::string>& patterns, const std::string& file) {
  bool matched = false;
  for (const auto& p : patterns) {
    bool negated = !p.empty() && p[0] == '!';
    if (std::regex_match(file, github_filter_regex(negated ? p.substr(1) : p)))
      matched = !negated;
  }
  return matched;
}

} // namespace

TEST_CASE("triggers: every workflow's paths match exactly the changes mlrepo changed counts",
          "[ci][triggers]") {
  GitRepo r;
  r.write("mlrepo.yaml", "registry: localhost:5000\nglobal_triggers: [constraints.txt]\n"
                         "ci:\n  mlrepo_action: acme/mlrepo@0123456789abcdef0123456789abcdef01234567\n");
  r.write("constraints.txt", "numpy<2\n");
  r.write("notes.md", "\n");
  r.write("images/base/Dockerfile", "FROM scratch\n");
  r.write("images/base/README", "\n");
  r.write("images/base/extras/Dockerfile", "FROM scratch\n");
  r.write("images/base/extras/tool.sh", "\n");
  r.write("apps/web/Dockerfile", "FROM localhost:5000/base\n");
  r.write("apps/web/mlrepo.yaml", "depends_on: [libs/common]\n");
  r.write("apps/web/app.py", "\n");
  // What a build does not see is no change: docs, checkpoints but one, and a
  // pattern GitHub's glob cannot say (left out: the workflow may start, the
  // build then finds its image up to date).
  r.write("apps/web/.dockerignore", "*.md\ncheckpoints\n!checkpoints/best.pt\n.dockerignore\nnote?.txt\n");
  r.write("apps/web/README.md", "\n");
  r.write("apps/web/checkpoints/e1.pt", "\n");
  r.write("apps/web/checkpoints/best.pt", "\n");
  r.write("apps/web/notes.txt", "\n");
  // A context wider than the project: the root .dockerignore applies to it.
  r.write(".dockerignore", "**/*.tmp\n");
  r.write("apps/api/src/scratch.tmp", "\n");
  r.write("apps/web/plugins/Dockerfile", "FROM localhost:5000/web:latest\n");
  r.write("apps/web/plugins/p.py", "\n");
  r.write("apps/web/plugins/deep/Dockerfile", "FROM scratch\n");
  r.write("apps/web/plugins/deep/d.py", "\n");
  r.write("apps/api/Dockerfile", "FROM scratch\nCOPY libs/models /m\nCOPY data/*.csv /d/\nCOPY apps/api/src /app\n");
  r.write("apps/api/mlrepo.yaml", "context: ../..\n");
  r.write("apps/api/src/main.py", "\n");
  r.write("libs/common/x.py", "\n");
  r.write("libs/models/m.py", "\n");
  r.write("data/a.csv", "\n");
  r.write("data/readme.md", "\n");
  r.write(" odd/Dockerfile", "FROM scratch\n");
  r.write(" odd/mlrepo.yaml", "name: odd\n");
  r.write(" odd/f.txt", "\n");
  r.write("trail /Dockerfile", "FROM scratch\n");
  r.write("trail /mlrepo.yaml", "name: trail\n");
  r.commit();
  auto gen = r.mlrepo({"ci", "generate"});
  INFO(gen.err);
  REQUIRE(gen.code == 0);
  r.commit("workflows");
  expect_workflows_lint_clean(r);

  std::map<std::string, std::vector<std::string>> filters; // project name -> paths
  for (const auto& e : fs::directory_iterator(r.file(".github/workflows"))) {
    auto wf = YAML::LoadFile(e.path().string());
    std::string name = e.path().stem().string().substr(std::string("mlrepo-").size());
    for (const auto& p : wf["on"]["push"]["paths"])
      filters[name].push_back(p.as<std::string>());
  }
  REQUIRE(filters.size() == 8);
  // A nested project's files start its parent too: the parent's build sees them.
  CHECK(github_paths_match(filters["base"], "images/base/README"));
  CHECK(github_paths_match(filters["base"], "images/base/extras/tool.sh"));
  CHECK_FALSE(github_paths_match(filters["extras"], "images/base/README"));
  // The matcher itself, on GitHub's documented examples.
  CHECK(github_paths_match({"**/README.md"}, "README.md"));
  CHECK(github_paths_match({"docs/*"}, "docs/a.md"));
  CHECK_FALSE(github_paths_match({"docs/*"}, "docs/sub/a.md"));
  CHECK(github_paths_match({"docs/**", "!docs/**/*.md"}, "docs/a.txt"));
  CHECK_FALSE(github_paths_match({"docs/**", "!docs/**/*.md"}, "docs/sub/a.md"));
  CHECK(github_paths_match({"a\\*b"}, "a*b"));
  CHECK_FALSE(github_paths_match({"a\\*b"}, "axb"));

  std::istringstream tracked(r.git({"ls-files"}));
  std::vector<std::string> files;
  for (std::string f; std::getline(tracked, f);)
    files.push_back(f);
  for (auto extra : {"apps/web/plugins/new.txt", "apps/web/docs/x.md", "apps/web/checkpoints/e2.pt", "data/b.csv", "data/sub/c.csv", "libs/models/new/n.py",
                     "libs/other/o.py", "images/base/extras/more/x", " odd/new", "trail /new", "top.txt"})
    files.push_back(extra);
  size_t checked = 0;
  for (const auto& file : files) {
    std::string before = fs::exists(r.file(file)) ? *mlrepo::util::read_file(r.file(file)) : "";
    bool existed = fs::exists(r.file(file));
    r.write(file, before + "# changed\n");
    auto run = r.mlrepo({"changed", "--base", "HEAD"});
    if (existed)
      r.write(file, before);
    else
      r.remove(file);
    INFO(file << "\n" << run.err);
    REQUIRE(run.code == 0);
    const auto lines = run.lines();
    std::set<std::string> by_mlrepo(lines.begin(), lines.end());
    std::set<std::string> by_github;
    for (const auto& [name, patterns] : filters)
      if (github_paths_match(patterns, file))
        by_github.insert(name);
    bool always = file == "mlrepo.yaml" || file.rfind(".github/workflows/", 0) == 0;
    if (always) {
      // The workspace config triggers every workflow (mlrepo then decides
      // whether its build keys changed); a workflow triggers itself.
      for (const auto& name : by_mlrepo)
        CHECK(by_github.count(name));
    } else {
      // Where GitHub cannot say what .dockerignore says (a wider context, a
      // '?' pattern), a workflow may start for more, never for less.
      bool approximate = file == "apps/api/src/scratch.tmp" || file == "apps/web/notes.txt";
      if (approximate) {
        for (const auto& name : by_mlrepo)
          CHECK(by_github.count(name));
        CHECK(by_github != by_mlrepo);
      } else {
        CHECK(by_github == by_mlrepo);
        ++checked;
      }
    }
  }
  CHECK(checked >= 30);
}
