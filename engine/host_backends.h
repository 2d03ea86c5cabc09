// The real backends of an EngineContext on this host: sysfs at /sys, /dev, rtnetlink through
// libnl-route-3, and the claims store in the config's state directory. Tests build their own
// from testing/ instead; no fake is reachable from here.
#pragma once

#include <memory>
#include <string>

#include "engine/context.h"

namespace vfhook {

struct HostBackends {
  std::unique_ptr<Sysfs> sysfs;
  std::unique_ptr<Sysfs> devfs;
  std::unique_ptr<VfNetlink> netlink;
  std::unique_ptr<Store> store;
  SystemClock clock;
};

// Opens the backends; creates the state directory (mode 0700) when it is missing.
Result<std::unique_ptr<HostBackends>> open_host_backends(const HostConfig& config);

// Opens the claims store in config.state_dir, creating the directory (0700) when missing and
// refusing one another user could change (policy/state_dir.h). The store learns this boot's
// id, so claims of an earlier boot (a crash) are dropped at first use. Shared by the host
// backends and the test bed's.
Result<std::unique_ptr<Store>> open_state_store(const HostConfig& config);

// Opens the claims store only when its database exists, and creates nothing: nullptr when
// there is none (no claim was ever made with this state directory). For queries that must not
// leave a state directory behind (`vfctl claims`, which the package's removal asks). Like
// open_state_store, it drops the claims of earlier boots.
Result<std::unique_ptr<Store>> open_existing_state_store(const HostConfig& config);

// This boot's id: <proc_root>/sys/kernel/random/boot_id without its newline; "" if unreadable
// (the store then records claims without a boot and drops none).
std::string read_boot_id(const std::string& proc_root);

}  // namespace vfhook
