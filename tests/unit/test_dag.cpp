// util::run_dag: the scheduler the image builder (and pipelines) run on.
#include "mlrepo/util/dag.hpp"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

using mlrepo::util::DagCallbacks;
using mlrepo::util::DagOptions;
using mlrepo::util::NodeState;
using mlrepo::util::run_dag;

namespace {

struct Recorder {
  std::mutex mutex;
  std::vector<size_t> started, ended;
  std::atomic<int> now{0}, most{0};
  NodeState run(size_t i, NodeState result = NodeState::Succeeded) {
    {
      std::lock_guard lock(mutex);
      started.push_back(i);
    }
    int n = ++now;
    for (int m = most; n > m && !most.compare_exchange_weak(m, n);) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    --now;
    std::lock_guard lock(mutex);
    ended.push_back(i);
    return result;
  }
  size_t position(const std::vector<size_t>& v, size_t i) { return std::find(v.begin(), v.end(), i) - v.begin(); }
};

} // namespace

TEST_CASE("dag: every node runs after what it depends on, at most -j at once", "[dag]") {
  // 0 <- 1 <- 3, 0 <- 2 <- 3, and 4..7 free.
  std::vector<std::vector<size_t>> deps{{}, {0}, {0}, {1, 2}, {}, {}, {}, {}};
  for (int jobs : {1, 2, 3}) {
    Recorder rec;
    DagOptions opt;
    opt.jobs = jobs;
    opt.interrupted = [] { return false; };
    DagCallbacks cb;
    cb.run = [&](size_t i) { return rec.run(i); };
    auto states = run_dag(deps, opt, cb);
    INFO("-j " << jobs);
    CHECK(std::all_of(states.begin(), states.end(), [](NodeState s) { return s == NodeState::Succeeded; }));
    REQUIRE(rec.started.size() == deps.size());
    for (size_t i = 0; i < deps.size(); ++i)
      for (size_t d : deps[i])
        CHECK(rec.position(rec.ended, d) < rec.position(rec.started, i)); // d ended before i started
    CHECK(rec.most <= jobs);
    if (jobs > 1)
      CHECK(rec.most > 1); // and it does run nodes side by side
  }
}

TEST_CASE("dag: a failure blocks its dependents, and keep-going runs the rest", "[dag]") {
  // 0 fails; 1 needs 0; 2 needs 1 (blocked through 1); 3 is independent.
  std::vector<std::vector<size_t>> deps{{}, {0}, {1}, {}};
  for (bool keep_going : {false, true}) {
    Recorder rec;
    DagOptions opt;
    opt.jobs = 1;
    opt.keep_going = keep_going;
    opt.interrupted = [] { return false; };
    std::vector<std::pair<size_t, size_t>> blocked;
    DagCallbacks cb;
    cb.run = [&](size_t i) { return rec.run(i, i == 0 ? NodeState::Failed : NodeState::Succeeded); };
    cb.blocked = [&](size_t i, size_t cause) { blocked.emplace_back(i, cause); };
    auto states = run_dag(deps, opt, cb);
    INFO("keep_going " << keep_going);
    CHECK(states[0] == NodeState::Failed);
    CHECK(states[1] == NodeState::Blocked);
    CHECK(states[2] == NodeState::Blocked);
    CHECK(blocked == std::vector<std::pair<size_t, size_t>>{{1, 0}, {2, 1}});
    // -j 1 runs 0 first; without keep-going nothing new starts after it failed.
    CHECK(states[3] == (keep_going ? NodeState::Succeeded : NodeState::NotStarted));
  }
}

TEST_CASE("dag: an interrupt starts nothing new and waits for what runs, and a stopped node's dependents never start",
          "[dag]") {
  std::atomic<bool> flag{false};
  std::vector<std::vector<size_t>> deps{{}, {0}, {}, {}};
  DagOptions opt;
  opt.jobs = 1;
  opt.interrupted = [&] { return flag.load(); };
  std::atomic<bool> first_ended{false};
  DagCallbacks cb;
  cb.run = [&](size_t i) {
    if (i == 0) {
      flag = true; // Ctrl-C while node 0 runs
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      first_ended = true;
      return NodeState::Stopped;
    }
    return NodeState::Succeeded;
  };
  auto states = run_dag(deps, opt, cb);
  CHECK(first_ended); // returned only after the running node ended
  CHECK(states[0] == NodeState::Stopped);
  CHECK(states[1] == NodeState::NotStarted);
  CHECK(states[2] == NodeState::NotStarted);
  CHECK(states[3] == NodeState::NotStarted);

  // Stopped without an interrupt: its dependent never starts, the rest run.
  flag = false;
  opt.interrupted = [] { return false; };
  cb.run = [&](size_t i) { return i == 0 ? NodeState::Stopped : NodeState::Succeeded; };
  states = run_dag(deps, opt, cb);
  CHECK(states[1] == NodeState::NotStarted);
  CHECK(states[2] == NodeState::Succeeded);
  CHECK(states[3] == NodeState::Succeeded);
}
