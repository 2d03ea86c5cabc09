#include "engine/live_reattach.h"

#include <algorithm>

#include "util/printable.h"

namespace vfhook {

VfPort reattach_port_as_vf_port(const ReattachPort& port, const PortRecord* record) {
  VfPort vf_port;
  vf_port.kind = PortKind::interface_hostdev;
  vf_port.managed = false;
  vf_port.host = port.vf;
  vf_port.mac = port.mac;
  vf_port.alias = port.alias;
  if (record && record->vlan && record->vlan->id != 0) vf_port.vlan_tag = record->vlan->id;
  return vf_port;
}

Result<std::optional<DomainXml>> with_reattach_ports(const DomainXml& domain) {
  VF_ASSIGN(marker, domain.move_marker());
  if (!marker || marker->mode != MoveMode::live_reattach) return std::optional<DomainXml>();
  VF_ASSIGN(records, domain.port_records());
  std::vector<std::pair<ReattachPort, PortRecord>> adding;
  std::vector<PortRecord> remaining = records;
  for (const ReattachPort& port : marker->ports) {
    if (!port.vf) continue;
    const bool present = std::any_of(domain.vf_ports().begin(), domain.vf_ports().end(),
                                     [&](const VfPort& p) { return p.alias == port.alias; });
    if (present) continue;
    const PortRecord* record = find_record(remaining, reattach_port_as_vf_port(port, nullptr));
    if (!record)
      return fail(ErrorKind::invalid_input, "the live re-attach marker lists port " +
                                                printable(port.alias, 64) +
                                                ", which has no vfhook port record in the domain");
    adding.emplace_back(port, *record);
    remaining.erase(remaining.begin() + (record - remaining.data()));
  }
  if (adding.empty()) return std::optional<DomainXml>();

  VF_ASSIGN(current, DomainXml::parse(domain.serialize()));
  VF_TRY(current.set_port_records(remaining));
  for (const auto& [port, record] : adding) {
    HostdevInterfaceSpec spec;
    spec.host = *port.vf;
    spec.mac = port.mac;
    if (record.vlan && record.vlan->id != 0) spec.vlan_tag = record.vlan->id;
    spec.managed = false;
    spec.alias = port.alias;
    VF_ASSIGN(next, with_context(current.with_hostdev_interface(spec, record),
                                 "re-attach port " + printable(port.alias, 64)));
    current = std::move(next);
  }
  return std::optional<DomainXml>(std::move(current));
}

}  // namespace vfhook
