// NUMA topology and memory placement. Decode on the CPU is bound by DRAM
// bandwidth, and on a multi-socket machine only memory spread over every
// node's controllers delivers all of it. Built on libnuma when the build
// found it; otherwise (or when the kernel has no NUMA support) the machine
// is one node holding every allowed CPU, and placement calls do nothing.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "runtime/base/status.h"

namespace kt::cpu {

struct NumaNode {
  int id = 0;
  std::vector<int> cpus;  // CPUs of this node this process may run on
};

struct NumaTopology {
  std::vector<NumaNode> nodes;  // only nodes with allowed CPUs
  bool from_libnuma = false;
  std::string ToString() const;  // "2 nodes: 0 (cpus 0-15), 1 (cpus 16-31)"
};

NumaTopology DetectNumaTopology();

// CPUs in the order workers should take them: round-robin across nodes, so
// that any prefix of workers draws on every node's memory controllers.
std::vector<int> WorkerCpuOrder(const NumaTopology& topology);

// Spreads the pages of [addr, addr + size) over all nodes (interleaved), for
// weights every node's workers read. A no-op on one node.
Status InterleaveMemory(const void* addr, size_t size, const NumaTopology& topology);

}  // namespace kt::cpu
