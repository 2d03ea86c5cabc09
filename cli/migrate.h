// vfctl migrate: moves a domain with VF ports to another libvirt host. Every port keeps its MAC,
// VLAN, alias, guest PCI address and port record, so the guest keeps its NIC name and, through
// the DHCP reservations `vfctl dhcp-hosts` exports, its IP; only the host VF behind it changes.
// The destination's migrate hook picks that VF (engine/relocation.h) and reserves it there.
//
// cold  The domain must be off, or `shutdown` asks the guest to shut down and waits (and
//       `force_off` stops it hard when it does not). vfctl marks the definition as a cold move
//       (a metadata element the destination's hook reads, then strips: a pool without failover
//       lets a teamed port arrive only that way), migrates the definition (offline, peer to
//       peer, PERSIST_DEST | UNDEFINE_SOURCE), drops this host's reservations for the domain,
//       and starts it on the destination.
// live  The guest keeps running. A VF port with virtio failover (<teaming>) is unplugged by
//       QEMU and re-plugged by the destination's hook (in a pool with failover = true there).
//       Any other VF port (libvirt refuses to migrate it live) is detached here first and
//       attached again there: refused up front, changing nothing, unless each such port is an
//       <interface type='hostdev'> with a user alias, a MAC and a port record, and the guest
//       has a virtio interface to keep its network on meanwhile. vfctl puts a live re-attach
//       marker into the running domain (model/move_marker.h), detaches each port (waiting for
//       DEVICE_REMOVED; its VF is restored here), and migrates; the destination's hooks choose,
//       reserve, claim, bind and configure a VF of the port's pool (engine/live_reattach.h);
//       vfctl attaches it through the destination's libvirt with the same MAC, VLAN, alias and
//       guest address, and removes the marker. A refusal or failure before the guest moved
//       re-attaches the ports here (same VF) and removes the marker: the guest keeps running
//       here with its network. After it moved, a port not re-attached is `left_behind` with the
//       `vfctl attach` to run there; the guest runs there on its virtio path. This host's
//       reservations are dropped after the move; libvirt's release hook here restored the
//       VFs of teamed ports when the guest's QEMU ended.
//
// Failures leave the domain defined (and startable) on one side, and the result says which:
// before the migration returns, nothing has moved (the marker is taken off again); after it,
// the domain is on the destination, and a failed start or reservation drop is `left_behind`.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cli/libvirt.h"
#include "engine/context.h"
#include "model/pci_address.h"

namespace vfhook {

// How long the destination's hook honours the cold-move marker: longer than any offline
// migration takes (it moves one definition), short enough that a marker left behind by a crash
// cannot let a much later live migration through.
inline constexpr int64_t kColdMoveMarkerLifetimeSeconds = 600;

struct MigrationRequest {
  std::string domain;
  std::string dest_uri;
  MigrationKind kind = MigrationKind::offline;
  bool shutdown = false;  // cold: a running guest is asked to shut down first
  std::chrono::seconds shutdown_timeout{120};
  bool force_off = false;  // cold: stopped hard when still running after shutdown_timeout
  bool start = true;       // cold: started on the destination afterwards
  int64_t now_unix = 0;    // wall-clock time, for the marker's expiry
  // live: how long a VF port without failover may take to leave the guest (DEVICE_REMOVED)
  std::chrono::milliseconds detach_timeout{std::chrono::seconds(30)};
};

struct MovedPort {
  std::string port;                // VfPort::describe() on this host
  std::optional<PciAddress> from;  // the VF here
  std::optional<PciAddress> to;    // the VF the destination gave it
};

struct MigrationReport {
  std::string domain;
  std::string dest_uri;
  MigrationKind kind = MigrationKind::offline;
  bool shut_down = false;  // vfctl shut the guest down (or stopped it: forced_off)
  bool forced_off = false;
  std::vector<MovedPort> ports;
  std::vector<PciAddress> dropped_reservations;  // on this host
  bool started = false;                          // cold: running on the destination
  std::string left_behind;  // "" when everything was done; else what is left, and where
};

// Progress lines for the operator, as each step begins.
using MigrationProgress = std::function<void(const std::string& line)>;

// `source` is this host's libvirt, `dest` a connection to `request.dest_uri` (vfctl reads the
// result and starts the domain through it). `ctx` is this host's engine context. An error means
// the domain did not move; the message says where it is and what to do.
Result<MigrationReport> migrate_domain_to(const MigrationRequest& request, Libvirt& source,
                                          Libvirt& dest, EngineContext& ctx,
                                          const MigrationProgress& progress);

std::string migration_text(const MigrationReport& report);

}  // namespace vfhook
