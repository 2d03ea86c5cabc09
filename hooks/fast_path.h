// The hook's front end: what it can decide from argv and the raw XML alone, before any library
// is loaded. A domain without VF ports must cost about as much as /bin/true: the front end links
// only libc, and loads the core (libvfhook_hook.so, with libxml2, libnl, SQLite) only when
// decide_work() says there is something to do.
#pragma once

#include <string_view>

namespace vfhook {

enum class HookOp { prepare, start, started, stopped, release, migrate, restore, reconnect, other };

HookOp parse_hook_op(std::string_view op);
std::string_view to_string(HookOp op);

// libvirt calls "<hook> DOMAIN OP SUBOP EXTRA"; tests and operators may put
// "--config PATH" first (libvirt passes no environment, so that is how a test points the hook
// at its own config). Every view points into argv, so each is NUL-terminated.
struct HookCall {
  std::string_view config_path;  // empty: the compiled-in default
  std::string_view domain;
  HookOp op = HookOp::other;
  std::string_view subop;
  std::string_view extra;
};

// Returns false (and leaves `call` unspecified) when argv is not a hook call.
bool parse_hook_call(int argc, const char* const* argv, HookCall& call);

// The exit status of a hook that could not do its work. Only prepare and start may stop a
// domain (1); everywhere else a failure is reported and the status stays 0: libvirt kills a
// running guest when reconnect or started fails, aborts a migration or restore, and ignores
// release's status.
int failure_exit_status(HookOp op);

enum class Work {
  none,  // nothing for vfhook in this event: exit 0 at once
  full,  // load the core and handle the event
};

// Decides from the event and the raw domain XML whether the core must run.
// - prepare/start/reconnect: only when the XML mentions a hostdev (interfaces of type hostdev,
//   <hostdev>, libvirt's resolved <actual type='hostdev'>) or vfhook's port namespace.
// - release: also when it has an <interface type='network'>, because a VF libvirt chose from a
//   hostdev network is no longer visible in the XML at release; the claims database knows.
// - started/stopped/migrate/restore/other: nothing (vfhook restores at release, the last
//   event, after libvirt's own restore).
Work decide_work(HookOp op, std::string_view domain_xml);

}  // namespace vfhook
