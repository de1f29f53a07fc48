#include "mlrepo/util/process.hpp"

#include "mlrepo/util/error.hpp"

#include <thread>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace mlrepo::util {

std::string ProcessResult::said() const {
  std::string text = err.empty() ? out : err;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  return text;
}
namespace {

std::atomic<int> g_signal{0};

extern "C" void on_signal(int sig) { g_signal.store(sig); }

struct Pipe {
  int fd[2] = {-1, -1};
  Pipe() {
    if (::pipe2(fd, O_CLOEXEC) != 0)
      throw Error(ExitCode::Environment, std::string("cannot create a pipe: ") + std::strerror(errno));
  }
  ~Pipe() { close_both(); }
  void close_end(int i) {
    if (fd[i] >= 0)
      ::close(fd[i]);
    fd[i] = -1;
  }
  void close_both() {
    close_end(0);
    close_end(1);
  }
};

std::vector<std::string> build_env(const std::map<std::string, std::optional<std::string>>& over) {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    std::string key(entry.substr(0, eq));
    if (over.count(key))
      continue;
    out.emplace_back(entry);
  }
  for (const auto& [key, value] : over)
    if (value)
      out.push_back(key + "=" + *value);
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings)
    out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Feeds complete lines of `buffer` to the callback, keeping any partial tail.
void emit_lines(std::string& pending, const ProcessSpec& spec) {
  if (!spec.on_line)
    return;
  size_t start = 0;
  for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1)
    spec.on_line(std::string_view(pending).substr(start, nl - start));
  pending.erase(0, start);
}

int wait_child(pid_t pid, int options, int& status) {
  for (;;) {
    pid_t r = ::waitpid(pid, &status, options);
    if (r < 0 && errno == EINTR)
      continue;
    return r;
  }
}

} // namespace

void install_interrupt_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0; // no SA_RESTART: blocking calls return EINTR and we notice
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGHUP, &sa, nullptr); // the terminal went away: stop as cleanly as for Ctrl-C
  ::signal(SIGPIPE, SIG_IGN);
}

bool interrupted() { return g_signal.load() != 0; }

void sleep_unless_interrupted(std::chrono::milliseconds duration) {
  auto until = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < until && !interrupted())
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

void check_interrupted() {
  if (interrupted())
    throw Error(ExitCode::Interrupted, "interrupted");
}

