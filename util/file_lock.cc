#include "util/file_lock.h"

#include <sys/file.h>

#include <cerrno>
#include <utility>

namespace vfhook {

Result<FileLock> FileLock::acquire(int fd, Mode mode, std::chrono::milliseconds timeout,
                                   Clock& clock, const std::string& what) {
  constexpr auto step = std::chrono::milliseconds(5);
  const int operation = (mode == Mode::exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB;
  const auto deadline = clock.now() + timeout;
  for (;;) {
    if (::flock(fd, operation) == 0) return FileLock(fd);
    if (errno != EWOULDBLOCK && errno != EINTR) return fail(errno_error(errno, "lock " + what));
    if (clock.now() >= deadline) {
      return fail(ErrorKind::conflict, what + ": another process held its lock for longer than " +
                                           std::to_string(timeout.count()) + " ms");
    }
    clock.sleep_for(step);
  }
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

FileLock::~FileLock() {
  if (fd_ >= 0) ::flock(fd_, LOCK_UN);
}

}  // namespace vfhook
