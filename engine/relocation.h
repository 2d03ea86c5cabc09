// Relocation: a domain arriving on this host (the destination of a migration, live or offline,
// or `virsh restore`) gets a VF of the same pool here for every VF port. libvirt runs the
// migrate/restore hook with the domain's definition on stdin and uses what the hook prints
// instead; its ABI check allows only the host source address of a hostdev to change.
//
// For each VF port (hostdev interfaces and plain hostdevs of a VF pool):
//  - the pool is the port record's; a port without a record belongs to the pool whose PF holds
//    the VF its source address names on this host, and is left to libvirt when there is none;
//  - the pool's VLAN, trust and spoofchk rules are checked here, as prepare will check them;
//  - the port keeps its source address when that is a VF of the pool here (in its vf_range)
//    that this domain already holds or reserves (a second migrate, a restore on the same host),
//    or that nobody holds, the host does not use, and that is NUMA-local to the guest's pinned
//    memory (or either NUMA node is unknown). Keeping a free VF that happens to share the source
//    host's address changes nothing the allocator would improve on, and saves a rewrite;
//  - otherwise the allocator (engine/port_allocation.h: choose_free_vf) picks one, with the
//    domain's other ports' VFs excluded.
// Only the host source address changes, and the `host` key of a record that names a <hostdev>
// by it (the record must keep describing its device); MAC, VLAN, alias, guest address,
// <teaming> and every other record field stay as they were.
//
// Ports of a hostdev network (<interface type='network'>) keep no VF across hosts: libvirt's
// network on this host chooses one at start. Their record's pool and VLAN are checked.
// A whole device (a pool in "pf" mode) is never re-allocated: it keeps its address if that
// device is in the pool here and nobody else holds it, else the domain is refused.
//
// virtio-net failover: a teamed VF port (<teaming type='transient'>) is the only kind that can
// arrive by a LIVE migration (libvirt refuses to migrate any other VF live, on the source), and
// this hook cannot tell live from offline. So a teamed port whose pool HERE has failover = false
// is refused, unless the domain carries a cold-move marker (model/move_marker.h) that has not
// expired by ctx.clock.wall_now(): `vfctl migrate --cold` sets it for an offline move. An
// invalid marker refuses the domain; an expired one counts as absent. Any marker (valid or
// expired) is removed from the definition handed on, which is then always printed, so it never
// travels to a further host; only an unexpired live re-attach marker stays (see below), and
// it never makes a move cold. A port that is not teamed can only arrive offline and is
// re-pointed whatever the switch says. Restore follows the same rules (only a teamed guest can
// be saved). A domain without VF ports is left as it is, marker and all.
//
// Live re-attach (model/move_marker.h, engine/live_reattach.h): a domain arriving with a valid,
// unexpired live re-attach marker gets, for each listed port that has no device in the XML, a
// free VF of its record's pool chosen by the allocator's rules (after the pool's rules are
// checked as for any port), reserved with the others, and written into the marker as vf=,
// which stays in the definition printed (prepare and start here read it; vfctl removes it). A
// listed port without a record, or whose record names a pool this host lacks, is refused. An
// expired live re-attach marker is removed and no VF is chosen: the guest arrives on its
// virtio path only.
//
// All or nothing: the new definition is checked with plan_ports() as prepare will check it,
// then every port's device is reserved for the domain. Should any reservation fail (another
// hook took the VF meanwhile), the reservations this call made are dropped and the whole choice
// is made again (at most kRelocationAttempts times). A refusal changes nothing on the host.
// The reservations stay when libvirt later abandons the migration; `vfctl gc` drops the
// reservations of domains that are not defined here.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/outcome.h"
#include "xml/domain_xml.h"

namespace vfhook {

inline constexpr int kRelocationAttempts = 3;

// What happened to one VF port.
struct PortMove {
  std::string port;                // VfPort::describe(), as in the incoming XML
  std::optional<PciAddress> from;  // the incoming host source address
  PciAddress to;                   // the device it uses on this host
  bool kept = false;               // `to` == `from`: the address was not rewritten
};

struct Relocation {
  Outcome outcome;
  // The new definition, only when an address (or a record's host key) changed or a cold-move
  // marker was removed: what the hook prints. nullopt when the incoming XML stands as it is, or the
  // outcome is not ok().
  std::optional<std::string> rewritten_xml;
  std::vector<PortMove> moves;  // the ports vfhook manages, in document order
};

enum class Arrival { migrate, restore };

Relocation relocate_domain(const std::string& domain_name, const DomainXml& domain, Arrival arrival,
                           EngineContext& ctx);

}  // namespace vfhook
