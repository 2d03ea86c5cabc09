// The state directory (/var/lib/vfhook) and the claims database in it decide what vfhook writes
// to VFs: a snapshot in the database is applied to its VF at release. So both must be
// changeable by root (or the user vfhook runs as) only; anything else is refused.
#pragma once

#include <sys/stat.h>

#include <string>

#include "util/result.h"

namespace vfhook {

enum class StatePart { directory, database };

// Refuses (ErrorKind::policy) a state directory or claims database, described by `st` (from
// fstat on the opened descriptor), that another user could change: owned by neither root nor
// the current euid (the rule load_config() applies to the config), or writable by group or
// others. The message names the path, its owner or mode, and the command that fixes it.
Status check_state_owner_and_mode(const struct stat& st, const std::string& path, StatePart part);

// Checks an existing state directory: follows a symlink (an administrator may move the state
// elsewhere), then refuses anything but a directory, and what check_state_owner_and_mode()
// refuses.
Status check_state_dir(const std::string& path);

}  // namespace vfhook
