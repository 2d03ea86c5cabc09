#include "vfio/driver_binding.h"

#include <cerrno>

#include "vfio/pci_topology.h"

namespace vfhook {
namespace {

constexpr auto kPollStep = std::chrono::milliseconds(10);

std::string driver_name(const std::optional<std::string>& driver) {
  return driver ? *driver : std::string("none");
}

}  // namespace

DriverBinder::DriverBinder(Sysfs& sysfs, Clock& clock, Clock::Duration timeout)
    : sysfs_(sysfs), clock_(clock), timeout_(timeout) {}

Result<std::optional<std::string>> DriverBinder::wait_for_driver(
    const PciAddress& address, const std::optional<std::string>& want) {
  PciTopology topology(sysfs_);
  const auto deadline = clock_.now() + timeout_;
  for (;;) {
    VF_ASSIGN(current, topology.driver(address));
    if (current == want || clock_.now() >= deadline) return current;
    clock_.sleep_for(kPollStep);
  }
}

Status DriverBinder::write_driver_file(const std::string& driver, const char* file,
                                       const PciAddress& address) {
  if (!is_safe_name(driver)) {
    return fail(ErrorKind::invalid_input, "invalid driver name '" + driver + "'");
  }
  const std::string path = "bus/pci/drivers/" + driver + "/" + file;
  const auto deadline = clock_.now() + timeout_;
  for (;;) {
    Status written = sysfs_.write(path, address.to_string());
    // The kernel adds a driver's bind and unbind files only after the driver has probed every
    // device it matches (bus_add_driver). Right after sriov_numvfs creates VFs, udev may still
    // be loading their driver's module while the first VFs already name it as their driver.
    if (written || written.error().sys_errno != ENOENT || clock_.now() >= deadline) return written;
    clock_.sleep_for(kPollStep);
  }
}

Status DriverBinder::unbind(const PciAddress& address, const std::string& driver) {
  return write_driver_file(driver, "unbind", address);
}

Status DriverBinder::clear_override(const PciAddress& address) {
  // A lone newline clears driver_override (an empty write is ignored by older kernels).
  return sysfs_.write(pci_device_path(address) + "/driver_override", "\n");
}

Status DriverBinder::rebind_original(const PciAddress& address,
                                     const std::optional<std::string>& original) {
  PciTopology topology(sysfs_);
  VF_TRY(clear_override(address));
  VF_ASSIGN(current, topology.driver(address));
  if (current == original) return ok();
  if (current) VF_TRY(unbind(address, *current));
  if (!original) return ok();
  VF_TRY(write_driver_file(*original, "bind", address));
  VF_ASSIGN(now, wait_for_driver(address, original));
  if (now != original) {
    return fail(ErrorKind::timeout, "driver is " + driver_name(now) + ", not " + *original);
  }
  return ok();
}

Status DriverBinder::bind_to_vfio(const PciAddress& address) {
  const std::string bdf = address.to_string();
  PciTopology topology(sysfs_);
  auto original_result = topology.driver(address);
  if (!original_result) return fail(original_result.error().with_context(bdf));
  const std::optional<std::string> original = *original_result;
  if (original == kVfioPciDriver) return ok();
  VF_TRY(with_context(check_vfio_pci_loaded(sysfs_), bdf));

  // Any failure from here on undoes what was done and reports both.
  auto undo_and_fail = [&](Error error) -> Status {
    auto undo = rebind_original(address, original);
    std::string message = bdf + ": binding to vfio-pci failed: " + error.message;
    if (undo) {
      message += "; restored driver " + driver_name(original);
    } else {
      message +=
          "; restoring driver " + driver_name(original) + " ALSO failed: " + undo.error().message;
    }
    error.message = std::move(message);
    return fail(std::move(error));
  };

  if (auto st =
          sysfs_.write(pci_device_path(address) + "/driver_override", std::string(kVfioPciDriver));
      !st) {
    return undo_and_fail(st.error());
  }
  if (original) {
    if (auto st = unbind(address, *original); !st) return undo_and_fail(st.error());
  }
  if (auto st = sysfs_.write("bus/pci/drivers_probe", bdf); !st) {
    return undo_and_fail(st.error());
  }
  auto now = wait_for_driver(address, std::string(kVfioPciDriver));
  if (!now) return undo_and_fail(now.error());
  if (*now != kVfioPciDriver) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout_).count();
    return undo_and_fail(Error{ErrorKind::timeout,
                               "the kernel did not bind it within " + std::to_string(ms) +
                                   " ms (driver now: " + driver_name(*now) + ")",
                               0});
  }
  return ok();
}

