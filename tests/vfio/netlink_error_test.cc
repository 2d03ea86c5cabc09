#include "vfio/netlink_error.h"

#include <gtest/gtest.h>
#include <netlink/errno.h>

#include <cerrno>

namespace vfhook {
namespace {

TEST(NetlinkError, NetlinkCodesMapToErrno) {
  Error e = netlink_error(-NLE_OPNOTSUPP, "PF enp1s0 VF 2: set trust on");
  EXPECT_EQ(e.kind, ErrorKind::netlink);
  EXPECT_EQ(e.sys_errno, EOPNOTSUPP);
  EXPECT_NE(e.message.find("EOPNOTSUPP"), std::string::npos);
  EXPECT_EQ(e.message.rfind("PF enp1s0 VF 2: set trust on: ", 0), 0u);
}

}  // namespace
}  // namespace vfhook
