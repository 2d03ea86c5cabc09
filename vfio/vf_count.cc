#include "vfio/vf_count.h"

#include <string>

#include "vfio/pci_topology.h"

namespace vfhook {

Result<int> vf_count(Sysfs& sysfs, const PciAddress& pf) {
  const std::string path = pci_device_path(pf) + "/sriov_numvfs";
  VF_ASSIGN(text, with_context(sysfs.read(path), "PF " + pf.to_string()));
  return parse_sysfs_int(text, path);
}

Status set_vf_count(Sysfs& sysfs, const PciAddress& pf, int count) {
  const std::string dev = pci_device_path(pf);
  const std::string who = "PF " + pf.to_string();
  VF_ASSIGN(total_text, with_context(sysfs.read(dev + "/sriov_totalvfs"), who));
  VF_ASSIGN(total, parse_sysfs_int(total_text, dev + "/sriov_totalvfs"));
  if (count < 0 || count > total)
    return fail(ErrorKind::policy, who + ": " + std::to_string(count) +
                                       " VFs asked for, the device offers " +
                                       std::to_string(total) + " (sriov_totalvfs)");
  VF_ASSIGN(current, vf_count(sysfs, pf));
  if (current == count) return ok();
  if (current != 0)
    VF_TRY(with_context(sysfs.write(dev + "/sriov_numvfs", "0"), who + ": remove its VFs"));
  if (count != 0)
    VF_TRY(with_context(sysfs.write(dev + "/sriov_numvfs", std::to_string(count)),
                        who + ": create " + std::to_string(count) + " VFs"));
  return ok();
}

}  // namespace vfhook
