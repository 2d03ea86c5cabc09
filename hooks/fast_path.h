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

// The exit status of a hook that could not do its work. prepare and start stop the domain (1);
// migrate and restore abort the migration or restore (1): a VF port whose VF could not be
// re-allocated would reach the guest with the source host's PCI address, some other device
// here. Everywhere else a failure is reported and the status stays 0: libvirt kills a running
// guest when reconnect or started fails, and ignores release's status.
int failure_exit_status(HookOp op);

enum class Work {
  none,    // nothing for vfhook in this event: exit 0 at once
  full,    // load the core and handle the event
  claims,  // work only if the domain holds claims: decide_by_claims() says
};

// True when the raw bytes of `xml` are what libxml2 reads, so that a search for a name finds
// every element and attribute value that carries it: no NUL byte (UTF-16/32), no character
// reference ("&#"), no DOCTYPE or ENTITY declaration, '<' first (after a UTF-8 byte order mark
// and white space: else UTF-16/32 or EBCDIC), and an XML declaration, if any, that names UTF-8
// or ASCII. (libvirt itself always sends plain UTF-8; this closes the fast path to anything
// else.)
bool is_plain_xml(std::string_view xml);

// Decides from the event and the raw domain XML whether the core must run.
// - prepare/start/migrate/restore: full when the XML mentions a hostdev (interfaces of type
// hostdev, <hostdev>,
//   libvirt's resolved <actual type='hostdev'>) or vfhook's port namespace, or when it is not
//   plain (is_plain_xml): then the core reads it, and refuses what is not UTF-8; else none.
// - reconnect/release: full when it mentions them (or is not plain); else claims. The claims
// database, not the
//   XML, says what a domain holds: a VF removed with `virsh detach-device`, or one a hostdev
//   network chose, no longer shows in the XML at release.
// - started/stopped/other: none (vfhook restores at release, the last event, after libvirt's
//   own restore).
Work decide_work(HookOp op, std::string_view domain_xml);

// For Work::claims: whether the domain holds claims, by its marker file (engine/domain_marker.h):
// none when the marker is certainly absent, full when it exists or anything is uncertain (the
// config unreadable, too big, writable by others or not read with confidence by
// find_state_dir, the markers directory missing: markers then predate this vfhook). Costs
// open/fstat/read/close of the config and one or two stat() calls; no allocation.
Work decide_by_claims(const char* config_path, std::string_view domain);

inline constexpr std::string_view kDefaultStateDir = "/var/lib/vfhook";  // policy/config.h
inline constexpr size_t kMaxFrontEndConfigBytes = 64 * 1024;

// The state directory a vfhook config (TOML) sets: the value of its top-level
// `state_dir = "..."` (or '...') line, kDefaultStateDir when no top-level line sets it. Returns
// false when it cannot tell with certainty: a quoted or dotted key, a string with escapes, a
// multi-line string, state_dir set twice, an unterminated array, a NUL byte, a value that is
// not an absolute path without "..". `state_dir` then is unspecified. Points into `config`.
bool find_state_dir(std::string_view config, std::string_view& state_dir);

}  // namespace vfhook
