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
