// The one place each naming rule vfhook applies is written: names and identifiers read from
// domain XML, port records, the host config and sysfs.
// They end up in messages, database keys and (pools) configuration lookups, so each is held
// to a charset that cannot carry path separators, control characters or quoting tricks.
#pragma once

#include <string_view>

#include "util/result.h"

namespace vfhook {

// Domain name: 1..255 bytes, no '/', no control characters. libvirt allows much more, but a
// name that would break a log line or a path is refused.
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
// libvirt network name: 1..255 bytes, no '/', no control characters.
bool is_valid_network_name(std::string_view name);

}  // namespace vfhook
