// The one place where libnl error codes (negative NLE_*) become Errors: the message carries
// libnl's text and the closest errno, so callers branch on one scheme (Error::sys_errno).
#pragma once

#include <string_view>

#include "util/result.h"

namespace vfhook {

Error netlink_error(int nl_error, std::string_view what);

}  // namespace vfhook
