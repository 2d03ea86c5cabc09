// write_all: writes all of `text` to `fd`, retrying on EINTR and short writes. Header-only so
// the hook's libc-only front end can use it too. Best effort: gives up on a real error (a
// closed stderr must not stop a hook); returns whether all of it was written, for the writes
// that matter (the migrate hook's rewritten XML on stdout).
#pragma once

#include <unistd.h>

#include <cerrno>
#include <string_view>

namespace vfhook {

inline bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace vfhook
