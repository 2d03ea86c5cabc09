// The one place where errno values are translated into Errors (libnl codes: vfio/netlink_error.cc).
#include "util/result.h"

#include <cerrno>
#include <cstring>
#include <string>

namespace vfhook {

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::invalid_input:
      return "invalid input";
    case ErrorKind::policy:
      return "refused by policy";
    case ErrorKind::not_found:
      return "not found";
    case ErrorKind::conflict:
      return "conflict";
    case ErrorKind::os:
      return "system error";
    case ErrorKind::netlink:
      return "netlink error";
    case ErrorKind::timeout:
      return "timeout";
    case ErrorKind::internal:
      return "internal error";
  }
  return "error";
}

Error Error::with_context(std::string_view context) const {
  Error copy = *this;
  copy.message = std::string(context) + ": " + message;
  return copy;
}

const char* errno_name(int err) {
  switch (err) {
    case ENOENT:
      return "ENOENT";
    case EACCES:
      return "EACCES";
    case EPERM:
      return "EPERM";
    case EBUSY:
      return "EBUSY";
    case EINVAL:
      return "EINVAL";
    case ENODEV:
      return "ENODEV";
    case EEXIST:
      return "EEXIST";
    case EOPNOTSUPP:
      return "EOPNOTSUPP";
    case ERANGE:
      return "ERANGE";
    case ENOMEM:
      return "ENOMEM";
    case EAGAIN:
      return "EAGAIN";
    case EIO:
      return "EIO";
    case ENOSPC:
      return "ENOSPC";
    case ETIMEDOUT:
      return "ETIMEDOUT";
    case EROFS:
      return "EROFS";
    case ENOTDIR:
      return "ENOTDIR";
    case EISDIR:
      return "EISDIR";
    case ELOOP:
      return "ELOOP";
    case ENAMETOOLONG:
      return "ENAMETOOLONG";
    default:
      return nullptr;
  }
}

Error errno_error(int err, std::string_view what) {
  std::string message(what);
  message += ": ";
  message += std::strerror(err);
  if (const char* name = errno_name(err)) {
    message += " (";
    message += name;
    message += ")";
  }
  return Error{ErrorKind::os, std::move(message), err};
}

}  // namespace vfhook
