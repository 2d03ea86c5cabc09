// vfctl attach/detach --qmp: a VF hot-plugged into, or out of, a QEMU that libvirt does not
// manage, over its QMP socket (qmp/). libvirt is never contacted. The claims are recorded
// under DOMAIN, a name the operator chooses (a safe name: model/names.h is_safe_name), so the
// same engine operations as the libvirt hotplug (cli/hotplug.h) run on the same store.
//
// attach  asks QEMU first (query-memory-size-summary, query-pci: a free pcie-root-port, the
//         device ids in use) and refuses before anything changes when there is no free port;
//         chooses a free VF of the pool, a MAC and an alias; runs engine prepare_domain on a
//         domain holding only the new port as a plain <hostdev managed='no'> with its port
//         record (claim with snapshot, bind to vfio-pci, set MAC and VLAN, which for a plain
//         hostdev are vfhook's); then does what libvirt would for its own QEMU: gives the
//         VFIO group node to QEMU's user when QEMU is not root, and raises QEMU's
//         RLIMIT_MEMLOCK to guest RAM + 1 GiB when lower (VFIO pins all guest RAM); then
//         device_add (vfio-pci, id = alias, bus = the free port) and engine start_domain
//         (trust, spoofchk, link state, rates, VLAN QoS). Any failure undoes every step in
//         reverse: device_del if the device may be in the guest, then the VF restored and the
//         claim dropped. The group node's owner and the raised limit stay (harmless: QEMU
//         keeps running and may take another VF; libvirt does not undo them either).
// detach  reads the device's host address (qom-get .../ALIAS host), refuses unless it is a
//         VF DOMAIN has claimed, asks the guest to let go (device_del) and waits for
//         DEVICE_DELETED; only then is the VF restored and its claim dropped. A guest that
//         keeps the device changes nothing else: the result says so (the caller exits 3).
//
// QEMU's identity comes from the socket (SO_PEERCRED): whoever listens on it is the QEMU
// whose limits are raised. The claims are recorded under "qmp:DOMAIN" (qmp_claim_owner), so
// `vfctl gc`, which asks libvirt about every other owner, leaves them alone, and a libvirt
// domain called DOMAIN never shares them. Nothing releases them when such a QEMU exits: detach
// first, or restore the VF by hand.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli/hotplug.h"
#include "cli/port_commands.h"
#include "cli/process_control.h"
#include "engine/context.h"
#include "qmp/client.h"
#include "qmp/transport.h"

namespace vfhook {

// The claim owner of a QEMU outside libvirt named `name` by the operator: "qmp:" + name.
inline constexpr std::string_view kQmpClaimPrefix = "qmp:";
std::string qmp_claim_owner(const std::string& name);
bool is_qmp_claim_owner(std::string_view owner);

struct QmpHotplugTimeouts {
  Clock::Duration command = std::chrono::seconds(10);  // each query
  // device_add of a vfio-pci device pins all guest RAM first: seconds per hundred GiB.
  Clock::Duration device_add = std::chrono::seconds(120);
  // device_del until DEVICE_DELETED (detach; and attach's undo).
  Clock::Duration unplug = std::chrono::seconds(30);
};

// The QEMU process behind a QMP socket.
struct QemuProcess {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

struct QmpAttachment {
  std::string domain;
  std::string alias;  // QEMU's device id too
  MacAddress mac;
  AllocCandidate vf;
  PortRecord record;
  std::string root_port;  // the pcie-root-port the device went into
  QemuProcess qemu;
  uint64_t guest_ram_bytes = 0;
  std::vector<std::string> host_changes;  // what was changed for QEMU (group node, memlock)
};

// The bytes of guest RAM QEMU reports (query-memory-size-summary: base-memory, plus
// plugged-memory when present); invalid_input for a reply of the wrong shape or range.
Result<uint64_t> query_guest_ram(QmpClient& client, Clock::Duration timeout);

// attach over an open client to the QEMU `qemu`. `left_behind` is "" unless an undo failed:
// then it says what is left (the caller exits 3) and the error says what was refused.
Result<QmpAttachment> attach_port_qmp(const std::string& domain, const PortSpec& spec,
                                      QmpClient& client, const QemuProcess& qemu,
                                      ProcessControl& process, EngineContext& ctx,
                                      const QmpHotplugTimeouts& timeouts, std::string& left_behind);
// detach over an open client. Detachment::released false: the guest kept the device.
Result<Detachment> detach_port_qmp(const std::string& domain, const std::string& alias,
                                   QmpClient& client, EngineContext& ctx,
                                   const QmpHotplugTimeouts& timeouts);

// Connects to the QMP socket at `socket_path` (handshake within timeouts.command) and tells
// who QEMU is from the socket's peer credentials.
struct QmpConnection {
  QmpClient client;
  QemuProcess qemu;
};
Result<QmpConnection> connect_qmp(const std::string& socket_path, Clock& clock,
                                  const QmpHotplugTimeouts& timeouts);

// The `vfctl attach/detach --qmp` commands: connect_qmp, then the above.
Result<QmpAttachment> attach_port_qmp(const std::string& domain, const PortSpec& spec,
                                      const std::string& socket_path, ProcessControl& process,
                                      EngineContext& ctx, const QmpHotplugTimeouts& timeouts,
                                      std::string& left_behind);
Result<Detachment> detach_port_qmp(const std::string& domain, const std::string& alias,
                                   const std::string& socket_path, EngineContext& ctx,
                                   const QmpHotplugTimeouts& timeouts);

}  // namespace vfhook
