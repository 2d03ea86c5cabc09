// The one place each naming rule vfhook applies is written: names and identifiers read from
// domain XML, port records, the host config and sysfs.
// They end up in messages, database keys and (pools) configuration lookups, so each is held
// to a charset that cannot carry path separators, control characters or quoting tricks.
#pragma once

#include <string_view>

#include "util/result.h"

namespace vfhook {

// Domain name, as vfhook stores it (a claim's owner, a marker file's name, log lines): 1..255
// bytes of UTF-8 without '/' or control characters (C0, DEL, C1). libvirt allows anything but
// '/'; its XML is UTF-8 and cannot hold most control characters anyway. The message shows the
// name escaped (util/printable.h) and says which rule it breaks.
Status check_domain_name(std::string_view name);
// Domain UUID in libvirt's form "c7a5fdbd-cdaf-9455-926a-d65c16db1809" (hex, any case).
Status check_uuid(std::string_view uuid);
// Device alias: 1..64 of [A-Za-z0-9_-] ("hostdev0", "net1", "ua-sriov-1").
bool is_valid_alias(std::string_view alias);
// A user alias as libvirt accepts one on a new device: "ua-" and at least one more character.
bool is_valid_user_alias(std::string_view alias);
// A name safe as one path component and a database key: interface, driver, pool.
// 1..64 of [A-Za-z0-9_.:-], not "." or "..".
bool is_safe_name(std::string_view name);
// An interface name the kernel accepts: a safe name of at most 15 characters, without ':'.
bool is_interface_name(std::string_view name);
// libvirt network name: the same rule as a domain name.
bool is_valid_network_name(std::string_view name);

}  // namespace vfhook
