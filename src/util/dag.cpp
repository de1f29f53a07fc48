#include "mlrepo/util/dag.hpp"

#include "mlrepo/util/process.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

namespace mlrepo::util {

namespace {

enum class Phase { Pending, Running, Done };

} // namespace

std::vector<NodeState> run_dag(const std::vector<std::vector<size_t>>& deps, const DagOptions& opt,
                               const DagCallbacks& cb) {
  const size_t n = deps.size();
  const size_t jobs = static_cast<size_t>(opt.jobs < 1 ? 1 : opt.jobs);
  auto interrupted = opt.interrupted ? opt.interrupted : [] { return util::interrupted(); };
  std::vector<Phase> phase(n, Phase::Pending);
  std::vector<NodeState> state(n, NodeState::NotStarted);
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::thread> threads;
  size_t running = 0;
  bool stop = false;

  std::unique_lock lock(mutex);
  for (;;) {
    if (interrupted())
      stop = true;
    bool progressed = false;
    for (size_t i = 0; i < n; ++i) {
      if (phase[i] != Phase::Pending)
        continue;
      bool ready = true;
      bool waits_forever = false; // a dependency stopped: never started, never blocked
      std::optional<size_t> cause;
      for (size_t d : deps[i]) {
        if (phase[d] != Phase::Done)
          ready = false;
        else if (state[d] == NodeState::Failed || state[d] == NodeState::Blocked)
          cause = cause ? cause : d;
        else if (state[d] != NodeState::Succeeded)
          waits_forever = true;
      }
      if (cause) {
        phase[i] = Phase::Done;
        state[i] = NodeState::Blocked;
        if (cb.blocked)
          cb.blocked(i, *cause);
        progressed = true;
        continue;
      }
      if (!ready || stop || waits_forever || running >= jobs)
        continue;
      phase[i] = Phase::Running;
      ++running;
      progressed = true;
      threads.emplace_back([&, i] {
        NodeState s = cb.run(i);
        std::lock_guard done(mutex);
        state[i] = s;
        phase[i] = Phase::Done;
        --running;
        if (s == NodeState::Failed && !opt.keep_going)
          stop = true;
        cv.notify_all();
      });
    }
    if (progressed)
      continue;
    if (running == 0)
      break;
    cv.wait_for(lock, std::chrono::milliseconds(100));
  }
  lock.unlock();
  for (auto& t : threads)
    t.join();
  return state;
}

} // namespace mlrepo::util
