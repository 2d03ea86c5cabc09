// FileLock: an flock(2) lock held on a descriptor until the FileLock goes out of scope.
// acquire() waits for it at most `timeout`, polling on the given Clock, so a stuck peer makes
// the caller fail with ErrorKind::conflict instead of hanging a libvirt hook.
#pragma once

#include <chrono>
#include <string>

#include "util/clock.h"
#include "util/result.h"

namespace vfhook {

class FileLock {
 public:
  enum class Mode { shared, exclusive };

  // `what` names the locked thing in errors ("claims database /var/lib/vfhook/claims.db").
  // The descriptor must outlive the lock.
  static Result<FileLock> acquire(int fd, Mode mode, std::chrono::milliseconds timeout,
                                  Clock& clock, const std::string& what);

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace vfhook
