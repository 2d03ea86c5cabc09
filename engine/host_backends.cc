#include "engine/host_backends.h"

#include <sys/stat.h>

#include <cerrno>

#include "vfio/netlink_libnl.h"

namespace vfhook {

Result<std::unique_ptr<Store>> open_state_store(const HostConfig& config) {
  if (::mkdir(config.state_dir.c_str(), 0700) != 0 && errno != EEXIST)
    return fail(errno_error(errno, "create the state directory " + config.state_dir));
  return Store::open(config.state_dir + "/vfhook.db");
}

Result<std::unique_ptr<HostBackends>> open_host_backends(const HostConfig& config) {
  auto backends = std::make_unique<HostBackends>();
  backends->sysfs = std::make_unique<DirSysfs>("/sys");
  backends->devfs = std::make_unique<DirSysfs>("/dev");
  VF_ASSIGN(netlink, LibnlVfNetlink::open());
  backends->netlink = std::move(netlink);
  VF_ASSIGN(store, open_state_store(config));
  backends->store = std::move(store);
  return backends;
}

}  // namespace vfhook
