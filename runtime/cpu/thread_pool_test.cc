#include "runtime/cpu/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace kt::cpu {
namespace {

TEST(ThreadPoolTest, RunsEveryTaskExactlyOnceManyTimes) {
  for (int threads : {1, 2, 3, 4}) {
    auto pool = ThreadPool::Create({threads, /*pin=*/false});
    ASSERT_TRUE(pool.ok());
    ASSERT_EQ((*pool)->size(), threads);
    for (int round = 0; round < 300; ++round) {
      const int64_t n = 1 + round % 37;
      std::vector<std::atomic<int>> hits(n);
      std::atomic<int> bad_thread{0};
      (*pool)->ParallelFor(n, [&](int64_t task, int thread) {
        hits[task].fetch_add(1);
        if (thread < 0 || thread >= threads) bad_thread.fetch_add(1);
      });
      for (int64_t t = 0; t < n; ++t) ASSERT_EQ(hits[t].load(), 1) << "task " << t;
      ASSERT_EQ(bad_thread.load(), 0);
    }
  }
}

TEST(ThreadPoolTest, RejectsAbsurdThreadCount) {
  EXPECT_FALSE(ThreadPool::Create({100000, false}).ok());
}

}  // namespace
}  // namespace kt::cpu
