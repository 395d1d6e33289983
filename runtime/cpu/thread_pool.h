// A fixed pool of CPU workers for the expert kernels. The calling thread is
// worker 0 and takes part in the work; the others spin briefly between jobs
// (decode issues many short jobs per token) and then sleep on a condition
// variable so an idle runtime does not burn cores.
//
// Tasks are handed out as contiguous ranges, one per worker, and a worker
// that finishes its own range takes tasks from the others'. Consecutive
// tasks read consecutive weight rows, so each thread streams one long run of
// memory instead of every other short chunk (measured on the 2-vCPU VM:
// interleaving 16-row chunks between two threads read Q4_K weights at about
// half the speed of contiguous halves).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/base/status.h"

namespace kt::cpu {

struct ThreadPoolOptions {
  int n_threads = 0;  // 0: one per CPU this process may run on
  bool pin = true;    // pin worker i to the i-th CPU in NUMA-interleaved order
};

class ThreadPool {
 public:
  static StatusOr<std::unique_ptr<ThreadPool>> Create(const ThreadPoolOptions& options);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(task, thread) for every task in [0, n_tasks), spread over the
  // workers; returns when all tasks are done. Each worker runs its share of
  // tasks in increasing order. Not reentrant.
  void ParallelFor(int64_t n_tasks, const std::function<void(int64_t task, int thread)>& fn);

 private:
  // One worker's share of the current job; on its own cache line, since its
  // owner claims tasks from it at a high rate.
  struct alignas(64) Range {
    std::atomic<int64_t> next{0};
    int64_t end = 0;
  };

  explicit ThreadPool(int n_threads) : n_threads_(n_threads), ranges_(new Range[n_threads]) {}
  void WorkerLoop(int index, int cpu);
  void RunTasks(int thread);

  const int n_threads_;
  std::unique_ptr<Range[]> ranges_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> active_{0};
  // Sleepers announce themselves so that the hot path skips the mutex and
  // the futex calls while everyone spins.
  std::atomic<int> sleeping_workers_{0};
  std::atomic<bool> caller_sleeping_{false};
  const std::function<void(int64_t, int)>* fn_ = nullptr;
  std::atomic<bool> stop_{false};
};

// CPUs this process may run on, in ascending order.
std::vector<int> AllowedCpus();

}  // namespace kt::cpu
