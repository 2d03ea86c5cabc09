// The destination's side of a live move with re-attach (engine/live_reattach.h) on the engine
// bed: the migrate hook chooses and reserves a VF for each port of the marker and writes it
// there; prepare and start claim, bind and configure it as a port of the domain; release
// restores it. Sequences as libvirt runs them for an incoming live migration.
#include "engine/live_reattach.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/operations.h"
#include "engine/port_allocation.h"
#include "testing/engine_bed.h"

namespace vfhook {
namespace {

using testing::EngineBed;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// A running guest whose VF port ua-sriov0 (record: pool provider, VLAN 120, trust on) was
// detached on the source; it keeps a virtio NIC. `marker`: the <metadata> move marker.
std::string arriving(const std::string& marker, const std::string& pool = "provider") {
  return "<domain type='kvm'><name>vm1</name><uuid>6f8c2a3e-9d1b-4c5a-8e7f-0a1b2c3d4e5f</uuid>"
         "<memory unit='KiB'>1048576</memory><metadata>"
         "<vfhook:ports xmlns:vfhook='urn:vfhook:ports:1'><vfhook:port alias='ua-sriov0' "
         "mac='52:54:00:aa:00:05' pool='" +
         pool + "' vlan='120' trust='on'/></vfhook:ports>" + marker +
         "</metadata><devices><emulator>/usr/bin/qemu-system-x86_64</emulator>"
         "<interface type='bridge'><mac address='52:54:00:00:00:99'/><source bridge='br0'/>"
         "<model type='virtio'/><alias name='ua-net0'/></interface></devices></domain>";
}

std::string marker(int64_t expires = 1'900'000'000, const std::string& vf = "") {
  return "<vfmove:move xmlns:vfmove='urn:vfhook:move:1' mode='live-reattach' expires='" +
         std::to_string(expires) + "'><port alias='ua-sriov0' mac='52:54:00:aa:00:05'" +
         (vf.empty() ? "" : " vf='" + vf + "'") + "/></vfmove:move>";
}

DomainXml parse(const std::string& xml) {
  auto parsed = DomainXml::parse(xml);
  EXPECT_TRUE(parsed) << parsed.error().message;
  return std::move(*parsed);
}

std::string why(const Outcome& outcome) {
  std::string text;
  for (const Refusal& refusal : outcome.refusals) text += to_string(refusal) + "\n";
  if (outcome.error) text += outcome.error->message;
  return text;
}

class LiveReattachTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bed.clock().set_wall(std::chrono::seconds(1'800'000'000));
    // Admin MACs as `vfctl vfs apply` leaves them: a release puts them back exactly (it never
    // writes an all-zero MAC).
    for (VfState& vf : bed.netlink().pf("enp1s0")->vfs)
      vf.mac = MacAddress{{0x02, 0, 0, 0, 1, static_cast<uint8_t>(vf.index)}};
  }
  const VfState& state_of(const PciAddress& vf) {
    for (int i = 0; i < 7; ++i)
      if (bed.vf(i) == vf) return bed.netlink().pf("enp1s0")->vfs.at(static_cast<size_t>(i));
    ADD_FAILURE() << "no VF " << vf.to_string();
    return bed.netlink().pf("enp1s0")->vfs.at(0);
  }
  EngineBed bed;
};

TEST_F(LiveReattachTest, TheHookChoosesAVfThenPrepareAndStartReadyItAndReleaseRestoresIt) {
  const auto before = bed.fingerprint();
  // Another guest holds the first VF here.
  ASSERT_TRUE(reserve_vf(bed.vf(0), VfRequest{"db1", "provider", {}, {}}, bed.ctx()));

  Relocation r = migrate_domain("vm1", parse(arriving(marker())), bed.ctx());
  ASSERT_TRUE(r.outcome.ok()) << why(r.outcome);
  ASSERT_EQ(r.moves.size(), 1u);
  const PciAddress vf = r.moves[0].to;
  EXPECT_NE(vf, bed.vf(0));
  EXPECT_FALSE(r.moves[0].from);
  ASSERT_TRUE(r.rewritten_xml);
  // The marker stays, with the VF in it; nothing else in the document changes.
  DomainXml rewritten = parse(*r.rewritten_xml);
  ASSERT_TRUE(rewritten.move_marker() && *rewritten.move_marker());
  const MoveMarker written = **rewritten.move_marker();
  EXPECT_EQ(written.mode, MoveMode::live_reattach);
  ASSERT_EQ(written.ports.size(), 1u);
  EXPECT_EQ(written.ports[0].vf, vf);
  EXPECT_THAT(rewritten.vf_ports(), IsEmpty());
  bool reserved = false;
  for (const Reservation& reservation : bed.reservations())
    reserved |= reservation.vf == vf && reservation.domain == "vm1";
  EXPECT_TRUE(reserved);
  EXPECT_THAT(bed.claims(), IsEmpty());

  // The incoming QEMU starts: prepare claims and binds the VF, start sets what libvirt cannot.
  ASSERT_TRUE(prepare_domain("vm1", rewritten, bed.ctx()).ok());
  ASSERT_EQ(bed.claims().size(), 1u);
  EXPECT_EQ(bed.claims()[0].vf, vf);
  EXPECT_EQ(bed.claims()[0].domain, "vm1");
  EXPECT_EQ(bed.driver(vf), std::optional<std::string>("vfio-pci"));
  const Outcome started = start_domain("vm1", rewritten, bed.ctx());
  ASSERT_TRUE(started.ok()) << why(started);
  EXPECT_EQ(state_of(vf).trust, std::optional<bool>(true));

  // The guest stops: release restores the VF like any claim.
  ASSERT_TRUE(release_domain("vm1", bed.ctx()).ok());
  EXPECT_THAT(bed.claims(), IsEmpty());
  EXPECT_EQ(bed.fingerprint(), before);
}

// libvirtd restarts on the destination after the incoming migration, before vfctl attached the
// port: reconnect keeps the VF the marker lists (claimed, on vfio-pci, configured). Once the
// marker is gone and the port never came, the claim is released as any unused one.
TEST_F(LiveReattachTest, AReconnectBeforeTheAttachKeepsTheMarkersVf) {
  const auto before = bed.fingerprint();
  Relocation r = migrate_domain("vm1", parse(arriving(marker())), bed.ctx());
  ASSERT_TRUE(r.outcome.ok()) << why(r.outcome);
  const PciAddress vf = r.moves[0].to;
  DomainXml rewritten = parse(*r.rewritten_xml);
  ASSERT_TRUE(prepare_domain("vm1", rewritten, bed.ctx()).ok());
  ASSERT_TRUE(start_domain("vm1", rewritten, bed.ctx()).ok());
  const auto claimed = bed.claims();
  ASSERT_EQ(claimed.size(), 1u);

  Outcome reconnected = reconnect_domain("vm1", rewritten, bed.ctx());
  EXPECT_TRUE(reconnected.ok());
  EXPECT_THAT(reconnected.problems, IsEmpty());
  EXPECT_EQ(bed.claims(), claimed);
  EXPECT_EQ(bed.driver(vf), std::optional<std::string>("vfio-pci"));
  EXPECT_EQ(state_of(vf).trust, std::optional<bool>(true));

  // An unreadable marker: nothing is released, and reconnect says why.
  Outcome unreadable = reconnect_domain(
      "vm1", parse(arriving(marker(1'900'000'000, "not-a-pci-address"))), bed.ctx());
  ASSERT_EQ(unreadable.problems.size(), 1u);
  EXPECT_THAT(unreadable.problems[0], HasSubstr("live re-attach marker cannot be read"));
  EXPECT_EQ(bed.claims(), claimed);

  // vfctl gave up (no marker, no device): the next reconnect restores and releases the VF.
  Outcome after = reconnect_domain("vm1", parse(arriving("")), bed.ctx());
  EXPECT_TRUE(after.ok());
  EXPECT_THAT(bed.claims(), IsEmpty());
  EXPECT_EQ(bed.fingerprint(), before);
}

TEST_F(LiveReattachTest, APortWhosePoolRulesRefuseItIsRefusedAndNothingIsReserved) {
  // VLAN 120 is outside this host's ranges.
  bed.set_config("[[pool]]\nname = \"provider\"\npfs = [\"enp1s0\"]\nvlans = [\"200-299\"]\n");
  Relocation r = migrate_domain("vm1", parse(arriving(marker())), bed.ctx());
  ASSERT_FALSE(r.outcome.ok());
  EXPECT_THAT(why(r.outcome), HasSubstr("ua-sriov0"));
  EXPECT_THAT(why(r.outcome), HasSubstr("120"));
  EXPECT_THAT(bed.reservations(), IsEmpty());

  Relocation unknown = migrate_domain("vm1", parse(arriving(marker(), "elsewhere")), bed.ctx());
  ASSERT_FALSE(unknown.outcome.ok());
  EXPECT_THAT(why(unknown.outcome), HasSubstr("pool 'elsewhere'"));
  EXPECT_THAT(bed.reservations(), IsEmpty());
}

TEST_F(LiveReattachTest, APoolOfWholeDevicesHereIsRefusedSayingWhatToFix) {
  // Here "provider" gives whole NICs: the port cannot get a VF of it.
  bed.set_config("[[pool]]\nname = \"provider\"\nmode = \"pf\"\npfs = [\"enp1s0\"]\n");
  Relocation r = migrate_domain("vm1", parse(arriving(marker())), bed.ctx());
  ASSERT_EQ(r.outcome.status, Outcome::Status::refused);
  ASSERT_EQ(r.outcome.refusals.size(), 1u);
  EXPECT_THAT(r.outcome.refusals[0].subject, HasSubstr("ua-sriov0"));
  EXPECT_THAT(r.outcome.refusals[0].reason,
              HasSubstr("pool 'provider' gives whole devices here; a VF port cannot be "
                        "re-attached from it. A pool name must mean a pool of VFs on both hosts: "
                        "fix this host's vfhook config, or move the domain to a host whose pool "
                        "'provider' gives VFs."));
  EXPECT_THAT(bed.reservations(), IsEmpty());
  EXPECT_THAT(bed.claims(), IsEmpty());
}

TEST_F(LiveReattachTest, AnExpiredMarkerIsDroppedAndNoVfIsChosen) {
  Relocation r = migrate_domain("vm1", parse(arriving(marker(1'700'000'000))), bed.ctx());
  ASSERT_TRUE(r.outcome.ok()) << why(r.outcome);
  EXPECT_THAT(r.moves, IsEmpty());
  ASSERT_TRUE(r.rewritten_xml);
  EXPECT_THAT(*r.rewritten_xml, Not(HasSubstr("urn:vfhook:move:1")));
  EXPECT_THAT(bed.reservations(), IsEmpty());
}

TEST_F(LiveReattachTest, PrepareSeesOnlyListedPortsWithAVfAndNoDeviceYet) {
  // No VF chosen yet (the hook did not run): nothing to add.
  auto none = with_reattach_ports(parse(arriving(marker())));
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(*none);
  // With one: an <interface type='hostdev' managed='no'> with the marker's MAC, the record's
  // VLAN and the alias, and the record moved along.
  auto added = with_reattach_ports(parse(arriving(marker(1'900'000'000, "0000:01:10.3"))));
  ASSERT_TRUE(added && *added);
  ASSERT_EQ((*added)->vf_ports().size(), 1u);
  const VfPort& port = (*added)->vf_ports()[0];
  EXPECT_EQ(port.host, PciAddress::parse("0000:01:10.3").value());
  EXPECT_EQ(port.mac, MacAddress::parse_unicast("52:54:00:aa:00:05").value());
  EXPECT_EQ(port.vlan_tag, 120);
  EXPECT_EQ(port.alias, "ua-sriov0");
  EXPECT_FALSE(port.managed);
  ASSERT_TRUE((*added)->port_records());
  EXPECT_EQ((*added)->port_records()->size(), 1u);
  // A listed port without a record is an error, not a silent skip.
  std::string no_record = arriving(marker(1'900'000'000, "0000:01:10.3"));
  no_record.replace(no_record.find("alias='ua-sriov0' mac='52:54:00:aa:00:05'"),
                    std::string("alias='ua-sriov0' mac='52:54:00:aa:00:05'").size(),
                    "alias='ua-other' mac='52:54:00:aa:00:06'");
  auto refused = with_reattach_ports(parse(no_record));
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, HasSubstr("ua-sriov0"));
}

}  // namespace
}  // namespace vfhook
