// Live re-attach: the destination's side of `vfctl migrate --live` for VF ports without virtio
// failover (model/move_marker.h). vfctl detached those ports on the source and migrated the
// guest with a live re-attach marker in its live XML; the migrate hook here wrote into it the
// VF it chose and reserved for each port. No hook runs at the attach vfctl then makes through
// this host's libvirt, so prepare and start, which do run for the incoming migration, must do
// the hook's work for those VFs then: claim with a snapshot, bind to vfio-pci, apply what
// libvirt cannot (spoofchk, trust, QoS, rates, link state). They do it by seeing the domain as
// if each such port were already one of its devices: with_reattach_ports(). Release restores
// them from their claims like any other.
#pragma once

#include <optional>

#include "util/result.h"
#include "xml/domain_xml.h"

namespace vfhook {

// The domain with one <interface type='hostdev' managed='no'> per port of its live re-attach
// marker that has a chosen VF and no device of its alias in the domain yet (the port vfctl will
// attach): the chosen VF as host source, the marker's MAC, the record's VLAN as the tag, the
// port's alias, and its port record (found by alias, else MAC) moved along with it.
// nullopt when there is nothing to add: no marker, an offline one, or every listed port without
// a VF or already present. Expiry is not checked: the migrate hook that wrote the VFs checked it
// for this very arrival, and the marker lives only in the running domain's XML.
// invalid_input for an invalid marker, or a listed port without a port record.
Result<std::optional<DomainXml>> with_reattach_ports(const DomainXml& domain);

// The VfPort a marker's port stands for before it has a device: alias, MAC, an
// <interface type='hostdev'>, managed='no', with the record's VLAN as its tag. For matching
// records (find_record) and checking the pool's rules.
VfPort reattach_port_as_vf_port(const ReattachPort& port, const PortRecord* record);

}  // namespace vfhook
