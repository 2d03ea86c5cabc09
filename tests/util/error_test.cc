#include <gtest/gtest.h>

#include <cerrno>

#include "util/result.h"

namespace vfhook {
namespace {

Result<int> fails_with_enoent() {
  return fail(errno_error(ENOENT, "open bus/pci/x"));
}

Result<int> adds_one() {
  VF_ASSIGN(value, fails_with_enoent());
  return value + 1;
}

TEST(Error, ErrnoBecomesANamedMessageOnce) {
  Error e = errno_error(EBUSY, "write unbind");
  EXPECT_EQ(e.kind, ErrorKind::os);
  EXPECT_EQ(e.sys_errno, EBUSY);
  EXPECT_EQ(e.message, "write unbind: Device or resource busy (EBUSY)");
}

TEST(Error, ContextIsPrefixedOutermostFirst) {
  auto r = with_context(with_context(adds_one(), "VF 3"), "domain vm1");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.rfind("domain vm1: VF 3: open bus/pci/x: ", 0), 0u);
  EXPECT_EQ(r.error().sys_errno, ENOENT);
}

}  // namespace
}  // namespace vfhook
