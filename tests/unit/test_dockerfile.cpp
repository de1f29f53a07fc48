#include "mlrepo/project/dockerfile.hpp"

#include <catch2/catch.hpp>

using namespace mlrepo::project;

namespace {
std::vector<std::string> names(std::string_view df, std::map<std::string, std::string> args = {}) {
  std::vector<std::string> out;
  for (const auto& use : image_uses(df, args))
    out.push_back(use.image_name + (use.pinned ? "@" : ""));
  return out;
}
} // namespace

TEST_CASE("FROM with registry, tag and platform", "[dockerfile]") {
  CHECK(names("FROM --platform=linux/amd64 ghcr.io/acme/ml-base:1.2 AS build\n") ==
        std::vector<std::string>{"ml-base"});
  CHECK(names("from localhost:5000/base\n") == std::vector<std::string>{"base"});
}

TEST_CASE("digest-pinned references are marked pinned", "[dockerfile]") {
  CHECK(names("FROM ghcr.io/acme/base@sha256:abcd\n") == std::vector<std::string>{"base@"});
  CHECK(names("FROM base:1@sha256:abcd\n") == std::vector<std::string>{"base@"});
}

TEST_CASE("stage aliases, indexes and scratch are not images", "[dockerfile]") {
  auto df = "FROM base AS builder\nRUN make\nFROM scratch\nCOPY --from=builder /a /a\n"
            "COPY --from=0 /b /b\nCOPY --from=tools:1 /c /c\nFROM BUILDER\n";
  CHECK(names(df) == std::vector<std::string>{"base", "tools"});
}

TEST_CASE("ARG defaults expand, nested, with build args overriding", "[dockerfile]") {
  auto df = "ARG REGISTRY=ghcr.io\nARG OWNER=acme\nARG BASE=$REGISTRY/$OWNER/base-notebook\n"
            "FROM ${BASE}:latest\n";
  CHECK(names(df) == std::vector<std::string>{"base-notebook"});
  CHECK(names(df, {{"BASE", "other"}}) == std::vector<std::string>{"other"});
  CHECK(names("ARG X\nFROM ${X:-fallback}\n") == std::vector<std::string>{"fallback"});
  CHECK(names("ARG X=set\nFROM ${X:+alt}\n") == std::vector<std::string>{"alt"});
  CHECK(names("FROM $UNDEFINED\n").empty());
}

TEST_CASE("stage ARGs are not visible to FROM but are to COPY --from", "[dockerfile]") {
  auto df = "ARG V=1\nFROM a\nARG T=tools\nARG V\nCOPY --from=$T:$V /x /x\nFROM ${T}x\n";
  auto uses = image_uses(df, {});
  REQUIRE(uses.size() == 3);
  CHECK(uses[1].reference == "tools:1");
  CHECK(uses[2].reference == "x");
}

TEST_CASE("RUN --mount from= names an image", "[dockerfile]") {
  CHECK(names("FROM a\nRUN --mount=type=bind,from=wheels,target=/w pip install /w/*\n") ==
        std::vector<std::string>{"a", "wheels"});
}

TEST_CASE("continuations, comments, escape directive and heredocs", "[dockerfile]") {
  CHECK(names("FROM \\\n  # comment inside\n  base\n") == std::vector<std::string>{"base"});
  CHECK(names("# escape=`\nFROM `\n  base\n") == std::vector<std::string>{"base"});
  auto heredoc = "FROM a\nRUN <<EOF\nFROM notanimage\nEOF\nCOPY --from=b /x /x\n";
  CHECK(names(heredoc) == std::vector<std::string>{"a", "b"});
}

TEST_CASE("line numbers point at the instruction", "[dockerfile]") {
  auto uses = image_uses("# syntax=docker/dockerfile:1\n\nFROM a\n\nCOPY --from=b / /\n", {});
  REQUIRE(uses.size() == 2);
  CHECK(uses[0].line == 3);
  CHECK(uses[1].line == 5);
}

TEST_CASE("references split into repository and pin", "[dockerfile]") {
  CHECK(parse_reference("localhost:5000/a/b:tag").repository == "localhost:5000/a/b");
  CHECK(parse_reference("localhost:5000/a/b").repository == "localhost:5000/a/b");
  CHECK(parse_reference("b@sha256:00").pinned);
}

TEST_CASE("huge numbers in FROM and COPY --from are names, never a crash", "[dockerfile]") {
  // Found by fuzzing: std::stoi threw out_of_range and `mlrepo list` failed for the repository.
  CHECK_NOTHROW(names("FROM 99999999999999999999999\n"));
  CHECK_NOTHROW(names("FROM base\nCOPY --from=99999999999999999999999999 /a /a\n"));
  CHECK_NOTHROW(names("FROM base\nCOPY --from=00000000000000000000000000001 /a /a\n"));
  // A stage index within range still names a stage.
  CHECK(names("FROM base\nFROM scratch\nCOPY --from=0 /a /a\n") == std::vector<std::string>{"base"});
}

TEST_CASE("declared ARGs, global and per stage, once each", "[dockerfile]") {
  CHECK(declared_args("ARG B=1 A\nFROM x\nARG C\nARG A=2\n# ARG D\n") == std::vector<std::string>{"A", "B", "C"});
  CHECK(declared_args("FROM x\nRUN echo ARG E\n").empty());
}

TEST_CASE("ARG and ENV expansion is bounded: a value doubling on every step is refused at its line",
          "[dockerfile]") {
  // 31 doublings of one byte would be 2 GiB; refused once past 128 KiB (Linux's
  // MAX_ARG_STRLEN: no build step could receive a longer environment string).
  std::string df = "FROM scratch\nARG A=a\nARG";
  for (int i = 0; i < 31; ++i)
    df += " A=$A$A";
  df += "\nCOPY $A /x\n";
  for (int pass = 0; pass < 2; ++pass) {
    try {
      if (pass == 0)
        (void)image_uses(df, {});
      else
        (void)copy_sources(df, {});
      FAIL("no ExpansionTooLong");
    } catch (const ExpansionTooLong& e) {
      CHECK(e.line() == 3);
      CHECK_THAT(e.what(), Catch::Contains("128 KiB"));
    }
  }
  // The same in a stage, through ENV.
  std::string env = "FROM scratch\nENV B=b\n";
  for (int i = 0; i < 20; ++i)
    env += "ENV B=$B$B\n";
  env += "COPY $B /x\n";
  CHECK_THROWS_AS(copy_sources(env, {}), ExpansionTooLong);
  // Up to the bound, expansion is as before: 16 doublings are 64 KiB.
  std::string fine = "FROM scratch\nARG A=a\nARG";
  for (int i = 0; i < 16; ++i)
    fine += " A=$A$A";
  fine += "\nCOPY $A /x\n";
  auto sources = copy_sources(fine, {});
  REQUIRE(sources.size() == 1);
  CHECK(sources[0].source.size() == 65536);
}
