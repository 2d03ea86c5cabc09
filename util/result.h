// Result<T>: the one way every fallible call in vfhook reports failure.
//
// An Error carries a kind (what sort of failure, for callers that branch on it), a message
// written for the person who will read it (the operator reading `virsh start`'s error or the
// journal), and the errno it came from, if any. Context (domain, PF, VF index, PCI address)
// is added on the way up with with_context(), outermost first, so a message reads
// "domain vm1: PF enp1s0 VF 3: set trust on: Operation not supported".
//
// errno values become Errors only in util/error.cc (errno_error); libnl codes only in
// vfio/netlink_error.cc (netlink_error).
#pragma once

#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <utility>

namespace vfhook {

enum class ErrorKind {
  invalid_input,  // untrusted input (XML, config, sysfs content, QMP) is malformed or hostile
  policy,         // well-formed but refused by the host's policy (pool, VLAN, trust, holder)
  not_found,      // a device, file, pool or record that should exist does not
  conflict,       // someone else holds it (claim, reservation, busy database)
  os,             // a system call failed (errno set)
  netlink,        // the kernel or a driver refused a netlink request
  timeout,        // a bounded wait ran out
  internal,       // a broken invariant inside vfhook
};

std::string_view to_string(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::internal;
  std::string message;
  int sys_errno = 0;  // errno, or the negated libnl error translated to the closest errno

  // Returns a copy whose message is "<context>: <message>".
  [[nodiscard]] Error with_context(std::string_view context) const;
};

template <class T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

inline tl::unexpected<Error> fail(ErrorKind kind, std::string message) {
  return tl::unexpected<Error>(Error{kind, std::move(message), 0});
}
inline tl::unexpected<Error> fail(Error error) {
  return tl::unexpected<Error>(std::move(error));
}

inline Status ok() {
  return {};
}

// Adds context to the error of a failed result, passing success through unchanged.
template <class T>
Result<T> with_context(Result<T> result, std::string_view context) {
  if (!result) return tl::unexpected<Error>(result.error().with_context(context));
  return result;
}

// The single place where errno values become Errors: "<what>: <strerror> (<ENAME>)".
Error errno_error(int err, std::string_view what);
// "ENOENT" for ENOENT, nullptr for an errno without a name here.
const char* errno_name(int err);

}  // namespace vfhook

// Propagates a failed Result from the enclosing function (which must return a Result).
#define VF_TRY(expr)                                                      \
  do {                                                                    \
    auto vf_try_result_ = (expr);                                         \
    if (!vf_try_result_) return ::tl::unexpected(vf_try_result_.error()); \
  } while (0)

// Declares `var` from a successful Result or propagates its error.
#define VF_ASSIGN(var, expr)                                          \
  auto var##_result_ = (expr);                                        \
  if (!var##_result_) return ::tl::unexpected(var##_result_.error()); \
  auto var = std::move(*var##_result_)
