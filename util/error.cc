// The one place where errno and libnl codes are translated into Errors.
#include "util/result.h"

#include <netlink/errno.h>

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

namespace {

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

// libnl reports its own codes; keep the closest errno so callers can branch on one scheme.
int netlink_to_errno(int nl_error) {
  switch (nl_error < 0 ? -nl_error : nl_error) {
    case NLE_OPNOTSUPP:
      return EOPNOTSUPP;
    case NLE_PERM:
      return EPERM;
    case NLE_NOACCESS:
      return EACCES;
    case NLE_INVAL:
      return EINVAL;
    case NLE_RANGE:
      return ERANGE;
    case NLE_NODEV:
      return ENODEV;
    case NLE_OBJ_NOTFOUND:
      return ENOENT;
    case NLE_EXIST:
      return EEXIST;
    case NLE_BUSY:
      return EBUSY;
    case NLE_NOMEM:
      return ENOMEM;
    case NLE_AGAIN:
      return EAGAIN;
    case NLE_AF_NOSUPPORT:
      return EAFNOSUPPORT;
    default:
      return EIO;
  }
}

}  // namespace

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

Error netlink_error(int nl_error, std::string_view what) {
  std::string message(what);
  message += ": ";
  message += nl_geterror(nl_error);
  int err = netlink_to_errno(nl_error);
  if (const char* name = errno_name(err)) {
    message += " (";
    message += name;
    message += ")";
  }
  return Error{ErrorKind::netlink, std::move(message), err};
}

}  // namespace vfhook
