// HookContext: everything a handler may touch, as interfaces, so the same handlers run on a
// host (sysfs, rtnetlink, SQLite under /var/lib/vfhook) and in tests (a fake sysfs tree, the
// recording netlink fake, a temporary database, a fake clock).
#pragma once

#include <memory>

#include "policy/config.h"
#include "policy/store.h"
#include "util/clock.h"
#include "util/log.h"
#include "vfio/sysfs.h"
#include "vfio/vf_netlink.h"

namespace vfhook {

struct HookContext {
  const HostConfig& config;
  Sysfs& sysfs;  // rooted at /sys on a host
  Sysfs& devfs;  // rooted at /dev on a host: /dev/vfio/N
  VfNetlink& netlink;
  Store& store;
  Clock& clock;
  Logger& log;
};

// The real backends a config asks for ([test] selects the fakes for the black-box test bed).
struct HookBackends {
  std::unique_ptr<Sysfs> sysfs;
  std::unique_ptr<Sysfs> devfs;
  std::unique_ptr<VfNetlink> netlink;
  std::unique_ptr<Store> store;
  SystemClock clock;
};

// Opens the backends; creates the state directory (mode 0700) when it is missing, and refuses
// one that another user could write to (check_state_dir()).
Result<std::unique_ptr<HookBackends>> open_backends(const HostConfig& config);

}  // namespace vfhook