ProcessResult SpawnRunner::run(const ProcessSpec& spec) {
  if (spec.argv.empty())
    throw Error(ExitCode::BadInput, "internal error: empty command");
  Pipe in, out, err;

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (spec.terminal_fd >= 0) {
    for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO})
      posix_spawn_file_actions_adddup2(&actions, spec.terminal_fd, fd);
  } else {
    if (!spec.inherit_stdin)
      posix_spawn_file_actions_adddup2(&actions, in.fd[0], STDIN_FILENO);
    if (spec.capture_stdout || spec.on_line)
      posix_spawn_file_actions_adddup2(&actions, out.fd[1], STDOUT_FILENO);
    if (spec.capture_stderr || spec.on_line)
      posix_spawn_file_actions_adddup2(&actions, err.fd[1], STDERR_FILENO);
  }
  if (spec.cwd)
    posix_spawn_file_actions_addchdir_np(&actions, spec.cwd->c_str());

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults, empty;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGHUP);
  sigaddset(&defaults, SIGPIPE);
  sigemptyset(&empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &empty);
  short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
  // Interactive children stay in our process group so the terminal's job
  // control (Ctrl-C, TTY reads) reaches them directly.
  if (!spec.inherit_stdin) {
    flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setpgroup(&attr, 0);
  }
  posix_spawnattr_setflags(&attr, flags);

  auto argv_copy = spec.argv;
  auto argv_c = c_strings(argv_copy);
  auto env = build_env(spec.env);
  auto env_c = c_strings(env);

  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, argv_c[0], &actions, &attr, argv_c.data(), env_c.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0)
    throw Error(ExitCode::Environment,
                "cannot run '" + spec.argv[0] + "': " + std::strerror(rc),
                rc == ENOENT ? "install it or put it on PATH" : "");

  in.close_end(0);
  out.close_end(1);
  err.close_end(1);
  if (spec.on_started)
    spec.on_started();

  ProcessResult result;
  std::string out_pending, err_pending;
  size_t stdin_written = 0;
  if (spec.inherit_stdin || spec.stdin_data.empty())
    in.close_end(1);
  else
    ::fcntl(in.fd[1], F_SETFL, O_NONBLOCK);

  // On interrupt: SIGTERM to the child's group, SIGKILL if it is still
  // there ten seconds later.
  bool stopped = false;
  auto stop_deadline = std::chrono::steady_clock::time_point::max();
  pid_t target = spec.inherit_stdin ? pid : -pid;
  auto stop_if_interrupted = [&] {
    if (!stopped && spec.deadline && std::chrono::steady_clock::now() >= *spec.deadline) {
      stopped = true;
      result.timed_out = true;
      if (spec.on_deadline)
        spec.on_deadline();
      ::kill(target, SIGTERM);
      stop_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    }
    if (spec.ignore_interrupt)
      return;
    if (interrupted() && !stopped) {
      stopped = true;
      result.interrupted = true;
      if (spec.on_interrupt)
        spec.on_interrupt();
      ::kill(target, SIGTERM);
      stop_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    }
    if (stopped && std::chrono::steady_clock::now() > stop_deadline) {
      ::kill(target, SIGKILL);
      stop_deadline = std::chrono::steady_clock::time_point::max();
    }
  };
  char buf[65536];
  while (out.fd[0] >= 0 || err.fd[0] >= 0 || in.fd[1] >= 0) {
    stop_if_interrupted();
    pollfd fds[3];
    int n = 0;
    int out_i = -1, err_i = -1, in_i = -1;
    if (out.fd[0] >= 0) {
      fds[n] = {out.fd[0], POLLIN, 0};
      out_i = n++;
    }
    if (err.fd[0] >= 0) {
      fds[n] = {err.fd[0], POLLIN, 0};
      err_i = n++;
    }
    if (in.fd[1] >= 0) {
      fds[n] = {in.fd[1], POLLOUT, 0};
      in_i = n++;
    }
    int ready = ::poll(fds, static_cast<nfds_t>(n), 100);
    if (ready < 0 && errno != EINTR)
      break;
    if (ready <= 0)
      continue;
    auto drain = [&](int idx, Pipe& pipe, std::string& sink, std::string& pending) {
      if (idx < 0 || !(fds[idx].revents & (POLLIN | POLLHUP | POLLERR)))
        return;
      ssize_t got = ::read(pipe.fd[0], buf, sizeof buf);
      if (got < 0 && errno == EINTR)
        return;
      if (got <= 0) {
        pipe.close_end(0);
        if (!pending.empty() && spec.on_line) {
          spec.on_line(pending);
          pending.clear();
        }
        return;
      }
      sink.append(buf, static_cast<size_t>(got));
      if (spec.on_line) {
        pending.append(buf, static_cast<size_t>(got));
        emit_lines(pending, spec);
      }
    };
    drain(out_i, out, result.out, out_pending);
    drain(err_i, err, result.err, err_pending);
    if (in_i >= 0 && (fds[in_i].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t w = ::write(in.fd[1], spec.stdin_data.data() + stdin_written,
                          spec.stdin_data.size() - stdin_written);
      if (w > 0)
        stdin_written += static_cast<size_t>(w);
      if ((w < 0 && errno != EINTR && errno != EAGAIN) || stdin_written == spec.stdin_data.size())
        in.close_end(1);
    }
  }

  int status = 0;
  for (;;) {
    int r = wait_child(pid, WNOHANG, status);
    if (r == pid || r < 0)
      break;
    stop_if_interrupted();
    ::usleep(20000);
  }
  if (!spec.capture_stdout)
    result.out.clear();
  if (!spec.capture_stderr)
    result.err.clear();
  if (WIFEXITED(status))
    result.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    result.signal = WTERMSIG(status);
  return result;
}

std::string shell_quote(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& arg : argv) {
    if (!out.empty())
      out += ' ';
    bool plain = !arg.empty();
    for (char c : arg)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || std::strchr("@%+=:,./_-", c)))
        plain = false;
    if (plain) {
      out += arg;
      continue;
    }
    out += '\'';
    for (char c : arg) {
      if (c == '\'')
        out += "'\\''";
      else
        out += c;
    }
    out += '\'';
  }
  return out;
}

} // namespace mlrepo::util
