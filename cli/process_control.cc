#include "cli/process_control.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace vfhook {
namespace {

Status check_pid(pid_t pid) {
  if (pid > 0) return ok();
  return fail(ErrorKind::invalid_input,
              "process id " + std::to_string(pid) + " refused: expected a positive pid");
}

uint64_t limit_bytes(rlim_t limit) {
  return limit == RLIM_INFINITY ? UINT64_MAX : static_cast<uint64_t>(limit);
}

}  // namespace

Status SystemProcessControl::chown_path(const std::string& path, uid_t uid, gid_t gid) {
  if (::chown(path.c_str(), uid, gid) < 0)
    return fail(errno_error(
        errno, "chown " + path + " to " + std::to_string(uid) + ":" + std::to_string(gid)));
  return ok();
}

Result<uint64_t> SystemProcessControl::memlock_limit(pid_t pid) {
  VF_TRY(check_pid(pid));
  rlimit current{};
  if (::prlimit(pid, RLIMIT_MEMLOCK, nullptr, &current) < 0)
    return fail(errno_error(errno, "read RLIMIT_MEMLOCK of process " + std::to_string(pid)));
  return limit_bytes(current.rlim_cur);
}

Status SystemProcessControl::raise_memlock(pid_t pid, uint64_t bytes) {
  VF_TRY(check_pid(pid));
  rlimit current{};
  if (::prlimit(pid, RLIMIT_MEMLOCK, nullptr, &current) < 0)
    return fail(errno_error(errno, "read RLIMIT_MEMLOCK of process " + std::to_string(pid)));
  const rlim_t wanted =
      bytes >= static_cast<uint64_t>(RLIM_INFINITY) ? RLIM_INFINITY : static_cast<rlim_t>(bytes);
  rlimit raised{wanted, current.rlim_max == RLIM_INFINITY ? RLIM_INFINITY
                                                          : std::max(current.rlim_max, wanted)};
  if (::prlimit(pid, RLIMIT_MEMLOCK, &raised, nullptr) < 0)
    return fail(errno_error(errno, "raise RLIMIT_MEMLOCK of process " + std::to_string(pid) +
                                       " to " + std::to_string(bytes) + " bytes"));
  return ok();
}

}  // namespace vfhook
