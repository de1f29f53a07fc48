// The error messages docs/errors.md shows are the ones mlrepo prints.
#include "support/repo.hpp"

#include "mlrepo/util/fs.hpp"

#include <catch2/catch.hpp>
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
