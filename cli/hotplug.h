// vfctl attach / detach: a VF port hot-plugged into, or out of, a running guest through
// libvirt. No qemu hook runs on hotplug, so these do the hook's work around libvirt's call,
// with the same engine operations:
//
// attach  choose a free VF (as `port add`), prepare it (plan, claim with a snapshot, bind to
//         vfio-pci: engine prepare_domain on the new port alone), attach it live, then apply
//         what libvirt cannot (engine start_domain on the new port). Any failure undoes every
//         step: the device is detached again, the VF restored, the claim dropped. With
//         `persistent`, the definition gets the device and its port record too (and the VF is
//         reserved); should that fail, the guest keeps the device and the result says so.
// detach  ask the guest to let go of the device and wait for libvirt's DEVICE_REMOVED, then
//         re-read the live XML; only when the device is gone is the VF restored and its claim
//         dropped. A guest that keeps the device changes nothing else: the result says so.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "cli/libvirt.h"
#include "cli/port_commands.h"
#include "engine/context.h"
#include "engine/outcome.h"

namespace vfhook {

struct Attachment {
  PortAddition port;
  bool persistent = false;
  std::string left_behind;  // "" unless the persistent part failed after the live attach
};

Result<Attachment> attach_port(const std::string& domain, const PortSpec& spec, bool persistent,
                               Libvirt& libvirt, EngineContext& ctx);

struct Detachment {
  std::string domain;
  std::string alias;
  std::optional<PciAddress> vf;
  bool released = false;    // false: the guest kept the device; nothing was changed
  std::string left_behind;  // what is left undone (the guest's refusal, a failed restore)
};

Result<Detachment> detach_port(const std::string& domain, const std::string& alias, bool persistent,
                               std::chrono::milliseconds timeout, Libvirt& libvirt,
                               EngineContext& ctx);

// Puts a port back into the running guest that detach_port took out while the definition (with
// its port record) kept it: `element` says the VF, MAC, VLAN tag, alias and guest address.
// Does the hook's work around libvirt's attach as attach_port does (prepare on the port alone,
// attach, start) and undoes every step on failure; the definition is not touched. vfctl migrate
// --live uses it to give the guest its VF back when the move does not happen.
Status reattach_port(const std::string& domain, const HostdevInterfaceSpec& element,
                     const PortRecord& record, Libvirt& libvirt, EngineContext& ctx);

// Shared with the QMP hotplug (cli/qmp_hotplug.h).
//
// An engine Outcome's error or refusals (and failed undo steps) as one line.
std::string outcome_text(const Outcome& outcome);
// Every claim `domain` holds, in one store transaction.
Result<std::vector<Claim>> claims_of_domain(const std::string& domain, EngineContext& ctx);
// Restores `vf` and drops its claim, if `domain` holds one (another domain's claim of it is
// never touched); "" when that worked, else what went wrong (the claim is then kept).
std::string undo_claim(const std::string& domain, const PciAddress& vf, EngineContext& ctx);

}  // namespace vfhook
