// vfctl gc: drops what the store holds for domains that are gone or stopped, for the moves and
// crashes no hook saw (an undefine, a migration vfctl did not make, a libvirtd that died
// between stop and release).
//
//  - the claims of a domain that no longer exists, or that libvirt reports not running, are
//    released as the release hook would: each VF restored from its snapshot, then the claim
//    dropped. (libvirt marks a domain active before its prepare hook runs, so a domain that is
//    starting is never taken for a stopped one.)
//  - the reservations of a domain that no longer exists are dropped.
// A domain libvirt cannot answer for (an error other than "no such domain") is left alone, as
// are the claims of QEMUs outside libvirt ("qmp:NAME", vfctl attach --qmp).
// Never called from a hook: it asks libvirt.
#pragma once

#include <string>
#include <vector>

#include "cli/libvirt.h"
#include "engine/context.h"

namespace vfhook {

struct GcReport {
  std::vector<std::string> changes;   // one line per domain released or reservation dropped
  std::vector<std::string> problems;  // what could not be done, and why
};

GcReport collect_garbage(Libvirt& libvirt, EngineContext& ctx);

}  // namespace vfhook
