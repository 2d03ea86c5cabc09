// Failover parking: the source's side of a live migration with virtio failover, as vfctl runs
// it (cli/migrate.h).
//
// When the migration begins, QEMU asks the guest to unplug each failover VF (the primary of a
// <teaming> pair); the guest falls back on its virtio standby, and QEMU keeps the device open
// (it plugs it back if the migration fails). libvirt's release hook restores the VF only when
// this QEMU ends, after the guest is running on the destination. Until then the VF still
// carries the guest's MAC, and the NIC's embedded switch delivers frames for that MAC, from the
// wire and from this host's other functions, to a VF no one reads: the guest's standby, its
// new VF on the destination and every local sender lose them.
//
// park_failover_vfs gives each such VF its idle MAC (idle_mac_for) as soon as the guest has let
// go of it; the claim, its snapshot and every other setting stay. unpark_failover_vfs puts the
// port's MAC back when the migration fails: QEMU plugs the VF back into the guest, whose VF
// driver reads its MAC from the PF when it probes, so the MAC must be there first.
#pragma once

#include <string>
#include <vector>

#include "engine/context.h"
#include "model/mac_address.h"
#include "model/pci_address.h"

namespace vfhook {

struct ParkedVf {
  PciAddress vf;
  std::string pf;
  int vf_index = -1;
  MacAddress mac;  // the admin MAC it has now
  bool operator==(const ParkedVf&) const = default;
};

struct FailoverParking {
  std::vector<ParkedVf> changed;      // VFs whose admin MAC this call set
  std::vector<std::string> problems;  // VFs left as they were, and why
};

// For each of `vfs`: unless the domain claims it here as a VF with a MAC (its port's), it is
// left alone and named in `problems`; otherwise it gets the idle MAC, unless it has it already
// (a second call changes nothing).
FailoverParking park_failover_vfs(const std::string& domain, const std::vector<PciAddress>& vfs,
                                  EngineContext& ctx);

// The reverse: each of `vfs` the domain claims gets its port's MAC (the claim's) back, unless
// it has it already.
FailoverParking unpark_failover_vfs(const std::string& domain, const std::vector<PciAddress>& vfs,
                                    EngineContext& ctx);

}  // namespace vfhook
