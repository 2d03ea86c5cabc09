// vfhook's libvirt QEMU hook, installed as /etc/libvirt/hooks/qemu.d/vfhook.
//
// This front end links only libc (libstdc++ statically): it reads the event and the domain XML,
// and for the common case of a domain without VF ports exits at once. Otherwise it loads the
// core (libvfhook_hook.so, found through this executable's RUNPATH) and hands the event over.
#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string_view>

#include "hooks/core_api.h"
#include "hooks/fast_path.h"
#include "hooks/read_capped.h"
#include "util/write_all.h"
#include "xml/domain_xml.h"

using vfhook::write_all;

// Nothing here may throw: an exception escaping main() aborts the hook, and a hook killed by a
// signal at reconnect makes libvirt kill the guest. So no std::string and no operator new on
// this path: memory comes from malloc and every allocation is checked.
int main(int argc, char** argv) {
  vfhook::HookCall call;
  if (!vfhook::parse_hook_call(argc, argv, call)) {
    write_all(2,
              "usage: vfhook [--config PATH] DOMAIN OPERATION SUB-OPERATION EXTRA\n"
              "vfhook is a libvirt QEMU hook: libvirt runs it with the domain XML on stdin.\n");
    return 2;
  }
  const int failure_status = vfhook::failure_exit_status(call.op);

  // One byte over the cap tells an oversized XML from one of exactly the cap. Left
  // uninitialized: pages the XML does not reach are never touched. Without a buffer, stdin is
  // still read to its end (libvirt writes the whole XML and expects it consumed).
  const size_t capacity = vfhook::kMaxDomainXmlBytes + 1;
  char* buffer = static_cast<char*>(std::malloc(capacity));
  // Freed on every return (LeakSanitizer runs the black-box tests against this binary).
  std::unique_ptr<char, decltype(&std::free)> buffer_owner(buffer, &std::free);
  int discarded = 0;
  ssize_t kept = buffer != nullptr ? vfhook_read_capped(0, buffer, capacity, &discarded)
                                   : vfhook_read_capped(0, nullptr, 0, &discarded);
  std::string_view xml;
  const char* problem = nullptr;  // why the XML cannot be used
  if (buffer == nullptr)
    problem = "vfhook: out of memory: cannot hold the domain XML";
  else if (kept < 0)
    problem = "vfhook: cannot read the domain XML from standard input";
  else if (discarded != 0 || static_cast<size_t>(kept) > vfhook::kMaxDomainXmlBytes)
    problem = "vfhook: the domain XML is larger than 4 MiB, more than any real domain definition";
  else
    xml = std::string_view(buffer, static_cast<size_t>(kept));

  // Every string handed over is NUL-terminated: argv's own, or the compiled-in default.
  const char* config = call.config_path.empty() ? VFHOOK_CONFIG_PATH : call.config_path.data();
  vfhook::Work work = vfhook::Work::none;
  if (problem != nullptr) {
    // Without its XML a domain cannot be checked: prepare and start refuse it (even one that
    // may have no VF: a VF port could hide in what was not read), and so do migrate and
    // restore (a VF port would arrive with the source host's PCI address). reconnect must not fail:
    // it leaves the claims as they are. release does not need the XML: the claims say what to do.
    switch (call.op) {
      case vfhook::HookOp::prepare:
      case vfhook::HookOp::start:
      case vfhook::HookOp::migrate:
      case vfhook::HookOp::restore:
        write_all(2, problem);
        write_all(2, ".\nvfhook refused the domain; nothing was changed on the host.\n");
        return failure_status;
      case vfhook::HookOp::reconnect:
        write_all(2, problem);
        write_all(2, ".\nvfhook left the domain's VF claims as they are.\n");
        return 0;
      case vfhook::HookOp::release:
        write_all(2, problem);
        write_all(2, ".\nvfhook releases the domain's VFs from its claims alone.\n");
        work = vfhook::Work::claims;
        break;
      default:
        return 0;  // nothing for vfhook at these events
    }
  } else {
    work = vfhook::decide_work(call.op, xml);
  }
  if (work == vfhook::Work::claims) work = vfhook::decide_by_claims(config, call.domain);
  if (work == vfhook::Work::none) return 0;

  void* core = dlopen(VFHOOK_CORE_LIBRARY, RTLD_NOW | RTLD_LOCAL);
  auto run = core ? reinterpret_cast<vfhook_hook_run_fn>(dlsym(core, "vfhook_hook_run")) : nullptr;
  if (!run) {
    const char* why = dlerror();
    write_all(2, "vfhook: cannot load its core library " VFHOOK_CORE_LIBRARY ": ");
    write_all(2, why ? why : "symbol vfhook_hook_run missing");
    write_all(2, "\nReinstall vfhook; nothing was changed on the host.\n");
    // A broken install must not kill running guests on reconnect; everywhere else, refuse.
    return failure_status;
  }
  return run(config, call.domain.data(), argv[argc - 3], call.subop.data(), call.extra.data(),
             xml.data(), xml.size());
}
