// SimulatedKernelSysfs: a DirSysfs over a fake tree (testing/fake_sysfs_tree.h) that
// reacts to writes the way the kernel does, so driver binding and VF creation can be tested
// end to end, including from the hook binary in black-box tests.
//
// Reactions (the value written is a PCI address unless said otherwise; trailing newline
// ignored). Every write first goes to the file itself, as DirSysfs would, then:
//   bus/pci/drivers_probe            binds an unbound device to its driver_override, or, when
//                                    none is set, to the driver named in <dev>/.default_driver
//                                    (what the kernel's ID tables would match). A device that
//                                    is bound already, or whose driver is not loaded
//                                    (no bus/pci/drivers/<drv>), stays as it is.
//   bus/pci/drivers/<drv>/unbind     removes <dev>/driver and drivers/<drv>/<bdf>; ENODEV when
//                                    the device is not bound to <drv>.
//   bus/pci/drivers/<drv>/bind       binds to <drv>; EBUSY when bound, ENODEV when
//                                    driver_override names another driver.
//   <dev>/driver_override            "\n" or "" stores "(null)", as the kernel shows it.
//   <pf>/sriov_numvfs                N creates virtfn0..N-1 (addresses from sriov_offset and
//                                    sriov_stride, each VF in a new IOMMU group, probed to
//                                    the driver named in <pf>/.vf_driver); 0 removes them.
//                                    EBUSY when changing a non-zero count, ERANGE above
//                                    sriov_totalvfs.
// Binding to vfio-pci creates <dev_root>/vfio/<group> (as the kernel creates /dev/vfio/N);
// the last vfio-pci device of a group leaving removes it.
// Fault injection: a device with a <dev>/.refuse_bind file never binds (drivers_probe leaves
// it unbound, bind fails with ENODEV), to test bounded waits and rollback.
#pragma once

#include <filesystem>
#include <optional>

#include "model/pci_address.h"
#include "vfio/sysfs.h"

namespace vfhook {

class SimulatedKernelSysfs : public DirSysfs {
 public:
  SimulatedKernelSysfs(std::filesystem::path sys_root, std::filesystem::path dev_root);

  Status write(std::string_view path, std::string_view value) override;

  // What the kernel does when a PCI function appears: devices/pci0000:00/<bdf> with
  // driver_override "(null)" and numa_node, the bus/pci/devices link, and membership of an
  // IOMMU group (a new one when `iommu_group` is nullopt). Returns the group. Used by
  // sriov_numvfs and by the fake tree builder; EEXIST when the device exists.
  Result<int> create_device(const PciAddress& address, std::optional<int> iommu_group,
                            int numa_node);

  [[nodiscard]] const std::filesystem::path& dev_root() const { return dev_root_; }

 private:
  Status drivers_probe(std::string_view bdf);
  Status unbind(const std::string& driver, std::string_view bdf);
  Status bind(const std::string& driver, std::string_view bdf, bool explicit_request);
  Status set_num_vfs(const std::string& pf_bdf, std::string_view value);
  Status remove_device(const std::string& bdf);

  std::filesystem::path dev_root_;
};

}  // namespace vfhook
