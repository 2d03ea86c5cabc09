// Failover parking (engine/failover_parking.h): a teamed VF the guest has let go of during its
// live migration gets its idle MAC, its claim and every other setting kept; if the migration
// fails, it gets the port's MAC back. Only the domain's own claimed VFs are touched.
#include "engine/failover_parking.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>

#include "engine/decision_log.h"
#include "engine/operations.h"
#include "engine/vf_restore.h"
#include "testing/engine_bed.h"

namespace vfhook {
namespace {

using ::testing::ElementsAre;
using testing::EngineBed;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const char* const kGuestMac = "52:54:00:aa:00:01";

// A guest with a failover pair (virtio standby ua-virtio0, VF port ua-sriov0 on `vf`).
std::string teamed_domain(const std::string& name, const PciAddress& vf, const std::string& mac) {
  char source[128];
  std::snprintf(source, sizeof source,
                "<address type='pci' domain='0x0000' bus='0x%02x' slot='0x%02x' "
                "function='0x%x'/>",
                vf.bus, vf.slot, vf.function);
  return "<domain type='kvm'><name>" + name +
         "</name><metadata><vfhook:ports xmlns:vfhook='urn:vfhook:ports:1'><vfhook:port "
         "alias='ua-sriov0' pool='provider' vlan='120'/></vfhook:ports></metadata><devices>"
         "<controller type='pci' index='8' model='pcie-root-port'><alias name='pci.8'/>"
         "<address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>"
         "</controller><interface type='bridge'><mac address='" +
         mac +
         "'/><source bridge='br0'/><model type='virtio'/><teaming type='persistent'/>"
         "<alias name='ua-virtio0'/></interface><interface type='hostdev' managed='no'>"
         "<mac address='" +
         mac + "'/><source>" + source +
         "</source><vlan><tag id='120'/></vlan><teaming type='transient' "
         "persistent='ua-virtio0'/><alias name='ua-sriov0'/><address type='pci' "
         "domain='0x0000' bus='0x08' slot='0x00' function='0x0'/></interface></devices>"
         "</domain>";
}

class FailoverParkingTest : public ::testing::Test {
 protected:
  void SetUp() override { start("web1", 2, kGuestMac); }

  // prepare and start, and between them what libvirt does for an <interface type='hostdev'>:
  // the VF's admin MAC and VLAN.
  void start(const std::string& name, int index, const std::string& mac) {
    auto domain = DomainXml::parse(teamed_domain(name, bed.vf(index), mac));
    ASSERT_TRUE(domain) << domain.error().message;
    Outcome prepared = prepare_domain(name, *domain, bed.ctx());
    ASSERT_TRUE(prepared.ok());
    VfState& vf = bed.netlink().pf("enp1s0")->vfs.at(static_cast<size_t>(index));
    vf.mac = *MacAddress::parse(mac);
    vf.vlan.id = 120;
    ASSERT_TRUE(start_domain(name, *domain, bed.ctx()).ok());
  }
  const VfState& vf(int index) {
    return bed.netlink().pf("enp1s0")->vfs.at(static_cast<size_t>(index));
  }

