#include "model/names.h"

#include <gtest/gtest.h>

#include "util/printable.h"

namespace vfhook {
namespace {

TEST(Names, Uuid) {
  EXPECT_TRUE(check_uuid("c7a5fdbd-cdaf-9455-926a-d65c16db1809"));
  EXPECT_TRUE(check_uuid("C7A5FDBD-CDAF-9455-926A-D65C16DB1809"));
  for (const char* bad :
       {"", "c7a5fdbdcdaf9455926ad65c16db1809", "c7a5fdbd-cdaf-9455-926a-d65c16db180",
        "c7a5fdbd-cdaf-9455-926a-d65c16db18090", "g7a5fdbd-cdaf-9455-926a-d65c16db1809",
        "c7a5fdbd_cdaf-9455-926a-d65c16db1809"})
    EXPECT_FALSE(check_uuid(bad)) << bad;
}

TEST(Names, DomainName) {
  EXPECT_TRUE(check_domain_name("web-01.example (prod)"));
  EXPECT_FALSE(check_domain_name(""));
  EXPECT_FALSE(check_domain_name("a/b"));
  EXPECT_FALSE(check_domain_name("a\tb"));
  EXPECT_FALSE(check_domain_name(std::string(256, 'a')));
  EXPECT_TRUE(check_domain_name(std::string(255, 'a')));
  EXPECT_TRUE(check_domain_name("caf\xc3\xa9 \xe6\x97\xa5\xf0\x9f\x98\x80")) << "UTF-8";
  for (std::string_view bad :
       {std::string_view("a\0b", 3), std::string_view("vm\x1b[31m"), std::string_view("a\x7f"),
        std::string_view("a\xc2\x9b") /* C1 CSI */, std::string_view("\xff"),
        std::string_view("\xc3") /* cut */, std::string_view("\xc0\xaf") /* overlong '/' */,
        std::string_view("\xed\xa0\x80") /* a surrogate */})
    EXPECT_FALSE(check_domain_name(bad)) << printable(bad);
  auto refused = check_domain_name("vm\n1");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message,
            "domain name 'vm\\x0a1' (4 bytes) refused: it contains a control character; vfhook "
            "takes names of 1..255 bytes of UTF-8 without '/' or control characters");
}

TEST(Names, AliasAndPool) {
  EXPECT_TRUE(is_valid_alias("hostdev0"));
  EXPECT_TRUE(is_valid_alias("ua-sriov_1"));
  for (const char* bad : {"", "..", "a/b", "a.b", "a b", "a\nb"}) EXPECT_FALSE(is_valid_alias(bad));
  EXPECT_TRUE(is_valid_user_alias("ua-x"));
  EXPECT_FALSE(is_valid_user_alias("ua-"));
  EXPECT_FALSE(is_valid_user_alias("net0"));
  EXPECT_TRUE(is_safe_name("provider.v4:a_b-c"));
  for (const char* bad : {"", ".", "..", "a/b", "../x", "a b"}) EXPECT_FALSE(is_safe_name(bad));
  EXPECT_FALSE(is_safe_name(std::string(65, 'p')));
}

TEST(Names, InterfaceNamesAreSafeNamesTheKernelAccepts) {
  EXPECT_TRUE(is_safe_name("provider-1.a_b:c"));
  EXPECT_FALSE(is_safe_name(""));
  EXPECT_FALSE(is_safe_name(".."));
  EXPECT_FALSE(is_safe_name("a/b"));
  EXPECT_FALSE(is_safe_name(std::string(65, 'a')));
  EXPECT_TRUE(is_interface_name("enp1s0f0np0"));
  EXPECT_TRUE(is_interface_name(std::string(15, 'a')));
  EXPECT_FALSE(is_interface_name(std::string(16, 'a')));
  EXPECT_FALSE(is_interface_name("eth0:1"));
}

}  // namespace
}  // namespace vfhook
