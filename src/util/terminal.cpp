#include "mlrepo/util/terminal.hpp"

#include "mlrepo/util/error.hpp"

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace mlrepo::util {
namespace {

// Writes all of it, through EINTR and short writes; false when the other end is gone.
bool write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t w = ::write(fd, data, size);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return false;
    data += w;
    size -= static_cast<size_t>(w);
  }
  return true;
}

} // namespace

TerminalRelay::TerminalRelay() {
  termios attrs{};
  winsize size{};
  bool have_attrs = ::tcgetattr(STDIN_FILENO, &attrs) == 0;
  bool have_size = ::ioctl(STDIN_FILENO, TIOCGWINSZ, &size) == 0;
  if (::openpty(&parent_, &child_, nullptr, have_attrs ? &attrs : nullptr, have_size ? &size : nullptr) != 0)
    throw Error(ExitCode::Environment, std::string("cannot open a pseudo-terminal: ") + std::strerror(errno));
}

TerminalRelay::~TerminalRelay() {
  finish();
  close_child_end();
  if (parent_ >= 0)
    ::close(parent_);
}

void TerminalRelay::close_child_end() {
  if (child_ >= 0)
    ::close(child_);
  child_ = -1;
}

void TerminalRelay::start() {
  if (::tcgetattr(STDIN_FILENO, &saved_) == 0) {
    termios raw = saved_;
    ::cfmakeraw(&raw);
    raw_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
  }
  thread_ = std::thread([this] { relay(); });
}

void TerminalRelay::finish() {
  if (thread_.joinable()) {
    // The child has ended: what it wrote is still to be read, then the
    // parent end reports EIO and the relay stops by itself.
    thread_.join();
  }
  if (raw_)
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  raw_ = false;
}

std::optional<std::chrono::steady_clock::time_point> TerminalRelay::last_interrupt() const {
  long long ns = last_interrupt_ns_.load();
  if (ns == 0)
    return std::nullopt;
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(ns));
}

void TerminalRelay::relay() {
  char buf[4096];
  bool stdin_open = true;
  winsize last{};
  ::ioctl(STDIN_FILENO, TIOCGWINSZ, &last);
  for (;;) {
    pollfd fds[2] = {{parent_, POLLIN, 0}, {stdin_open ? STDIN_FILENO : -1, POLLIN, 0}};
    int ready = ::poll(fds, 2, 200);
    if (ready < 0 && errno != EINTR)
      return;
    // A resized window: the child's terminal follows.
    winsize now{};
    if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &now) == 0 && (now.ws_row != last.ws_row || now.ws_col != last.ws_col)) {
      ::ioctl(parent_, TIOCSWINSZ, &now);
      last = now;
    }
    if (ready <= 0)
      continue;
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t got = ::read(parent_, buf, sizeof buf);
      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0)
        return; // EIO: every holder of the child's end has closed it
      write_all(STDOUT_FILENO, buf, static_cast<size_t>(got));
    }
    if (stdin_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t got = ::read(STDIN_FILENO, buf, sizeof buf);
      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0) {
        stdin_open = false;
        continue;
      }
      if (std::memchr(buf, '\x03', static_cast<size_t>(got)))
        last_interrupt_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::steady_clock::now().time_since_epoch())
                                 .count();
      write_all(parent_, buf, static_cast<size_t>(got));
    }
  }
}

} // namespace mlrepo::util