  EngineBed bed;
};

TEST_F(FailoverParkingTest, ParkingGivesTheIdleMacAndKeepsTheClaimAndTheVlan) {
  ASSERT_EQ(vf(2).mac.to_string(), kGuestMac);
  const auto claims_before = bed.claims();
  bed.netlink().set_requests({});

  FailoverParking parked = park_failover_vfs("web1", {bed.vf(2)}, bed.ctx());
  EXPECT_THAT(parked.problems, IsEmpty());
  const MacAddress idle = idle_mac_for(bed.vf(2));
  EXPECT_THAT(parked.changed, ElementsAre(ParkedVf{bed.vf(2), "enp1s0", 2, idle}));
  EXPECT_THAT(bed.netlink().requests(), ElementsAre("set_mac enp1s0 2 " + idle.to_string()));
  EXPECT_EQ(vf(2).mac, idle);
  EXPECT_EQ(vf(2).vlan.id, 120);
  EXPECT_EQ(bed.claims(), claims_before);
  ASSERT_EQ(bed.log().with_outcome(log_outcome::parked).size(), 1u);
  EXPECT_THAT(bed.log().with_outcome(log_outcome::parked)[0].message,
              HasSubstr("domain web1: PF enp1s0 VF 2 (" + bed.vf(2).to_string() +
                        ") left the guest for its migration: parked with MAC " + idle.to_string()));

  // A second event (or a second call) changes nothing.
  bed.netlink().set_requests({});
  parked = park_failover_vfs("web1", {bed.vf(2)}, bed.ctx());
  EXPECT_THAT(parked.changed, IsEmpty());
  EXPECT_THAT(parked.problems, IsEmpty());
  EXPECT_THAT(bed.netlink().requests(), IsEmpty());
}

// The migration failed: the port's MAC is back, and the release after the guest stops still
// restores the VF as it was before the claim.
TEST_F(FailoverParkingTest, UnparkingPutsThePortsMacBackAndReleaseStillRestores) {
  const auto before = vf(3);  // untouched
  ASSERT_THAT(park_failover_vfs("web1", {bed.vf(2)}, bed.ctx()).problems, IsEmpty());
  FailoverParking back = unpark_failover_vfs("web1", {bed.vf(2)}, bed.ctx());
  EXPECT_THAT(back.problems, IsEmpty());
  ASSERT_EQ(back.changed.size(), 1u);
  EXPECT_EQ(vf(2).mac.to_string(), kGuestMac);
  EXPECT_EQ(bed.log().with_outcome(log_outcome::unparked).size(), 1u);
  // Unparking a VF that has its MAC already sends nothing.
  bed.netlink().set_requests({});
  EXPECT_THAT(unpark_failover_vfs("web1", {bed.vf(2)}, bed.ctx()).changed, IsEmpty());
  EXPECT_THAT(bed.netlink().requests(), IsEmpty());

  // Parked again, then the guest leaves: release restores from the snapshot, whatever the MAC.
  ASSERT_THAT(park_failover_vfs("web1", {bed.vf(2)}, bed.ctx()).problems, IsEmpty());
  bed.netlink().pf("enp1s0")->vfs.at(2).vlan = Vlan{};  // libvirt's own restore, before release
  EXPECT_TRUE(release_domain("web1", bed.ctx()).ok());
  EXPECT_THAT(bed.claims(), IsEmpty());
  EXPECT_EQ(vf(2).vlan.id, 0);
  EXPECT_NE(vf(2).mac.to_string(), kGuestMac);
  EXPECT_EQ(vf(3), before);
}

TEST_F(FailoverParkingTest, OnlyTheDomainsOwnClaimedVfsAreTouched) {
  start("db1", 4, "52:54:00:aa:00:04");
  bed.netlink().set_requests({});
  FailoverParking parked = park_failover_vfs("web1", {bed.vf(4), bed.vf(5), bed.vf(2)}, bed.ctx());
  ASSERT_EQ(parked.problems.size(), 2u);
  EXPECT_THAT(parked.problems[0],
              HasSubstr(bed.vf(4).to_string() + ": claimed by domain 'db1'; left as it is"));
  EXPECT_THAT(parked.problems[1],
              HasSubstr(bed.vf(5).to_string() + ": not claimed on this host; left as it is"));
  ASSERT_EQ(parked.changed.size(), 1u);  // web1's own VF still parks
  EXPECT_EQ(parked.changed[0].vf, bed.vf(2));
  EXPECT_THAT(bed.netlink().requests(),
              ElementsAre("set_mac enp1s0 2 " + idle_mac_for(bed.vf(2)).to_string()));
  EXPECT_EQ(vf(4).mac.to_string(), "52:54:00:aa:00:04");
}

TEST_F(FailoverParkingTest, ADriverThatRefusesTheMacLeavesItAndSaysWhy) {
  bed.netlink().refuse(VfAttribute::mac, EPERM, "enp1s0", 2);
  FailoverParking parked = park_failover_vfs("web1", {bed.vf(2)}, bed.ctx());
  EXPECT_THAT(parked.changed, IsEmpty());
  ASSERT_EQ(parked.problems.size(), 1u);
  EXPECT_THAT(parked.problems[0], HasSubstr("PF enp1s0 VF 2 (" + bed.vf(2).to_string() + ")"));
  EXPECT_EQ(vf(2).mac.to_string(), kGuestMac);
  ASSERT_EQ(bed.log().with_outcome(log_outcome::problem).size(), 1u);
  EXPECT_EQ(bed.log().with_outcome(log_outcome::problem)[0].level, LogLevel::warning);
}

}  // namespace
}  // namespace vfhook
