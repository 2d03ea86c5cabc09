// LibnlVfNetlink against this machine's kernel. The host has no SR-IOV NIC (the nested lab
// covers real VFs), so this checks what a VF-less link must give: a readable link with no
// VFs, and setters refused before anything is sent.
#include "vfio/netlink_libnl.h"

#include <gtest/gtest.h>

namespace vfhook {
namespace {

class LibnlVfNetlinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = LibnlVfNetlink::open();
    if (!opened) GTEST_SKIP() << "no rtnetlink here: " << opened.error().message;
    netlink = std::move(*opened);
  }
  std::unique_ptr<LibnlVfNetlink> netlink;
};

TEST_F(LibnlVfNetlinkTest, LoopbackReadsAsALinkWithoutVfs) {
  auto pf = netlink->read_pf("lo");
  ASSERT_TRUE(pf) << pf.error().message;
  EXPECT_EQ(pf->name, "lo");
  EXPECT_GT(pf->ifindex, 0);
  EXPECT_TRUE(pf->vfs.empty());
}

TEST_F(LibnlVfNetlinkTest, SetterOnALinkWithoutVfsIsRefusedAndNamed) {
  auto st = netlink->set_trust("lo", 0, true);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::not_found);
  EXPECT_NE(st.error().message.find("trust on"), std::string::npos) << st.error().message;
}

TEST_F(LibnlVfNetlinkTest, UnknownAndInvalidNamesAreRefused) {
  auto missing = netlink->read_pf("vfhook-none0");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("vfhook-none0"), std::string::npos);
  EXPECT_EQ(netlink->read_pf("../lo").error().kind, ErrorKind::invalid_input);
  EXPECT_EQ(netlink->read_pf("a-name-longer-than-ifnamsiz").error().kind, ErrorKind::invalid_input);
}

}  // namespace
}  // namespace vfhook
