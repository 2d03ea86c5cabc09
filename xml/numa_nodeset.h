// libvirt's node set syntax ("0-1,3", "0-7,^4"), parsed strictly.
#pragma once

#include <string_view>
#include <vector>

#include "util/result.h"

namespace vfhook {

inline constexpr int kMaxNumaNode = 1023;

// Comma-separated items: N, N-M (N <= M) or ^N (exclude N). Nodes 0..kMaxNumaNode, decimal,
// no signs or spaces. Returns the sorted, de-duplicated nodes; refuses an empty result.
Result<std::vector<int>> parse_numa_nodeset(std::string_view text);

}  // namespace vfhook
