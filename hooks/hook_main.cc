// vfhook's libvirt QEMU hook, installed as /etc/libvirt/hooks/qemu.d/vfhook.
//
// This front end links only libc (libstdc++ statically): it reads the event and the domain XML,
// and for the common case of a domain without VF ports exits at once. Otherwise it loads the
// core (libvfhook_hook.so, found through this executable's RUNPATH) and hands the event over.
#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "hooks/core_api.h"
#include "hooks/fast_path.h"
#include "hooks/read_capped.h"
#include "util/write_all.h"
#include "xml/domain_xml.h"

using vfhook::write_all;

int main(int argc, char** argv) {
  vfhook::HookCall call;
  if (!vfhook::parse_hook_call(argc, argv, call)) {
    write_all(2,
              "usage: vfhook [--config PATH] DOMAIN OPERATION SUB-OPERATION EXTRA\n"
              "vfhook is a libvirt QEMU hook: libvirt runs it with the domain XML on stdin.\n");
    return 2;
  }

  // One byte over the cap tells an oversized XML from one of exactly the cap. Left
  // uninitialized: pages the XML does not reach are never touched.
  const size_t capacity = vfhook::kMaxDomainXmlBytes + 1;
  std::unique_ptr<char[]> buffer(new char[capacity]);
  int discarded = 0;
  ssize_t kept = vfhook_read_capped(0, buffer.get(), capacity, &discarded);
  if (kept < 0) {
    write_all(2, "vfhook: cannot read the domain XML from standard input\n");
    return 1;
  }
  std::string_view xml(buffer.get(), static_cast<size_t>(kept));
  bool truncated = discarded != 0 || xml.size() > vfhook::kMaxDomainXmlBytes;
  if (vfhook::decide_work(call.op, xml) == vfhook::Work::none) return 0;
  if (truncated) {
    write_all(2,
              "vfhook refused the domain: its XML is larger than 4 MiB, more than any real "
              "domain definition; nothing was changed on the host.\n");
    return 1;
  }

  void* core = dlopen(VFHOOK_CORE_LIBRARY, RTLD_NOW | RTLD_LOCAL);
  auto run = core ? reinterpret_cast<vfhook_hook_run_fn>(dlsym(core, "vfhook_hook_run")) : nullptr;
  if (!run) {
    const char* why = dlerror();
    write_all(2, "vfhook: cannot load its core library " VFHOOK_CORE_LIBRARY ": ");
    write_all(2, why ? why : "symbol vfhook_hook_run missing");
    write_all(2, "\nReinstall vfhook; nothing was changed on the host.\n");
    // A broken install must not kill running guests on reconnect; everywhere else, refuse.
    return call.op == vfhook::HookOp::reconnect || call.op == vfhook::HookOp::release ? 0 : 1;
  }
  std::string config(call.config_path.empty() ? std::string_view(VFHOOK_CONFIG_PATH)
                                              : call.config_path);
  std::string domain(call.domain), op(argv[argc - 3]), subop(call.subop), extra(call.extra);
  return run(config.c_str(), domain.c_str(), op.c_str(), subop.c_str(), extra.c_str(), xml.data(),
             xml.size());
}
