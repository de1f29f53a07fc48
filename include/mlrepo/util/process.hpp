#pragma once
// The one way mlrepo starts child processes: an argv vector handed to
// posix_spawnp (never a shell), each child in its own process group so that an
// interrupt can stop it and everything it started.
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlrepo::util {

struct ProcessSpec {
  std::vector<std::string> argv;
  std::optional<std::string> cwd;
  // Variables to set (value) or remove (nullopt) on top of this process's environment.
  std::map<std::string, std::optional<std::string>> env;
  std::string stdin_data;      // written to the child's stdin, then closed
  bool inherit_stdin = false;  // give the child our stdin instead (interactive runs)
  // A terminal (a pseudo-terminal's child end) to be the child's stdin,
  // stdout and stderr; -1: none. Capture nothing with it.
  int terminal_fd = -1;
  // Called once the child has started (e.g. to close our copy of terminal_fd).
  std::function<void()> on_started;
  bool capture_stdout = true;  // otherwise inherited
  bool capture_stderr = true;  // otherwise inherited
  // Called with each complete output line (stdout and stderr alike) as it arrives.
  std::function<void(std::string_view)> on_line;
  // Called once when mlrepo is interrupted while the child runs, before the
  // child is signalled: to stop what the child started elsewhere (a container).
  std::function<void()> on_interrupt;
  // When this passes, the child is stopped as on an interrupt (on_deadline
  // first, to stop what it started elsewhere) and the result is timed_out.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  std::function<void()> on_deadline;
  // Run even after an interrupt (cleanup commands); never signalled by us.
  bool ignore_interrupt = false;
};

struct ProcessResult {
  int exit_code = -1;   // valid when signal == 0
  int signal = 0;       // the signal that ended the child, if any
  bool interrupted = false; // we stopped it because mlrepo was interrupted
  bool timed_out = false;   // we stopped it because its deadline passed
  std::string out;
  std::string err;
  bool ok() const { return signal == 0 && exit_code == 0; }
  // What a failed child said, for one error message: its stderr (else its
  // stdout) without trailing blanks.
  std::string said() const;
};

class ProcessRunner {
public:
  virtual ~ProcessRunner() = default;
  // Throws Error only when the program cannot be started at all.
  virtual ProcessResult run(const ProcessSpec& spec) = 0;
};

// Runs real processes.
class SpawnRunner : public ProcessRunner {
public:
  ProcessResult run(const ProcessSpec& spec) override;
};

// Quotes argv as a POSIX shell would need it, for logs and --dry-run.
std::string shell_quote(const std::vector<std::string>& argv);

// Signal handling in the style of ninja: handlers only set a flag; runners poll
// it, stop their children's process groups and report `interrupted`.
void install_interrupt_handlers();
bool interrupted();
// For long CPU-bound loops: throws Error (exit 130) once interrupted, so
// SIGINT and SIGTERM stop mlrepo promptly between children too.
void check_interrupted();
// Sleeps, returning early once interrupted (retry backoffs).
void sleep_unless_interrupted(std::chrono::milliseconds duration);

} // namespace mlrepo::util
