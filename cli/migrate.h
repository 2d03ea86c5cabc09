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
// live  The guest keeps running: possible only for VF ports with virtio failover (<teaming>)
//       in pools that allow it on the destination; libvirt/QEMU (on this side) or the
//       destination's hook refuse anything else, and vfctl passes their reason on with what to
//       do. This host's reservations are dropped after the move; libvirt's release hook here
//       restored the VFs when the guest's QEMU ended.
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
