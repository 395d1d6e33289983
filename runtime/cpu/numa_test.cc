#include "runtime/cpu/numa.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "runtime/cpu/thread_pool.h"

namespace kt::cpu {
namespace {

TEST(NumaTest, TopologyCoversEveryAllowedCpuOnce) {
  const NumaTopology t = DetectNumaTopology();
  ASSERT_FALSE(t.nodes.empty());
  std::set<int> seen;
  for (const NumaNode& n : t.nodes) {
    EXPECT_FALSE(n.cpus.empty());
    for (int cpu : n.cpus) EXPECT_TRUE(seen.insert(cpu).second) << "cpu " << cpu << " twice";
  }
  const std::vector<int> allowed = AllowedCpus();
  EXPECT_EQ(seen, std::set<int>(allowed.begin(), allowed.end()));
  EXPECT_FALSE(t.ToString().empty());
}

TEST(NumaTest, WorkerOrderAlternatesNodes) {
  NumaTopology t;
  t.nodes = {NumaNode{0, {0, 1, 2}}, NumaNode{1, {8, 9}}};
  EXPECT_EQ(WorkerCpuOrder(t), (std::vector<int>{0, 8, 1, 9, 2}));
}

TEST(NumaTest, InterleaveOnThisMachineSucceeds) {
  std::vector<char> buffer(1 << 20, 1);
  EXPECT_TRUE(InterleaveMemory(buffer.data(), buffer.size(), DetectNumaTopology()).ok());
}

}  // namespace
}  // namespace kt::cpu
