#include "model/vf_settings.h"

#include <gtest/gtest.h>

namespace vfhook {
namespace {

TEST(VfSettings, VlanProtocolWordsRoundTrip) {
  for (VlanProtocol protocol : {VlanProtocol::dot1q, VlanProtocol::dot1ad})
    EXPECT_EQ(parse_vlan_protocol(to_string(protocol)), protocol);
  for (const char* bad : {"", "802.1q", "802.1AD", "8021Q", " 802.1Q", "802.1Q "})
    EXPECT_FALSE(parse_vlan_protocol(bad)) << bad;
}

TEST(VfSettings, LinkStateWordsRoundTrip) {
  for (LinkState state : {LinkState::automatic, LinkState::enable, LinkState::disable})
    EXPECT_EQ(parse_link_state(to_string(state)), state);
  EXPECT_EQ(parse_link_state("auto"), LinkState::automatic);
  for (const char* bad : {"", "Auto", "automatic", "on", "enabled", "disable "})
    EXPECT_FALSE(parse_link_state(bad)) << bad;
}

}  // namespace
}  // namespace vfhook
