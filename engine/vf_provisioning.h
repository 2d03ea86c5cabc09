// VF provisioning: what `vfctl vfs apply` (and vfhook-vfs.service at boot) does for each VF
// pool that sets num_vfs: give each PF that many VFs, give every VF that has none a non-zero
// admin MAC (idle_mac_for: some drivers turn an all-zero one into a random MAC in the next
// guest), and, where the pool keeps idle VFs on vfio-pci, bind the free ones to it.
//
// Idempotent: a second run changes nothing. A PF whose count would change while any of its
// VFs is claimed (a running guest) or reserved (a defined domain) is left as it is and
// reported: changing the count destroys every VF of the PF.
#pragma once

#include <string>
#include <vector>

#include "engine/context.h"

namespace vfhook {

struct ProvisioningReport {
  std::vector<std::string> changes;   // what was done, one line each
  std::vector<std::string> problems;  // what was refused or failed, and why
};

// `wait_for_pfs`: at boot the unit may run before udev has probed and named the PFs; wait up
// to this long (on ctx.clock, polling) for every VF pool's PFs to appear first. A PF still
// missing then is a problem in the report, as without waiting.
ProvisioningReport provision_vfs(EngineContext& ctx, Clock::Duration wait_for_pfs = {});

}  // namespace vfhook
