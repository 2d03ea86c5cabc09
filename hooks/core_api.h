// The C entry point of libvfhook_hook.so, called by the hook's front end (hooks/hook_main.cc).
// A C signature, because the front end carries its own static libstdc++: no C++ object may
// cross this boundary.
#pragma once

#include <cstddef>

extern "C" {
// Handles one libvirt hook event. Writes to stdout only what libvirt should read (a rewritten
// XML for migrate/restore), and to stderr the message a person reads in `virsh start`'s error.
// Returns the hook's exit status.
__attribute__((visibility("default"))) int vfhook_hook_run(const char* config_path,
                                                           const char* domain, const char* op,
                                                           const char* subop, const char* extra,
                                                           const char* xml, size_t xml_len);
typedef int (*vfhook_hook_run_fn)(const char*, const char*, const char*, const char*, const char*,
                                  const char*, size_t);
}
