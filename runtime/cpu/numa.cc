#include "runtime/cpu/numa.h"

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "runtime/cpu/thread_pool.h"

#ifdef KT_HAVE_NUMA
#include <numa.h>
#include <numaif.h>
#include <unistd.h>
#endif

namespace kt::cpu {

std::string NumaTopology::ToString() const {
  std::string s = std::to_string(nodes.size()) + (nodes.size() == 1 ? " node: " : " nodes: ");
  for (size_t i = 0; i < nodes.size(); ++i) {
    const NumaNode& n = nodes[i];
    s += (i ? ", " : "") + std::to_string(n.id) + " (" + std::to_string(n.cpus.size()) + " cpus)";
  }
  if (!from_libnuma) s += " [no libnuma]";
  return s;
}

NumaTopology DetectNumaTopology() {
  NumaTopology topology;
  const std::vector<int> allowed = AllowedCpus();
#ifdef KT_HAVE_NUMA
  if (numa_available() >= 0) {
    const int max_node = numa_max_node();
    for (int node = 0; node <= max_node; ++node) {
      NumaNode n;
      n.id = node;
      for (int cpu : allowed)
        if (numa_node_of_cpu(cpu) == node) n.cpus.push_back(cpu);
      if (!n.cpus.empty()) topology.nodes.push_back(std::move(n));
    }
    topology.from_libnuma = !topology.nodes.empty();
  }
#endif
  if (topology.nodes.empty()) topology.nodes.push_back(NumaNode{0, allowed});
  return topology;
}

std::vector<int> WorkerCpuOrder(const NumaTopology& topology) {
  std::vector<int> order;
  for (size_t i = 0;; ++i) {
    bool any = false;
    for (const NumaNode& n : topology.nodes) {
      if (i < n.cpus.size()) {
        order.push_back(n.cpus[i]);
        any = true;
      }
    }
    if (!any) break;
  }
  return order;
}

Status InterleaveMemory(const void* addr, size_t size, const NumaTopology& topology) {
  if (topology.nodes.size() < 2 || size == 0) return Status::Ok();
#ifdef KT_HAVE_NUMA
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = reinterpret_cast<uintptr_t>(addr) & ~(page - 1);
  const uintptr_t end = reinterpret_cast<uintptr_t>(addr) + size;
  unsigned long mask[16] = {};
  for (const NumaNode& n : topology.nodes)
    if (n.id < static_cast<int>(sizeof(mask) * 8)) mask[n.id / 64] |= 1ul << (n.id % 64);
  if (mbind(reinterpret_cast<void*>(begin), end - begin, MPOL_INTERLEAVE, mask, sizeof(mask) * 8, 0) != 0)
    return KT_ERROR(kIoError, "mbind(MPOL_INTERLEAVE) over ", size, " bytes failed: ", std::strerror(errno));
#endif
  return Status::Ok();
}

}  // namespace kt::cpu
