#pragma once
// Just enough of the Dockerfile language to find which images a build uses:
// FROM, COPY/ADD --from and RUN --mount=...,from=, with ARG expansion done the
// way Docker does it.
#include "mlrepo/util/error.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlrepo::project {

// The longest value an ARG or ENV may expand to: Linux's MAX_ARG_STRLEN (32
// pages), the most one environment string can hold when a RUN step starts, so
// a longer value could never reach a build step. Docker itself sets no limit,
// and unbounded expansion (`A=$A$A` on repeat) doubles at every step.
inline constexpr size_t kMaxExpansion = 128 * 1024;

// An ARG or ENV value expanding past kMaxExpansion, at its instruction's line
// (exit 2; the caller names the Dockerfile).
class ExpansionTooLong : public Error {
public:
  explicit ExpansionTooLong(int line)
      : Error(ExitCode::BadInput,
              "line " + std::to_string(line) + ": an ARG or ENV value expands to more than " +
                  std::to_string(kMaxExpansion / 1024) + " KiB",
              "no build step could receive it (Linux caps one environment string at 128 KiB); shorten the value"),
        line_(line) {}
  int line() const { return line_; }

private:
  int line_;
};

struct ImageUse {
  std::string reference;   // after ARG expansion, e.g. ghcr.io/acme/base:1.2
  std::string image_name;  // last repository component, tag and digest removed
  bool pinned = false;     // by digest: a published image, not this tree's
  std::string instruction; // FROM, COPY --from, RUN --mount
  int line = 0;            // 1-based line of the instruction
};

// The external images a Dockerfile uses; stage aliases, stage indexes and
// `scratch` are not images. `build_args` override ARG defaults.
std::vector<ImageUse> image_uses(std::string_view dockerfile,
                                 const std::map<std::string, std::string>& build_args);

// A source of COPY/ADD that comes from the build context (not --from, not a
// URL or heredoc), after ARG and ENV expansion; may be a glob.
struct CopySource {
  std::string source;      // as written, relative to the context
  std::string instruction; // COPY or ADD
  int line = 0;
};
std::vector<CopySource> copy_sources(std::string_view dockerfile,
                                     const std::map<std::string, std::string>& build_args);

// What in a Dockerfile only BuildKit can build (RUN --mount/--network/
// --security, COPY/ADD --link/--chmod/--parents/--exclude/--checksum,
// heredocs), one entry per use, for a clear error where only the classic
// builder exists.
struct BuildkitFeature {
  int line = 0;
  std::string what; // e.g. "RUN --mount"
};
std::vector<BuildkitFeature> buildkit_features(std::string_view dockerfile);

// The first instruction Docker does not know (`FORM python:3.11`), with the
// nearest known one; nullopt when every instruction is known, or when a
// `# syntax=` directive names a frontend that may define its own.
struct UnknownInstruction {
  int line = 0;
  std::string keyword;    // as written, upper-cased
  std::string suggestion; // e.g. FROM; empty when nothing is close
};
std::optional<UnknownInstruction> unknown_instruction(std::string_view dockerfile);

// Every ARG a Dockerfile declares (global and in any stage), sorted, once each.
std::vector<std::string> declared_args(std::string_view dockerfile);

// Splits an image reference: repository (tag and digest removed) and whether it
// is pinned by digest.
struct ParsedReference {
  std::string repository;
  bool pinned = false;
};
ParsedReference parse_reference(std::string_view reference);

} // namespace mlrepo::project
