// QEMU's migration states as its MIGRATION event reports them ("data": {"status": "active"}).
// vfctl follows them during a live migration with virtio failover (cli/migrate.h): QEMU asks
// the guest to unplug its failover VFs in setup (wait-unplug while the guest takes its time),
// copies memory only once none is still plugged (active), and plugs them back into the guest on
// failed or cancelled.
#pragma once

#include <string_view>

#include "util/result.h"

namespace vfhook {

enum class QemuMigrationStatus {
  setup,
  wait_unplug,
  active,
  completed,
  failed,
  cancelled,
  other,  // a state vfctl does not act on (pre-switchover, device, postcopy-*, colo, ...)
};

// QEMU's own spelling ("wait-unplug"); "other" for other.
std::string_view to_string(QemuMigrationStatus status);

// The status in a MIGRATION event's data, given as the JSON text libvirt passes on. The text is
// untrusted: invalid_input unless it is a JSON object (at most 4 KiB) with a string member
// "status". A status not listed above is `other`.
Result<QemuMigrationStatus> parse_migration_event(std::string_view data);

}  // namespace vfhook
