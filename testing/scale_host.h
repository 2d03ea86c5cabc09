// ScaleHost: a host with many SR-IOV PFs for allocation benchmarks and tests at scale: `pfs`
// igb-like PFs, each with `vfs_per_pf` VFs created through the simulated kernel (one bus per
// PF, bus first_bus + n, VF addresses from First VF Offset 0x80 and VF Stride 2), all in one
// VF pool. Every VF has a netdev of its own ("enp<bus>s0v<index>", down, as a host VF driver
// leaves it) unless `used_outside` says the host has it up (in use outside vfhook).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "model/pci_address.h"
#include "testing/fake_sysfs_tree.h"
#include "util/result.h"

namespace vfhook::testing {

struct ScaleHostSpec {
  int pfs = 64;
  int vfs_per_pf = 64;  // at most 64: the VFs of one PF stay on its bus
  int first_bus = 0x10;
  std::string pool = "provider";
  bool vf_netdevs = true;
  // NUMA node of PF n (its VFs inherit it, as the kernel gives a VF its PF's bus node).
  std::function<int(int pf)> numa_node = [](int) { return 0; };
  // VFs whose netdev the host has up.
  std::function<bool(int pf, int vf)> used_outside = [](int, int) { return false; };
};

struct ScalePf {
  PciAddress address;
  std::string name;
  std::vector<PciAddress> vfs;  // by index
};

struct ScaleHost {
  std::vector<ScalePf> pfs;  // in creation order (bus order, which is also name order)
  // A [[pool]] table listing every PF by interface name, VLANs 100-199.
  std::string pool_toml;
};

// Adds the PFs and their VFs to `tree` (drivers igb and igbvf are added when missing).
Result<ScaleHost> add_scale_pfs(FakeSysfsTree& tree, const ScaleHostSpec& spec);

}  // namespace vfhook::testing
