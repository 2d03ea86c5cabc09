#include "hooks/hook_context.h"

#include <sys/stat.h>

#include <cerrno>

#include "policy/state_dir.h"
#include "vfio/fake_vf_netlink.h"
#include "vfio/netlink_libnl.h"
#include "vfio/simulated_kernel_sysfs.h"

namespace vfhook {

Result<std::unique_ptr<HookBackends>> open_backends(const HostConfig& config) {
  auto backends = std::make_unique<HookBackends>();
  const TestBackends& test = config.test;
  std::string sysfs_root = test.sysfs_root.value_or("/sys");
  std::string dev_root = test.dev_root.value_or("/dev");
  if (test.simulate_kernel)
    backends->sysfs = std::make_unique<SimulatedKernelSysfs>(sysfs_root, dev_root);
  else
    backends->sysfs = std::make_unique<DirSysfs>(sysfs_root);
  backends->devfs = std::make_unique<DirSysfs>(dev_root);

  if (test.netlink_fake) {
    backends->netlink = std::make_unique<FileVfNetlink>(*test.netlink_fake);
  } else {
    VF_ASSIGN(netlink, LibnlVfNetlink::open());
    backends->netlink = std::move(netlink);
  }

  if (::mkdir(config.state_dir.c_str(), 0700) != 0 && errno != EEXIST)
    return fail(errno_error(errno, "create the state directory " + config.state_dir));
  VF_TRY(check_state_dir(config.state_dir));
  VF_ASSIGN(store, Store::open(config.state_dir + "/vfhook.db"));
  backends->store = std::move(store);
  return backends;
}

}  // namespace vfhook
