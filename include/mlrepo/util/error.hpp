#pragma once
// One exception family for everything mlrepo reports to the user. main() catches
// Error and turns its kind into the exit code promised by the contract, so the
// core never calls exit() itself.
#include <stdexcept>
#include <memory>
#include <string>
#include <vector>

namespace mlrepo {

enum class ExitCode : int {
  Success = 0,
  WorkFailed = 1,  // a build, push or test failed; drift found; changes found
  BadInput = 2,    // usage, unknown project, invalid config or name
  Environment = 3, // not a git repo, base missing from a shallow clone, no docker
  Interrupted = 130,
};

class Error : public std::runtime_error {
public:
  Error(ExitCode code, std::string message, std::string hint = {})
      : std::runtime_error(std::move(message)), code_(code), hint_(std::move(hint)) {}
  ExitCode code() const { return code_; }
  // What the user should do about it; printed on its own line after the message.
  const std::string& hint() const { return hint_; }

private:
  ExitCode code_;
  std::string hint_;
};

// Bad usage or bad input (exit 2).
class UsageError : public Error {
public:
  explicit UsageError(std::string message, std::string hint = {})
      : Error(ExitCode::BadInput, std::move(message), std::move(hint)) {}
};

// Invalid configuration (exit 2). Carries the file and line so reporters can
// render it as an annotation.
class ConfigError : public Error {
public:
  ConfigError(std::string file, int line, std::string message, std::string hint = {})
      : Error(ExitCode::BadInput, format(file, line, message), std::move(hint)), file_(std::move(file)),
        line_(line), detail_(std::move(message)) {}
  const std::string& file() const { return file_; }
  int line() const { return line_; } // 1-based; 0 when unknown
  // The message without the file and line.
  const std::string& detail() const { return detail_; }

private:
  static std::string format(const std::string& file, int line, const std::string& message) {
    return line > 0 ? file + ":" + std::to_string(line) + ": " + message : file + ": " + message;
  }
  std::string file_;
  int line_;
  std::string detail_;
};

// The environment is not ready (exit 3).
class EnvironmentError : public Error {
public:
  explicit EnvironmentError(std::string message, std::string hint = {})
      : Error(ExitCode::Environment, std::move(message), std::move(hint)) {}
};

// History this clone lacks (shallow or partial): exit 3, and the one kind of
// missing base `--all-if-base-missing` may turn into "everything changed".
class MissingHistoryError : public EnvironmentError {
public:
  using EnvironmentError::EnvironmentError;
};

// Every problem of a run at once: one is thrown as it is (a ConfigError
// keeps its file and line); several as one Error listing each with its fix,
// with the first one's exit code. Returns when there is none.
inline void throw_all(const std::vector<std::shared_ptr<const Error>>& problems, const std::string& what) {
  if (problems.empty())
    return;
  if (problems.size() == 1) {
    if (const auto* ce = dynamic_cast<const ConfigError*>(problems[0].get()))
      throw *ce;
    throw *problems[0];
  }
  std::string message = std::to_string(problems.size()) + " " + what + ":";
  for (const auto& e : problems)
    message += "\n  - " + std::string(e->what()) + (e->hint().empty() ? "" : "\n    fix: " + e->hint());
  throw Error(problems[0]->code(), message, "fix each of them, then run the command again");
}

} // namespace mlrepo
