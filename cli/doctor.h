// `vfctl doctor`: pre-flight checks of a host before guests get VFs through vfhook. Each check
// says what it found and, when something is wrong, what the operator runs to fix it.
//
// Read-only: sysfs through the Sysfs interface (rooted at /sys on a host), every other file
// through HostFiles, PF link state through VfNetlink, the defined domains through Libvirt. Nothing
// is written, loaded or executed (no modprobe, no virsh, no shell). Every file's content is
// untrusted and parsed strictly; a file that cannot be read or parsed makes its check a warning or
// failure that says so, never a crash or a silent pass. The checks are independent: a broken config
// skips only the checks that need its pools.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/host_files.h"
#include "cli/libvirt.h"
#include "policy/config.h"
#include "util/result.h"
#include "vfio/sysfs.h"
#include "vfio/vf_netlink.h"

namespace vfhook {

struct DoctorCheck {
  enum class Status { ok, warning, failed };

  std::string name;  // stable, for scripts: "iommu", "pf provider/enp1s0", "hook", ...
  Status status = Status::ok;
  std::string found;  // what the check saw
  std::string fix;    // for warning and failed: what to do about it; "" when ok
};
std::string_view to_string(DoctorCheck::Status status);  // "ok", "warning", "failed"

// Where vfhook is installed; vfctl passes its build's paths, tests their own.
// Where vfhook's package notes that its postinst reloaded libvirt's daemon after installing
// the hook, one line per reload: "<libvirtd|virqemud> <pid> <epoch seconds>". A reload keeps
// the daemon's start time, so without this note `libvirt-reload` cannot tell a hook libvirt
// has seen from one it has not. In /run: a reboot restarts the daemon anyway.
inline constexpr const char* kLibvirtReloadStamp = "/run/vfhook/libvirt-reloaded";

struct DoctorPaths {
  std::string hook = "/etc/libvirt/hooks/qemu.d/vfhook";
  std::string hook_core;  // the core library the hook loads; "" skips its check
};

struct DoctorInputs {
  std::string config_path;
  // The config as load_config() returned it: its error is the config check's finding.
  const Result<HostConfig>& config;
  Sysfs& sysfs;  // rooted at /sys
  HostFiles& files;
  // PF link state; an error (netlink could not be opened) turns those checks into warnings.
  Result<VfNetlink*> netlink;
  DoctorPaths paths;
  // The libvirt connection, for the domains' memory limits; nullptr when it could not be
  // opened (libvirt_error says why: that check becomes a warning).
  Libvirt* libvirt = nullptr;
  std::string libvirt_error;
};

// Runs every check, in the order an operator fixes things: kernel (IOMMU, interrupt
// remapping, vfio-pci), config, the pools' PFs and VFs, the hook and libvirt, the state.
std::vector<DoctorCheck> run_doctor(const DoctorInputs& inputs);

// True when no check failed (warnings allowed).
bool doctor_passed(const std::vector<DoctorCheck>& checks);

}  // namespace vfhook
