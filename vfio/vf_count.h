// A PF's VF count, through sriov_numvfs. The kernel refuses to change a non-zero count to
// another non-zero one (EBUSY): set_vf_count goes through 0, which destroys every VF of the
// PF. Callers make sure no guest holds one first: a VF held by QEMU blocks the write until
// QEMU lets go of it.
#pragma once

#include "model/pci_address.h"
#include "util/result.h"
#include "vfio/sysfs.h"

namespace vfhook {

// The current count; errors name the PF.
Result<int> vf_count(Sysfs& sysfs, const PciAddress& pf);

// Makes the PF have exactly `count` VFs (0 first when it has others). Refuses a count above
// sriov_totalvfs (policy). A no-op when the count is already right.
Status set_vf_count(Sysfs& sysfs, const PciAddress& pf, int count);

}  // namespace vfhook
