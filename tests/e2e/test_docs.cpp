// The error messages docs/errors.md shows are the ones mlrepo prints.
#include "support/repo.hpp"

#include "mlrepo/util/fs.hpp"

#include <catch2/catch.hpp>
#include <regex>
#include <sstream>

using namespace mlrepo::test;

namespace {

struct Example {
  std::vector<std::string> args;
  std::string expected; // stderr, with the repository at /home/you/monorepo
  int code = 0;
};

std::vector<Example> examples_in(const std::string& page) {
  std::vector<Example> out;
  std::istringstream in(page);
  std::string line;
  bool inside = false;
  Example e;
  while (std::getline(in, line)) {
    if (line == "```console") {
      inside = true;
      e = Example{};
    } else if (inside && line == "```") {
      inside = false;
      out.push_back(e);
    } else if (inside && line.rfind("$ mlrepo ", 0) == 0) {
      std::istringstream words(line.substr(9));
      for (std::string w; words >> w;)
        e.args.push_back(w);
    } else if (inside && line.rfind("[exit ", 0) == 0) {
      e.code = std::stoi(line.substr(6));
    } else if (inside) {
      e.expected += line + "\n";
    }
  }
  return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
    s.replace(pos, from.size(), to);
  return s;
}

} // namespace

TEST_CASE("docs/errors.md shows the real messages", "[docs]") {
  auto page = mlrepo::util::read_file(std::string(MLREPO_SOURCE_DIR) + "/docs/errors.md");
  REQUIRE(page);
  auto examples = examples_in(*page);
  REQUIRE(examples.size() >= 8);
  for (const auto& e : examples) {
    GitRepo r;
    fs::copy(std::string(MLREPO_SOURCE_DIR) + "/examples/monorepo", r.path(), fs::copy_options::recursive);
    r.commit("Example monorepo");
    if (e.args == std::vector<std::string>{"list"}) // the one example about a broken file
      r.write("projects/churn-model/mlrepo.yaml", "depends_on: [python-base\n");
    auto run = r.mlrepo(e.args);
    INFO("mlrepo " << e.args.at(0) << " ...");
    CHECK(replace_all(run.err, r.path().string(), "/home/you/monorepo") == e.expected);
    CHECK(run.code == e.code);
  }
}

// The repository's own command reference is the binary's --help, verbatim:
// a flag added, renamed or removed without regenerating it fails here.
TEST_CASE("docs/cli.md is every command's --help as this binary prints it", "[docs]") {
  TempDir cwd;
  auto generated = run_program({std::string(MLREPO_SOURCE_DIR) + "/scripts/cli-reference", MLREPO_BIN}, cwd.path());
  INFO(generated.err);
  REQUIRE(generated.code == 0);
  auto committed = mlrepo::util::read_file(std::string(MLREPO_SOURCE_DIR) + "/docs/cli.md");
  REQUIRE(committed);
  INFO("regenerate with: scripts/cli-reference > docs/cli.md");
  CHECK(*committed == generated.out);
  // Every command has its section, and the script passes shellcheck.
  for (auto cmd : {"list", "changed", "graph", "build", "ci generate", "new", "test", "run", "doctor", "promote",
                   "release"})
    CHECK_THAT(*committed, Catch::Contains(std::string("## `mlrepo ") + cmd + "`"));
  auto lint = run_program({"shellcheck", std::string(MLREPO_SOURCE_DIR) + "/scripts/cli-reference"}, cwd.path());
  CHECK(lint.code == 0);
}

// A blank line inside a Markdown table ends it: the rows after it render as
// text (docs/config.md's ci.* rows once did).
TEST_CASE("docs: no table is cut in two by a blank line", "[docs]") {
  size_t files = 0, rows = 0;
  for (const auto& e : fs::directory_iterator(std::string(MLREPO_SOURCE_DIR) + "/docs")) {
    if (e.path().extension() != ".md")
      continue;
    std::istringstream in(*mlrepo::util::read_file(e.path()));
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);)
      lines.push_back(line);
    auto row = [&](size_t k) { return k < lines.size() && lines[k].rfind("|", 0) == 0; };
    for (size_t k = 2; k < lines.size(); ++k) {
      // A row after a blank line that follows a row, and no new header
      // (a separator line next): the rest of a table rendered as text.
      bool new_table = k + 1 < lines.size() && lines[k + 1].rfind("|-", 0) == 0;
      INFO(e.path().filename().string() << ":" << k + 1);
      if (row(k) && lines[k - 1].empty() && row(k - 2) && !new_table)
        FAIL_CHECK("table split by a blank line");
      rows += row(k) ? 1 : 0;
    }
    ++files;
  }
  // It read the guide: every page, and the tables in it.
  CHECK(files >= 10);
  CHECK(rows >= 100);
}

// Under `set -o pipefail`, a reader that stops early (grep -q, head, an awk
// that exits) closes the pipe while the writer may still write: its SIGPIPE
// fails the line with 141, by chance and more often on a busy or larger
// machine (scripts/ci-install once did). Every shell script of the project
// is scanned for such a pipe, and each passes shellcheck.
TEST_CASE("scripts: no pipe into a reader that stops early under pipefail, and shellcheck passes",
          "[docs][scripts]") {
  const std::regex early(R"(\|\s*(grep\s+(-[a-zA-Z]*[qm]|--quiet|--max-count)|head\b|awk\s+'[^']*\bexit\b))");
  std::vector<fs::path> scripts;
  for (const char* dir : {"scripts", "tests/ci_harness/bin", "tests/support", "bench"}) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(fs::path(MLREPO_SOURCE_DIR) / dir, ec)) {
      auto text = mlrepo::util::read_file(e.path()).value_or("");
      if (e.is_regular_file() && (text.rfind("#!/usr/bin/env bash", 0) == 0 || text.rfind("#!/bin/sh", 0) == 0 ||
                                  text.rfind("#!/bin/bash", 0) == 0))
        scripts.push_back(e.path());
    }
  }
  REQUIRE(scripts.size() >= 8);
  TempDir cwd;
  for (const auto& script : scripts) {
    std::istringstream in(*mlrepo::util::read_file(script));
    int n = 0;
    for (std::string line; std::getline(in, line);) {
      ++n;
      auto code = line.substr(0, line.find(" #"));
      if (code.find_first_not_of(" \t") != std::string::npos && code[code.find_first_not_of(" \t")] == '#')
        continue;
      INFO(script.string() << ":" << n << ": " << line);
      CHECK_FALSE(std::regex_search(code, early));
    }
    auto lint = run_program({"shellcheck", "-S", "warning", script.string()}, cwd.path());
    INFO(script.string() << ":\n" << lint.out);
    CHECK(lint.code == 0);
  }
}
