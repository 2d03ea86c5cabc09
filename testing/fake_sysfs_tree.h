// FakeSysfsTree: builds a realistic sysfs tree (and a /dev with vfio nodes) in a directory,
// for unit tests and the black-box tests of the hook binaries (also through the fake-sysfs
// CLI). Layout below <root>/sys mirrors the kernel's:
//   devices/pci0000:00/<bdf>/                      the device: driver_override, numa_node,
//                                                  sriov_{totalvfs,numvfs,offset,stride} (PF)
//   bus/pci/devices/<bdf> -> ../../../devices/pci0000:00/<bdf>
//   <dev>/driver          -> ../../../bus/pci/drivers/<drv>
//   <dev>/iommu_group     -> ../../../kernel/iommu_groups/<N>
//   kernel/iommu_groups/<N>/devices/<bdf> -> ../../../../devices/pci0000:00/<bdf>
//   <pf>/virtfn<i> -> ../<vf bdf>        <vf>/physfn -> ../<pf bdf>
//   bus/pci/drivers/<drv>/{bind,unbind,new_id,remove_id,<bdf> -> device}
//   bus/pci/drivers_probe
//   <dev>/net/<if>/{flags,operstate,device -> ../../../<bdf>}
//   class/net/<if> -> ../../devices/pci0000:00/<bdf>/net/<if>
// and <root>/dev/vfio/vfio plus <root>/dev/vfio/<N> for each group bound to vfio-pci.
// VFs are created the way the kernel does it, by writing sriov_numvfs through
// SimulatedKernelSysfs (addresses from First VF Offset and VF Stride, a new IOMMU group each).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/pci_address.h"
#include "testing/simulated_kernel_sysfs.h"
#include "util/result.h"

namespace vfhook::testing {

struct PfSpec {
  PciAddress address;
  std::string netdev;  // empty: the PF has no netdev
  std::string driver = "igb";
  int total_vfs = 7;
  int num_vfs = 0;
  int numa_node = 0;
  bool up = true;
  std::string vf_driver = "igbvf";  // the driver new VFs are probed to; empty = none
  int vf_offset = 0x80;             // Intel 82576 (igb): VF0 of 01:00.0 is 01:10.0
  int vf_stride = 2;
  std::map<int, std::optional<std::string>> vf_drivers;  // per VF: other driver, or unbound
  std::map<int, std::string> vf_netdevs;                 // per VF: its own netdev
};

struct DeviceSpec {
  std::optional<std::string> driver;  // bound to it when set
  std::optional<int> iommu_group;     // nullopt: a group of its own
  int numa_node = 0;
};

class FakeSysfsTree {
 public:
  // Creates <root>/sys and <root>/dev (root must exist) with the fixed skeleton; vfio-pci is
  // loaded unless `with_vfio_pci` is false.
  static Result<std::unique_ptr<FakeSysfsTree>> create(std::filesystem::path root,
                                                       bool with_vfio_pci = true);

  [[nodiscard]] std::filesystem::path sys_root() const { return root_ / "sys"; }
  [[nodiscard]] std::filesystem::path dev_root() const { return root_ / "dev"; }
  // The simulated kernel over this tree: use it as the Sysfs of the code under test.
  SimulatedKernelSysfs& kernel() { return kernel_; }

  Status add_driver(const std::string& name);
  // A PCI function; returns its IOMMU group.
  Result<int> add_device(const PciAddress& address, const DeviceSpec& spec);
  // A PF with spec.num_vfs VFs; returns the VF addresses by index.
  Result<std::vector<PciAddress>> add_pf(const PfSpec& spec);
  Status add_netdev(const std::string& ifname, const PciAddress& device, bool up);
  Status set_admin_up(const std::string& ifname, bool up);
  // Fault injection: the device never binds to any driver from now on.
  Status refuse_bind(const PciAddress& address);

  // Raw access below sys/, e.g. for hostile link targets. Creates parents as needed and
  // replaces what was there.
  Status write_file(const std::string& path, const std::string& content);
  Status make_link(const std::string& path, const std::string& target);

 private:
  explicit FakeSysfsTree(std::filesystem::path root);

  std::filesystem::path root_;
  SimulatedKernelSysfs kernel_;
};

// A temporary directory removed with everything in it when destroyed.
class TempDir {
 public:
  // Below $TMPDIR (or /tmp), or below `base` when given (e.g. /dev/shm: an in-memory
  // filesystem, like the real sysfs).
  TempDir();
  explicit TempDir(const std::string& base);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace vfhook::testing