Status DriverBinder::restore_driver(const PciAddress& address,
                                    const std::optional<std::string>& original) {
  const std::string bdf = address.to_string();
  auto in_context = [&](Error error) -> Status {
    return fail(error.with_context(bdf + ": restoring driver " + driver_name(original)));
  };
  if (original && !is_safe_name(*original)) {
    return fail(ErrorKind::invalid_input, bdf + ": invalid driver name '" + *original + "'");
  }
  PciTopology topology(sysfs_);
  if (auto st = clear_override(address); !st) return in_context(st.error());
  auto current = topology.driver(address);
  if (!current) return in_context(current.error());
  if (*current == original) return ok();
  if (*current) {
    if (auto st = unbind(address, **current); !st) return in_context(st.error());
  }
  if (!original) {
    auto now = wait_for_driver(address, std::nullopt);
    if (!now) return in_context(now.error());
    if (*now) {
      return in_context(Error{ErrorKind::timeout, "still bound to " + **now, 0});
    }
    return ok();
  }
  if (auto st = sysfs_.write("bus/pci/drivers_probe", bdf); !st) return in_context(st.error());
  auto now = wait_for_driver(address, original);
  if (!now) return in_context(now.error());
  if (*now == original) return ok();
  if (!*now) {
    // Drivers such as pci-stub match no device on their own: ask for the bind explicitly.
    if (auto st = sysfs_.write("bus/pci/drivers/" + *original + "/bind", bdf); !st) {
      return in_context(st.error());
    }
    now = wait_for_driver(address, original);
    if (!now) return in_context(now.error());
    if (*now == original) return ok();
  }
  return in_context(
      Error{ErrorKind::timeout, "the device ended up on driver " + driver_name(*now), 0});
}

Status check_vfio_pci_loaded(Sysfs& sysfs) {
  if (sysfs.exists("bus/pci/drivers/vfio-pci")) return ok();
  return fail(ErrorKind::policy,
              "the vfio-pci driver is not loaded: run `modprobe vfio-pci` (and add vfio-pci to "
              "/etc/modules-load.d/ to keep it across reboots)");
}

Status check_iommu_group_viable(Sysfs& sysfs, const PciAddress& address,
                                std::optional<int> known_group) {
  PciTopology topology(sysfs);
  const std::string bdf = address.to_string();
  Result<int> group = known_group ? Result<int>(*known_group) : topology.iommu_group(address);
  if (!group) return fail(group.error().with_context(bdf));
  auto devices = topology.iommu_group_devices(*group);
  if (!devices) return fail(devices.error().with_context(bdf));
  std::string offenders;
  for (const auto& other : *devices) {
    if (other == address) continue;
    auto driver = topology.driver(other);
    if (!driver) return fail(driver.error().with_context(bdf));
    if (!*driver || **driver == "vfio-pci" || **driver == "pci-stub") continue;
    if (!offenders.empty()) offenders += ", ";
    offenders += other.to_string() + " (driver " + **driver + ")";
  }
  if (offenders.empty()) return ok();
  return fail(ErrorKind::policy,
              bdf + ": IOMMU group " + std::to_string(*group) + " is not viable: it also holds " +
                  offenders +
                  "; VFIO needs every device of the group unbound or on vfio-pci/pci-stub");
}

bool vfio_group_node_present(Sysfs& dev_root, int group) {
  if (group < 0) return false;
  return dev_root.exists("vfio/" + std::to_string(group));
}

}  // namespace vfhook
