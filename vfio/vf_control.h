// VF admin settings through the PF: read one VF's state, and apply a partial set of settings
// with verification.
//
// apply_vf_settings sends one attribute per request, in a fixed order (mac, vlan, spoofchk,
// trust, link_state, rates), then reads the VF back once and checks every field it set. It
// stops at the first refusal and does NOT undo: the caller snapshots the VF beforehand and
// owns rollback. Errors name the PF, the VF and the attribute, e.g.
//   "PF enp1s0 VF 3: driver refused trust on: Operation not supported (EOPNOTSUPP)"
//   "PF enp1s0 VF 3: spoofchk on did not stick: the driver reports off"
#pragma once

#include <string_view>

#include "model/vf_settings.h"
#include "util/result.h"
#include "vfio/vf_netlink.h"

namespace vfhook {

// not_found when the PF has no VF with that index.
Result<VfState> read_vf(VfNetlink& netlink, std::string_view pf, int vf);

// Refuses (invalid_input, before sending anything) a VLAN id above 4094, a QoS above 7,
// a QoS or 802.1ad without a VLAN id, a multicast MAC, and min rate above a non-zero max.
Status apply_vf_settings(VfNetlink& netlink, std::string_view pf, int vf,
                         const VfSettings& settings);

}  // namespace vfhook
