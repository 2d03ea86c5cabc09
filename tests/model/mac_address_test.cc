#include "model/mac_address.h"

#include <gtest/gtest.h>

namespace vfhook {
namespace {

TEST(MacAddress, ParsesAndPrintsLowerCase) {
  auto m = MacAddress::parse("52:54:00:AB:cd:0F");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->to_string(), "52:54:00:ab:cd:0f");
  EXPECT_FALSE(m->is_multicast());
  EXPECT_FALSE(m->is_zero());
}

TEST(MacAddress, RefusesMalformedText) {
  for (const char* bad : {"", "52:54:00:ab:cd", "52:54:00:ab:cd:0f:11", "52-54-00-ab-cd-0f",
                          "52:54:00:ab:cd:0g", "52:54:00:ab:cd:0f\n"})
    EXPECT_FALSE(MacAddress::parse(bad)) << bad;
}

TEST(MacAddress, UnicastRefusesMulticastAndZero) {
  auto multicast = MacAddress::parse_unicast("01:00:5e:00:00:01");
  ASSERT_FALSE(multicast);
  EXPECT_NE(multicast.error().message.find("multicast"), std::string::npos);
  EXPECT_FALSE(MacAddress::parse_unicast("00:00:00:00:00:00"));
  EXPECT_TRUE(MacAddress::parse_unicast("02:00:00:00:00:01"));
}

}  // namespace
}  // namespace vfhook
