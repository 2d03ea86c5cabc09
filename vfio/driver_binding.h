// Driver binding: moving a PCI function between its host driver and vfio-pci through sysfs,
// the way the kernel documents it (driver_override, unbind, drivers_probe), with a bounded
// wait and undo on failure.
//
// DriverBinder owns no state: it reads the current driver from sysfs each time. It never
// touches a device other than the one it is given, and never waits longer than its timeout
// (a libvirt hook that hangs blocks the domain forever).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "model/pci_address.h"
#include "util/clock.h"
#include "util/result.h"
#include "vfio/sysfs.h"

namespace vfhook {

inline constexpr std::string_view kVfioPciDriver = "vfio-pci";

class DriverBinder {
 public:
  DriverBinder(Sysfs& sysfs, Clock& clock, Clock::Duration timeout = std::chrono::seconds(2));

  // Binds the device to vfio-pci: driver_override=vfio-pci, unbind from the current driver,
  // drivers_probe, then polls (10 ms steps) until the driver link says vfio-pci. Does nothing
  // when it already is on vfio-pci. On failure clears the override and rebinds the original
  // driver, and the error says what happened and whether the undo worked.
  Status bind_to_vfio(const PciAddress& address);

  // Gives the device back: clears driver_override, unbinds it from its current driver (unless
  // that already is `original`), then lets the kernel probe it and verifies `original` got it
  // (falling back to an explicit bind for drivers that only bind on request, e.g. pci-stub).
  // With `original` nullopt the device is left unbound.
  Status restore_driver(const PciAddress& address, const std::optional<std::string>& original);

 private:
  // Polls until the device's driver equals `want` (nullopt = unbound) or the timeout ends.
  // Returns the driver seen last.
  Result<std::optional<std::string>> wait_for_driver(const PciAddress& address,
                                                     const std::optional<std::string>& want);
  // Writes the address to bus/pci/drivers/<driver>/<file> ("bind", "unbind"), waiting up to the
  // timeout for a file that is not there yet (a driver still registering).
  Status write_driver_file(const std::string& driver, const char* file, const PciAddress& address);
  Status unbind(const PciAddress& address, const std::string& driver);
  Status clear_override(const PciAddress& address);
  Status rebind_original(const PciAddress& address, const std::optional<std::string>& original);

  Sysfs& sysfs_;
  Clock& clock_;
  Clock::Duration timeout_;
};

// vfio-pci must be loaded (bus/pci/drivers/vfio-pci exists); a policy error says how to fix.
Status check_vfio_pci_loaded(Sysfs& sysfs);

// VFIO hands a guest a whole IOMMU group: every OTHER device in the device's group must be
// unbound or held by vfio-pci / pci-stub. The error lists the offending devices and drivers.
// `known_group` is the device's group when the caller has just read it.
Status check_iommu_group_viable(Sysfs& sysfs, const PciAddress& address,
                                std::optional<int> known_group = std::nullopt);

// Whether /dev/vfio/<group> exists; `dev_root` is a Sysfs rooted at the dev directory
// ("/dev" on a host), so the same path checks apply.
bool vfio_group_node_present(Sysfs& dev_root, int group);

}  // namespace vfhook
