#include "vfio/vf_control.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "testing/addresses.h"
#include "testing/fake_vf_netlink.h"

namespace vfhook {
namespace {

using testing::mac;

class VfControlTest : public ::testing::Test {
 protected:
  void SetUp() override { netlink.add_pf("enp1s0", 2, true, 4); }
  RecordingVfNetlink netlink;
};

VfSettings everything() {
  VfSettings settings;
  settings.rates = VfSettings::Rates{10, 100};
  settings.link_state = LinkState::enable;
  settings.trust = true;
  settings.spoofchk = false;
  settings.vlan = Vlan{10, 3, VlanProtocol::dot1ad};
  settings.mac = mac("52:54:00:12:34:56");
  return settings;
}

TEST_F(VfControlTest, SendsOneRequestPerAttributeInFixedOrder) {
  auto st = apply_vf_settings(netlink, "enp1s0", 3, everything());
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(netlink.requests(), (std::vector<std::string>{
                                    "set_mac enp1s0 3 52:54:00:12:34:56",
                                    "set_vlan enp1s0 3 10 qos 3 proto 802.1ad",
                                    "set_spoofchk enp1s0 3 off",
                                    "set_trust enp1s0 3 on",
                                    "set_link_state enp1s0 3 enable",
                                    "set_rates enp1s0 3 min 10 max 100",
                                }));
  auto state = read_vf(netlink, "enp1s0", 3);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->mac, mac("52:54:00:12:34:56"));
  EXPECT_EQ(state->vlan, (Vlan{10, 3, VlanProtocol::dot1ad}));
  EXPECT_FALSE(state->spoofchk);
  EXPECT_EQ(state->trust, true);
  EXPECT_EQ(state->link_state, LinkState::enable);
  EXPECT_EQ(state->min_tx_rate, 10u);
  EXPECT_EQ(state->max_tx_rate, 100u);
  VfState untouched;
  untouched.index = 2;
  untouched.trust = false;
  EXPECT_EQ(netlink.pf("enp1s0")->vfs[2], untouched);
}

TEST_F(VfControlTest, SendsOnlyTheFieldsThatAreSet) {
  VfSettings settings;
  settings.trust = false;
  ASSERT_TRUE(apply_vf_settings(netlink, "enp1s0", 0, settings));
  EXPECT_EQ(netlink.requests(), (std::vector<std::string>{"set_trust enp1s0 0 off"}));
  netlink.set_requests({});
  ASSERT_TRUE(apply_vf_settings(netlink, "enp1s0", 0, VfSettings{}));
  EXPECT_TRUE(netlink.requests().empty());
}

TEST_F(VfControlTest, RefusedAttributeIsNamedAndLaterOnesAreNotSent) {
  netlink.refuse(VfAttribute::trust, EOPNOTSUPP);
  auto st = apply_vf_settings(netlink, "enp1s0", 3, everything());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::netlink);
  EXPECT_EQ(st.error().sys_errno, EOPNOTSUPP);
  EXPECT_EQ(st.error().message,
            "PF enp1s0 VF 3: driver refused trust on: Operation not supported (EOPNOTSUPP)");
  ASSERT_EQ(netlink.requests().size(), 4u);
  EXPECT_EQ(netlink.requests().back(), "set_trust enp1s0 3 on");
}

TEST_F(VfControlTest, FaultForAnotherVfDoesNotApply) {
  netlink.refuse(VfAttribute::mac, EPERM, "enp1s0", 1);
  EXPECT_TRUE(apply_vf_settings(netlink, "enp1s0", 0, everything()));
  EXPECT_FALSE(apply_vf_settings(netlink, "enp1s0", 1, everything()));
}

TEST_F(VfControlTest, SettingThatDoesNotStickIsCaught) {
  netlink.ignore(VfAttribute::spoofchk);
  auto st = apply_vf_settings(netlink, "enp1s0", 2, everything());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message,
            "PF enp1s0 VF 2: spoofchk off did not stick: the driver reports on");
  EXPECT_EQ(netlink.requests().size(), 6u);  // everything was sent, then verified
}

TEST_F(VfControlTest, RatesThatDoNotStickAreCaught) {
  netlink.ignore(VfAttribute::rates, "enp1s0");
  VfSettings settings;
  settings.rates = VfSettings::Rates{0, 500};
  auto st = apply_vf_settings(netlink, "enp1s0", 0, settings);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("rates min 0 max 500 did not stick"), std::string::npos);
}

TEST_F(VfControlTest, InvalidSettingsAreRefusedBeforeAnythingIsSent) {
  VfSettings bad_vlan;
  bad_vlan.vlan = Vlan{4095, 0, VlanProtocol::dot1q};
  VfSettings qos_untagged;
  qos_untagged.vlan = Vlan{0, 3, VlanProtocol::dot1q};
  VfSettings multicast;
  multicast.mac = mac("01:00:5e:00:00:01");
  VfSettings rates;
  rates.rates = VfSettings::Rates{200, 100};
  for (const auto& settings : {bad_vlan, qos_untagged, multicast, rates}) {
    auto st = apply_vf_settings(netlink, "enp1s0", 0, settings);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().kind, ErrorKind::invalid_input);
  }
  EXPECT_TRUE(netlink.requests().empty());
}

TEST_F(VfControlTest, UnknownVfOrPfIsNotFoundAndNothingIsSent) {
  auto vf = apply_vf_settings(netlink, "enp1s0", 4, everything());
  ASSERT_FALSE(vf);
  EXPECT_EQ(vf.error().kind, ErrorKind::not_found);
  EXPECT_NE(vf.error().message.find("PF enp1s0 VF 4"), std::string::npos);
  auto pf = read_vf(netlink, "enp9s0", 0);
  ASSERT_FALSE(pf);
  EXPECT_EQ(pf.error().kind, ErrorKind::not_found);
  EXPECT_TRUE(netlink.requests().empty());
}

}  // namespace
}  // namespace vfhook
