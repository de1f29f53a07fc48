#pragma once
// A pseudo-terminal between the user's terminal and an interactive child.
// The child (docker run -t) puts its terminal in raw mode, so Ctrl-C reaches
// it as a byte, never as a signal to us: relaying the bytes ourselves is how
// we learn that it was typed (the contract's exit 130), while the child still
// gets every key, Ctrl-C included, exactly as before.
#include <atomic>
#include <chrono>
#include <optional>
#include <thread>
#include <termios.h>

namespace mlrepo::util {

class TerminalRelay {
public:
  // A pseudo-terminal sized and set up like our stdin's terminal.
  // Throws Error when none can be opened.
  TerminalRelay();
  ~TerminalRelay();
  TerminalRelay(const TerminalRelay&) = delete;
  TerminalRelay& operator=(const TerminalRelay&) = delete;

  // The end to give the child as its stdin, stdout and stderr.
  int child_fd() const { return child_; }
  // Closes our copy of the child's end, once the child has it: its exit
  // then ends the relay.
  void close_child_end();
  // Our terminal in raw mode, and the relay running.
  void start();
  // Waits for the relay to drain what the child wrote, then puts our
  // terminal back as it was. Idempotent; the destructor calls it too.
  void finish();
  // When Ctrl-C was last typed, if ever.
  std::optional<std::chrono::steady_clock::time_point> last_interrupt() const;

private:
  void relay();

  int parent_ = -1, child_ = -1;
  termios saved_{};
  bool raw_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<long long> last_interrupt_ns_{0};
  std::thread thread_;
};

} // namespace mlrepo::util
