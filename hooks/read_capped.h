/* Reading the domain XML from libvirt's pipe: a thin C adapter over read(2), tested with
 * CMocka by wrapping read().
 *
 * Reads `fd` to end of file. Keeps at most `cap` bytes in `buf` and discards the rest (libvirt
 * writes the whole XML and expects it consumed), setting *truncated when anything was
 * discarded. Retries on EINTR. Returns the number of bytes kept, or -1 with errno set. */
#ifndef VFHOOK_HOOKS_READ_CAPPED_H
#define VFHOOK_HOOKS_READ_CAPPED_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

ssize_t vfhook_read_capped(int fd, char* buf, size_t cap, int* truncated);

#ifdef __cplusplus
}
#endif

#endif
