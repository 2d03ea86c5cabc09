#include "model/names.h"

#include <gtest/gtest.h>

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
