// EngineContext: everything an engine operation may touch, as interfaces, so the same
// operations run on a host (sysfs, rtnetlink, SQLite under /var/lib/vfhook) and in tests (a fake
// sysfs tree, the recording netlink fake, a temporary database, a fake clock). The hook and
// (later) vfctl build one and call the operations in engine/operations.h.
#pragma once

#include "policy/config.h"
#include "policy/store.h"
#include "util/clock.h"
#include "util/log.h"
#include "vfio/sysfs.h"
#include "vfio/vf_netlink.h"

namespace vfhook {

struct EngineContext {
  const HostConfig& config;
  Sysfs& sysfs;  // rooted at /sys on a host
  Sysfs& devfs;  // rooted at /dev on a host: /dev/vfio/N
  VfNetlink& netlink;
  Store& store;
  Clock& clock;
  Logger& log;
};

}  // namespace vfhook
