// PciTopology: what sysfs says about PFs, VFs, drivers and IOMMU groups on this host.
//
// Read-only. Everything read is untrusted and parsed strictly: a link target counts only by
// its last component, which must be a canonical PCI address, a safe driver name or a decimal
// group number; anything else ("../../etc") is an invalid_input error naming the link.
// Paths are built only from parsed PciAddress values and names checked by is_safe_name().
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/pci_address.h"
#include "util/result.h"
#include "vfio/sysfs.h"

namespace vfhook {

struct VfInfo {
  PciAddress address;
  PciAddress pf;
  std::string pf_name;                // the PF's netdev; empty when the PF has none
  int index = 0;                      // N of the PF's virtfnN link
  std::optional<std::string> driver;  // nullopt = not bound
  std::optional<std::string> netdev;  // the VF's own netdev when a host driver holds it
  int iommu_group = -1;
  int numa_node = -1;  // -1 = unknown
};

struct PfInfo {
  PciAddress address;
  std::string name;  // netdev; empty when the PF has none (driver unbound)
  std::optional<std::string> driver;
  int total_vfs = 0;
  int num_vfs = 0;
  int numa_node = -1;
  std::vector<VfInfo> vfs;  // by VF index
};

// Reads the PCI topology from sysfs. One object serves one decision (a plan, a listing):
// it remembers each PF's virtfn links and netdev once read, so make a new one after VF counts
// or a PF's netdev change.
class PciTopology {
 public:
  explicit PciTopology(Sysfs& sysfs) : sysfs_(sysfs) {}

  // A PF by netdev name (class/net/<name>/device) or PCI address. Refuses a device that is
  // not SR-IOV capable (no sriov_totalvfs).
  Result<PfInfo> pf(std::string_view name_or_address);
  // nullopt when the device exists but is not a VF (no physfn link).
  Result<std::optional<VfInfo>> vf(const PciAddress& address);
  // nullopt when no driver is bound.
  Result<std::optional<std::string>> driver(const PciAddress& address);
  Result<int> iommu_group(const PciAddress& address);
  Result<std::vector<PciAddress>> iommu_group_devices(int group);
  // IFF_UP from class/net/<ifname>/flags.
  Result<bool> netdev_admin_up(std::string_view ifname);
  // Whether any netdev of the device is admin up; false when it has none. Found under the
  // device (<dev>/net/<name>/flags), not by a name read earlier: udev renames a new VF's
  // eth<N> while vfhook works, and a later eth<N> may be another device. A name that goes away
  // between listing and reading is listed again (a few times) rather than taken for "up".
  Result<bool> device_admin_up(const PciAddress& address);
  // The PCI function behind a netdev (class/net/<ifname>/device); nullopt when there is no
  // such interface, or it is not a PCI device, or the name could not be one.
  Result<std::optional<PciAddress>> device_of_netdev(std::string_view ifname);
  // The same answer from one lookup instead of two: the target of class/net/<ifname> itself,
  // which the kernel points at <device>/net/<ifname>, names the device. For callers that
  // resolve many interfaces at once (a pool's PFs, each time a VF is chosen).
  Result<std::optional<PciAddress>> device_of_netdev_by_class_link(std::string_view ifname);
  // The first netdev under the device (devices/.../net/<if>), nullopt when none.
  Result<std::optional<std::string>> netdev(const PciAddress& address);
  Result<int> numa_node(const PciAddress& address);

 private:
  Result<PciAddress> address_from_link(const std::string& path);
  // What the PF listing already knows of a VF: its PF's netdev name and the N of the virtfnN
  // link it came from. With it, the VF's index is not searched for again (that search lists
  // the PF's directory and reads every virtfn link: done per VF, a PF listing is quadratic).
  struct KnownPf {
    const std::string& name;
    int index;
  };
  Result<std::optional<VfInfo>> vf_with_pf(const PciAddress& address, const KnownPf* known);
  // The PF's VFs by address with their index (the N of virtfnN), read once per PciTopology:
  // a plan asks for several VFs of one PF, and a PF may have a hundred. The lowest index wins
  // where two links name one VF.
  Result<const std::map<PciAddress, int>*> virtfn_indices(const PciAddress& pf);

  Sysfs& sysfs_;
  std::map<PciAddress, std::map<PciAddress, int>> virtfn_indices_;
  std::map<PciAddress, std::string> pf_netdevs_;  // "" when the PF has none
};

// Device directory for a PCI address below the sysfs root: "bus/pci/devices/<bdf>".
std::string pci_device_path(const PciAddress& address);

// Strict decimal parse of a small integer: digits with an optional leading minus (sysfs counts
// and group numbers; numa_node reads -1). Callers refuse what must not be negative.
Result<int> parse_sysfs_int(std::string_view text, std::string_view what);

}  // namespace vfhook
