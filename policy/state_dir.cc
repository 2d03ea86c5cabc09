#include "policy/state_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "util/fd.h"

namespace vfhook {

Status check_state_owner_and_mode(const struct stat& st, const std::string& path, StatePart part) {
  const bool directory = part == StatePart::directory;
  const std::string what = (directory ? "state directory " : "claims database ") + path;
  // What the user or group who can change it could do.
  const std::string could = directory ? "could plant a claims database whose VF snapshots vfhook "
                                        "applies at release"
                                      : "could change the VF snapshots vfhook applies at release";
  const uid_t euid = ::geteuid();
  if (st.st_uid != 0 && st.st_uid != euid) {
    return fail(ErrorKind::policy, what + " is owned by uid " + std::to_string(st.st_uid) +
                                       ", neither root nor uid " + std::to_string(euid) +
                                       ": that user " + could + "; run chown root " + path);
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    const char* who = (st.st_mode & S_IWOTH) ? "anyone on this host" : "anyone in that group";
    return fail(ErrorKind::policy, what + " is writable by group/others (mode " + mode +
                                       "): " + who + " " + could + "; run chmod go-w " + path);
  }
  return ok();
}

Status check_state_dir(const std::string& path) {
  // fstat on a descriptor, like load_config(): what is checked is what was opened.
  const Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    const int err = errno;
    if (err == ENOTDIR) {
      return fail(ErrorKind::policy, "state directory " + path +
                                         " is not a directory; move it away, or point state_dir "
                                         "in the vfhook config at a directory");
    }
    return fail(errno_error(err, "open the state directory " + path));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return fail(errno_error(errno, "stat the state directory " + path));
  return check_state_owner_and_mode(st, path, StatePart::directory);
}

}  // namespace vfhook
