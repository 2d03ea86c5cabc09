// libvfhook_hook.so: loaded by the hook's front end when an event has work for vfhook. Runs
// against this host's real backends; no fake is linked into it.
#include "hooks/core_api.h"
#include "hooks/core_run.h"

extern "C" int vfhook_hook_run(const char* config_path, const char* domain, const char* op,
                               const char* /*subop*/, const char* /*extra*/, const char* xml,
                               size_t xml_len) {
  return vfhook::run_hook_event(config_path, domain, op, std::string_view(xml, xml_len),
                                [](const std::string&, const vfhook::HostConfig& config) {
                                  return vfhook::open_host_backends(config);
                                });
}
