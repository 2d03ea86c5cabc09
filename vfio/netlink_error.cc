#include "vfio/netlink_error.h"

#include <netlink/errno.h>

#include <cerrno>
#include <string>

namespace vfhook {
namespace {

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
