#include "hooks/read_capped.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

ssize_t vfhook_read_capped(int fd, char* buf, size_t cap, int* truncated) {
  char scratch[4096];
  size_t kept = 0;
  *truncated = 0;
  for (;;) {
    int full = kept >= cap;
    char* into = full ? scratch : buf + kept;
    size_t room = full ? sizeof scratch : cap - kept;
    ssize_t n = read(fd, into, room);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) return (ssize_t)kept;
    if (full)
      *truncated = 1;
    else
      kept += (size_t)n;
  }
}
