#include "runtime/cpu/thread_pool.h"

#include "runtime/cpu/numa.h"

#include <pthread.h>
#include <sched.h>

#include <chrono>

namespace kt::cpu {
namespace {

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

// How long a worker spins for the next job before it sleeps: long enough to
// cover the gap between two kernels of one decode step.
constexpr auto kSpinTime = std::chrono::microseconds(200);

}  // namespace

std::vector<int> AllowedCpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int i = 0; i < CPU_SETSIZE; ++i)
      if (CPU_ISSET(i, &set)) cpus.push_back(i);
  }
  if (cpus.empty()) {
    unsigned n = std::thread::hardware_concurrency();
    for (unsigned i = 0; i < (n ? n : 1); ++i) cpus.push_back(static_cast<int>(i));
  }
  return cpus;
}

StatusOr<std::unique_ptr<ThreadPool>> ThreadPool::Create(const ThreadPoolOptions& options) {
  // Node-interleaved order: a pool smaller than the machine still draws on
  // every NUMA node's memory bandwidth.
  const std::vector<int> cpus = WorkerCpuOrder(DetectNumaTopology());
  int n = options.n_threads > 0 ? options.n_threads : static_cast<int>(cpus.size());
  if (n > 1024) return KT_ERROR(kInvalidArgument, "thread count ", n, " is more than 1024");
  std::unique_ptr<ThreadPool> pool(new ThreadPool(n));
  const bool pin = options.pin && n <= static_cast<int>(cpus.size());
  if (pin) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpus[0], &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);  // best effort
  }
  for (int i = 1; i < n; ++i) pool->workers_.emplace_back(&ThreadPool::WorkerLoop, pool.get(), i, pin ? cpus[i] : -1);
  return pool;
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true);
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

namespace {

// Spins with pause until done() or kSpinTime passed; true when done. The
// clock is read only every 64 rounds: in a VM it is a costly call, and a
// spinning thread should leave the core's issue slots to useful work.
template <typename Done>
bool SpinUntil(Done done) {
  const auto until = std::chrono::steady_clock::now() + kSpinTime;
  for (uint32_t round = 1;; ++round) {
    if (done()) return true;
    CpuRelax();
    if (round % 64 == 0 && std::chrono::steady_clock::now() >= until) return done();
  }
}

}  // namespace

void ThreadPool::WorkerLoop(int index, int cpu) {
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);  // best effort
  }
  uint64_t seen = 0;
  for (;;) {
    // seq_cst (not acquire) on both sides of the sleep handshake: the store
    // of one side and the load of the other must not pass each other on any
    // architecture, or a wake-up is lost.
    auto woken = [&] { return generation_.load() != seen; };
    if (!SpinUntil(woken)) {
      std::unique_lock<std::mutex> lock(mutex_);
      // seq_cst pairs with ParallelFor's generation bump and sleeper check:
      // either it sees this sleeper, or this check sees the new job.
      sleeping_workers_.fetch_add(1);
      wake_.wait(lock, woken);
      sleeping_workers_.fetch_sub(1);
    }
    seen = generation_.load(std::memory_order_acquire);
    if (stop_.load()) return;
    RunTasks(index);
    if (active_.fetch_sub(1) == 1 && caller_sleeping_.load()) {
      std::lock_guard<std::mutex> lock(mutex_);
      done_.notify_one();
    }
  }
}

void ThreadPool::RunTasks(int thread) {
  for (int i = 0; i < n_threads_; ++i) {
    Range& r = ranges_[(thread + i) % n_threads_];
    for (;;) {
      const int64_t task = r.next.fetch_add(1, std::memory_order_relaxed);
      if (task >= r.end) break;
      (*fn_)(task, thread);
    }
  }
}

void ThreadPool::ParallelFor(int64_t n_tasks, const std::function<void(int64_t, int)>& fn) {
  if (n_tasks <= 0) return;
  if (n_threads_ == 1 || n_tasks == 1) {
    for (int64_t t = 0; t < n_tasks; ++t) fn(t, 0);
    return;
  }
  fn_ = &fn;
  for (int t = 0; t < n_threads_; ++t) {
    ranges_[t].next.store(n_tasks * t / n_threads_, std::memory_order_relaxed);
    ranges_[t].end = n_tasks * (t + 1) / n_threads_;
  }
  active_.store(n_threads_ - 1, std::memory_order_relaxed);
  generation_.fetch_add(1);  // seq_cst: publishes the job, then the sleeper check
  if (sleeping_workers_.load() > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_.notify_all();
  }
  RunTasks(0);
  auto finished = [&] { return active_.load() == 0; };  // seq_cst: pairs with caller_sleeping_
  if (!SpinUntil(finished)) {
    std::unique_lock<std::mutex> lock(mutex_);
    caller_sleeping_.store(true);
    done_.wait(lock, finished);
    caller_sleeping_.store(false);
  }
}

}  // namespace kt::cpu
