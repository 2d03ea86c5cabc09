#include "engine/host_backends.h"

#include <sys/stat.h>

#include <cerrno>
#include <fstream>

#include "policy/state_dir.h"
#include "vfio/netlink_libnl.h"

namespace vfhook {

std::string read_boot_id(const std::string& proc_root) {
  std::ifstream in(proc_root + "/sys/kernel/random/boot_id");
  std::string id;
  if (!std::getline(in, id)) return {};
  return id;
}

Result<std::unique_ptr<Store>> open_state_store(const HostConfig& config) {
  if (::mkdir(config.state_dir.c_str(), 0700) != 0 && errno != EEXIST)
    return fail(errno_error(errno, "create the state directory " + config.state_dir));
  VF_TRY(check_state_dir(config.state_dir));
  StoreOptions options;
  options.boot_id = read_boot_id("/proc");
  return Store::open(config.state_dir + "/vfhook.db", options);
}

Result<std::unique_ptr<Store>> open_existing_state_store(const HostConfig& config) {
  const std::string database = config.state_dir + "/vfhook.db";
  struct stat st {};
  if (::stat(database.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::unique_ptr<Store>();
    return fail(errno_error(errno, "stat the claims database " + database));
  }
  VF_TRY(check_state_dir(config.state_dir));
  StoreOptions options;
  options.boot_id = read_boot_id("/proc");
  return Store::open(database, options);
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
