// In-process tests of the migrate and restore operations (engine/relocation.h) on the engine
// bed: one igb PF enp1s0 (0000:01:00.0) with 7 VFs, 0000:01:10.0 to 0000:01:11.4, in pool
// "provider" (VLANs 100-199). An arriving domain names VFs of its source host (0000:81:...),
// which this host does not have.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>

#include "engine/operations.h"
#include "testing/addresses.h"
#include "testing/engine_bed.h"

namespace vfhook {
namespace {

using testing::EngineBed;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using testing::pci;

std::string address_xml(const PciAddress& a) {
  char text[128];
  std::snprintf(text, sizeof text,
                "<address type='pci' domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/>",
                a.domain, a.bus, a.slot, a.function);
  return text;
}

struct PortXml {
  std::string mac = "52:54:00:aa:00:01";
  PciAddress host = pci("0000:81:10.2");
  std::string alias = "ua-net0";
  int vlan = 120;
  bool teamed = false;
  std::string guest_slot = "0x07";
};

// <interface type='hostdev'> with everything libvirt's ABI check compares: MAC, alias, guest
// address (and <teaming> for a live-migratable failover VF).
std::string interface_xml(const PortXml& p) {
  return "<interface type='hostdev' managed='no'><mac address='" + p.mac + "'/><source>" +
         address_xml(p.host) + "</source><vlan><tag id='" + std::to_string(p.vlan) + "'/></vlan>" +
         (p.teamed ? "<teaming type='transient' persistent='ua-virtio-" + p.alias.substr(3) + "'/>"
                   : "") +
         "<alias name='" + p.alias + "'/><address type='pci' domain='0x0000' bus='" + p.guest_slot +
         "' slot='0x00' function='0x0'/></interface>";
}

std::string record_xml(const PortXml& p, const std::string& pool = "provider",
                       const std::string& extra = "") {
  return "<vfhook:port alias='" + p.alias + "' mac='" + p.mac + "' pool='" + pool + "' vlan='" +
         std::to_string(p.vlan) + "' ip='192.0.2.10' " + extra + "/>";
}

// `marker`: more of <metadata> (a cold-move marker), after the port records.
std::string domain_xml(const std::string& name, const std::string& devices,
                       const std::string& records, const std::string& numatune = "",
                       const std::string& marker = "") {
  return "<domain type='kvm'><name>" + name +
         "</name><uuid>6f8c2a3e-9d1b-4c5a-8e7f-0a1b2c3d4e5f</uuid><memory unit='KiB'>1048576"
         "</memory>" +
         numatune + "<metadata><vfhook:ports xmlns:vfhook='urn:vfhook:ports:1'>" + records +
         "</vfhook:ports>" + marker +
         "</metadata><devices><emulator>/usr/bin/qemu-system-x86_64</emulator>"
         "<interface type='virtio'><mac address='52:54:00:aa:00:01'/><model type='virtio'/>"
         "<teaming type='persistent'/><alias name='ua-virtio-net0'/></interface>" +
         devices + "</devices></domain>";
}

DomainXml parse(const std::string& xml) {
  auto parsed = DomainXml::parse(xml);
  EXPECT_TRUE(parsed) << parsed.error().message;
  return std::move(*parsed);
}

// `xml` with its <name> replaced.
std::string replace_name(std::string xml, const std::string& name) {
  const size_t open = xml.find("<name>") + 6;
  xml.replace(open, xml.find("</name>") - open, name);
  return xml;
}

std::string why(const Relocation& r) {
  std::string text;
  for (const Refusal& refusal : r.outcome.refusals) text += to_string(refusal) + "\n";
  if (r.outcome.error) text += r.outcome.error->message;
  return text;
}

// The incoming XML with only port `ordinal`'s host source set to `to`: what the rewrite must
// be, byte for byte.
std::string with_host(const std::string& xml, size_t ordinal, const PciAddress& to) {
  DomainXml expected = parse(xml);
  EXPECT_TRUE(expected.set_host_source(ordinal, to));
  return expected.serialize();
}

// The bed's pool, with live migration under virtio failover allowed.
const std::string kFailoverPoolToml = std::string(testing::kProviderPoolToml) + "failover = true\n";

class RelocationTest : public ::testing::TestWithParam<bool> {
 protected:
  EngineBed bed;
};

// Teamed (live migration with virtio failover, into a pool that allows it) and not teamed
// (offline migration): the hook cannot tell them apart and re-points both alike.
TEST_P(RelocationTest, MovesThePortToAFreeVfHereAndChangesNothingElse) {
  PortXml port;
  port.teamed = GetParam();
  if (port.teamed) bed.set_config(kFailoverPoolToml);
  const std::string xml = domain_xml("vm1", interface_xml(port), record_xml(port));

  Relocation r = migrate_domain("vm1", parse(xml), bed.ctx());
  ASSERT_TRUE(r.outcome.ok()) << why(r);
  ASSERT_EQ(r.moves.size(), 1u);
  EXPECT_FALSE(r.moves[0].kept);
  EXPECT_EQ(r.moves[0].from, pci("0000:81:10.2"));
  const PciAddress to = r.moves[0].to;
  EXPECT_EQ(to.bus, 0x01);  // a VF of this host's PF
  ASSERT_TRUE(r.rewritten_xml);
  EXPECT_EQ(*r.rewritten_xml, with_host(xml, 0, to));
  EXPECT_EQ(r.rewritten_xml->find("teaming type=\"transient\"") != std::string::npos, port.teamed);

  DomainXml out = parse(*r.rewritten_xml);
  const DomainXml in = parse(xml);
  ASSERT_EQ(out.vf_ports().size(), 1u);
  EXPECT_EQ(out.vf_ports()[0].host, to);
  EXPECT_EQ(out.vf_ports()[0].mac, in.vf_ports()[0].mac);
  EXPECT_EQ(out.vf_ports()[0].alias, "ua-net0");
  EXPECT_EQ(out.vf_ports()[0].vlan_tag, 120);
  EXPECT_EQ(out.vf_ports()[0].guest_address, in.vf_ports()[0].guest_address);
  EXPECT_EQ(*out.port_records(), *in.port_records());

  ASSERT_EQ(bed.reservations().size(), 1u);
  EXPECT_EQ(bed.reservations()[0], (Reservation{to, "vm1", "provider"}));
  EXPECT_THAT(bed.claims(), IsEmpty());

  // One journal entry for the move: from the source's address to this host's VF.
  const std::vector<LogEntry> moved = bed.log().with_outcome("moved");
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].field(log_field::domain), "vm1");
  EXPECT_EQ(moved[0].field(log_field::from_pci_address), "0000:81:10.2");
  EXPECT_EQ(moved[0].field(log_field::pci_address), to.to_string());
  EXPECT_EQ(moved[0].field(log_field::pool), "provider");
}

INSTANTIATE_TEST_SUITE_P(TeamedOrNot, RelocationTest, ::testing::Bool());

TEST(Relocation, ADomainWithoutVfPortsPassesUntouched) {
  EngineBed bed;
  Relocation r = migrate_domain("vm1", parse(domain_xml("vm1", "", "")), bed.ctx());
  EXPECT_TRUE(r.outcome.ok());
  EXPECT_FALSE(r.rewritten_xml);
  EXPECT_THAT(r.moves, IsEmpty());
  EXPECT_THAT(bed.reservations(), IsEmpty());
}

TEST(Relocation, APoolThisHostLacksIsRefusedByNameAndVlanAndNothingIsReserved) {
  EngineBed bed;
  PortXml port;
  const std::string xml = domain_xml("vm1", interface_xml(port), record_xml(port, "storage"));

  Relocation r = migrate_domain("vm1", parse(xml), bed.ctx());
  ASSERT_EQ(r.outcome.status, Outcome::Status::refused) << why(r);
  ASSERT_EQ(r.outcome.refusals.size(), 1u);
  EXPECT_THAT(r.outcome.refusals[0].reason, HasSubstr("pool 'storage' (VLAN 120)"));
  EXPECT_THAT(r.outcome.refusals[0].reason, HasSubstr("pools here: 'provider'"));
  EXPECT_FALSE(r.rewritten_xml);
  EXPECT_THAT(bed.reservations(), IsEmpty());
}

TEST(Relocation, AVlanThisHostsPoolDoesNotAllowIsRefused) {
  EngineBed bed;
  PortXml port;
  port.vlan = 250;
  const std::string xml = domain_xml("vm1", interface_xml(port), record_xml(port));

  Relocation r = migrate_domain("vm1", parse(xml), bed.ctx());
  ASSERT_EQ(r.outcome.status, Outcome::Status::refused) << why(r);
  ASSERT_EQ(r.outcome.refusals.size(), 1u);
  EXPECT_THAT(r.outcome.refusals[0].reason, HasSubstr("VLAN 250 is outside pool 'provider'"));
  EXPECT_EQ(r.outcome.refusals[0].pool, "provider");  // the log's POOL
  EXPECT_THAT(bed.reservations(), IsEmpty());
  EXPECT_THAT(bed.log().with_outcome("moved"), IsEmpty());
}

TEST(Relocation, AFullPoolIsRefusedNamingWhatHoldsItsVfs) {
  EngineBed bed;
  ASSERT_TRUE(bed.store().transaction([&](StoreTransaction& txn) -> Status {
    for (int i = 0; i < 2; ++i)
      VF_TRY(txn.add_claim(Claim{bed.vf(i), "web1", "provider", "enp1s0", i}));
    for (int i = 2; i < 7; ++i)
      VF_TRY(txn.add_reservation(Reservation{bed.vf(i), i < 5 ? "db1" : "db2", "provider"}));
    return ok();
  }));
  const auto before = bed.reservations();
  PortXml port;
  const std::string xml = domain_xml("vm1", interface_xml(port), record_xml(port));

  Relocation r = migrate_domain("vm1", parse(xml), bed.ctx());
  ASSERT_EQ(r.outcome.status, Outcome::Status::refused) << why(r);
  ASSERT_EQ(r.outcome.refusals.size(), 1u);
  const std::string& reason = r.outcome.refusals[0].reason;
  EXPECT_THAT(reason, HasSubstr("pool 'provider' has no free VF"));
  EXPECT_THAT(reason, HasSubstr("(VLAN 120)"));
  EXPECT_THAT(reason, HasSubstr("domain 'web1' (running, 2 VFs)"));
  EXPECT_THAT(reason, HasSubstr("domain 'db1' (reserved while shut off, 3 VFs)"));
  EXPECT_THAT(reason, HasSubstr("domain 'db2' (reserved while shut off, 2 VFs)"));
  EXPECT_EQ(bed.reservations(), before);
}

TEST(Relocation, EveryPortGetsItsOwnVfOrNoneIsReserved) {
  EngineBed bed;
  PortXml a, b, c;
  b.mac = "52:54:00:aa:00:02";
  b.alias = "ua-net1";
  b.guest_slot = "0x08";
  c.mac = "52:54:00:aa:00:03";
  c.alias = "ua-net2";
  c.guest_slot = "0x09";
  c.host = pci("0000:81:10.6");
  const std::string two =
      domain_xml("vm1", interface_xml(a) + interface_xml(b), record_xml(a) + record_xml(b));
  Relocation r = migrate_domain("vm1", parse(two), bed.ctx());
  ASSERT_TRUE(r.outcome.ok()) << why(r);
  ASSERT_EQ(r.moves.size(), 2u);
  EXPECT_NE(r.moves[0].to, r.moves[1].to);
  EXPECT_EQ(bed.reservations().size(), 2u);

  // A third port whose pool is missing: the other two get nothing.
  EngineBed fresh;
  const std::string three =
      domain_xml("vm2", interface_xml(a) + interface_xml(b) + interface_xml(c),
                 record_xml(a) + record_xml(b) + record_xml(c, "storage"));
  Relocation refused = migrate_domain("vm2", parse(three), fresh.ctx());
  ASSERT_EQ(refused.outcome.status, Outcome::Status::refused) << why(refused);
  EXPECT_THAT(fresh.reservations(), IsEmpty());
}

TEST(Relocation, ASecondMigrateOfTheSameDomainGetsTheSameVfAndNoNewReservation) {
  EngineBed bed;
  PortXml port;
  const std::string xml = domain_xml("vm1", interface_xml(port), record_xml(port));
  Relocation first = migrate_domain("vm1", parse(xml), bed.ctx());
  ASSERT_TRUE(first.outcome.ok()) << why(first);
  const auto reserved = bed.reservations();

  Relocation second = migrate_domain("vm1", parse(xml), bed.ctx());
  ASSERT_TRUE(second.outcome.ok()) << why(second);
  ASSERT_EQ(second.moves.size(), 1u);
  EXPECT_EQ(second.moves[0].to, first.moves[0].to);
  EXPECT_EQ(second.rewritten_xml, first.rewritten_xml);
  EXPECT_EQ(bed.reservations(), reserved);

  // The rewritten definition arriving again (a migration back and forth): kept, no rewrite.
  Relocation again = migrate_domain("vm1", parse(*first.rewritten_xml), bed.ctx());
  ASSERT_TRUE(again.outcome.ok()) << why(again);
  EXPECT_TRUE(again.moves[0].kept);
  EXPECT_FALSE(again.rewritten_xml);
  EXPECT_EQ(bed.reservations(), reserved);
}

TEST(Relocation, RestoreKeepsTheDomainsOwnReservedVf) {
  EngineBed bed;
  PortXml port;
  port.host = bed.vf(3);
  ASSERT_TRUE(bed.store().transaction([&](StoreTransaction& txn) -> Status {
    return txn.add_reservation(Reservation{bed.vf(3), "vm1", "provider"});
  }));
  const std::string xml = domain_xml("vm1", interface_xml(port), record_xml(port));

  Relocation r = restore_domain("vm1", parse(xml), bed.ctx());
  ASSERT_TRUE(r.outcome.ok()) << why(r);
  ASSERT_EQ(r.moves.size(), 1u);
  EXPECT_TRUE(r.moves[0].kept);
  EXPECT_EQ(r.moves[0].to, bed.vf(3));
  EXPECT_FALSE(r.rewritten_xml);
  EXPECT_EQ(bed.reservations(), (std::vector<Reservation>{{bed.vf(3), "vm1", "provider"}}));
}

TEST(Relocation, RestoreMovesOffAVfAnotherDomainTookMeanwhile) {
  EngineBed bed;
  PortXml port;
  port.host = bed.vf(3);
  ASSERT_TRUE(bed.store().transaction([&](StoreTransaction& txn) -> Status {
    return txn.add_claim(Claim{bed.vf(3), "web1", "provider", "enp1s0", 3});
  }));
  const std::string xml = domain_xml("vm1", interface_xml(port), record_xml(port));

  Relocation r = restore_domain("vm1", parse(xml), bed.ctx());
  ASSERT_TRUE(r.outcome.ok()) << why(r);
  EXPECT_FALSE(r.moves[0].kept);
  EXPECT_NE(r.moves[0].to, bed.vf(3));
  ASSERT_TRUE(r.rewritten_xml);
  EXPECT_EQ(*r.rewritten_xml, with_host(xml, 0, r.moves[0].to));
}

// The documented choice: a free VF of the pool at the source's own address is kept.
TEST(Relocation, AFreeVfOfThePoolAtTheSameAddressIsKept) {
  EngineBed bed;
  PortXml port;
  port.host = bed.vf(4);
  const std::string xml = domain_xml("vm1", interface_xml(port), record_xml(port));

  Relocation r = migrate_domain("vm1", parse(xml), bed.ctx());
  ASSERT_TRUE(r.outcome.ok()) << why(r);
  EXPECT_TRUE(r.moves[0].kept);
  EXPECT_FALSE(r.rewritten_xml);
  EXPECT_EQ(bed.reservations(), (std::vector<Reservation>{{bed.vf(4), "vm1", "provider"}}));
}

// A plain <hostdev> whose record names it by host address: the record follows the address, or
// it would describe no device after the move.
TEST(Relocation, AHostdevRecordNamedByAddressFollowsTheNewAddress) {
  EngineBed bed;
  const std::string xml = domain_xml(
      "vm1",
      "<hostdev mode='subsystem' type='pci' managed='no'><source>" +
          address_xml(pci("0000:81:10.2")) +
          "</source><address type='pci' domain='0x0000' bus='0x07' slot='0x00' "
          "function='0x0'/></hostdev>",
      "<vfhook:port host='0000:81:10.2' mac='52:54:00:aa:00:09' pool='provider' vlan='130' "
      "ip='192.0.2.9'/>");

  Relocation r = migrate_domain("vm1", parse(xml), bed.ctx());
  ASSERT_TRUE(r.outcome.ok()) << why(r);
  ASSERT_TRUE(r.rewritten_xml);
  DomainXml out = parse(*r.rewritten_xml);
  auto records = out.port_records();
  ASSERT_TRUE(records);
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].host, r.moves[0].to);
  EXPECT_EQ((*records)[0].mac, *MacAddress::parse("52:54:00:aa:00:09"));
  EXPECT_EQ((*records)[0].ip, "192.0.2.9");
  EXPECT_EQ(out.vf_ports()[0].guest_address, parse(xml).vf_ports()[0].guest_address);
}

// The sequence on the destination: migrate, then libvirt starts the domain with the rewritten
// definition (prepare, start), then stops it (release): the reservation stays, the claim goes.
TEST(Relocation, TheRewrittenDefinitionStartsAndStopsOnThisHost) {
  EngineBed bed;
  PortXml port;
  const std::string xml = domain_xml("vm1", interface_xml(port), record_xml(port));
  Relocation r = migrate_domain("vm1", parse(xml), bed.ctx());
  ASSERT_TRUE(r.outcome.ok()) << why(r);
  DomainXml arrived = parse(*r.rewritten_xml);

  Outcome prepared = prepare_domain("vm1", arrived, bed.ctx());
  ASSERT_TRUE(prepared.ok()) << (prepared.error ? prepared.error->message : "refused");
  ASSERT_EQ(bed.claims().size(), 1u);
  EXPECT_EQ(bed.claims()[0].vf, r.moves[0].to);
  ASSERT_TRUE(start_domain("vm1", arrived, bed.ctx()).ok());
  EXPECT_TRUE(release_domain("vm1", bed.ctx()).ok());
  EXPECT_THAT(bed.claims(), IsEmpty());
  EXPECT_EQ(bed.reservations(), (std::vector<Reservation>{{r.moves[0].to, "vm1", "provider"}}));
}

TEST(Relocation, AnotherDomainCannotStartOnTheVfAMigrationReserved) {
  EngineBed bed;
  PortXml port;
  const std::string xml = domain_xml("vm1", interface_xml(port), record_xml(port));
  Relocation r = migrate_domain("vm1", parse(xml), bed.ctx());
  ASSERT_TRUE(r.outcome.ok()) << why(r);

  PortXml other;
  other.mac = "52:54:00:bb:00:01";
  other.host = r.moves[0].to;
  Outcome outcome = prepare_domain(
      "vm2", parse(domain_xml("vm2", interface_xml(other), record_xml(other))), bed.ctx());
  EXPECT_EQ(outcome.status, Outcome::Status::refused);
  ASSERT_EQ(outcome.refusals.size(), 1u);
  // It says what to do, with the commands that do it.
  EXPECT_THAT(outcome.refusals[0].reason,
              HasSubstr("this VF is reserved for domain 'vm1'. Give this port a free VF (`vfctl "
                        "port remove`, then `vfctl port add` picks one), or remove that domain's "
                        "port first (`vfctl port list vm1` shows it)."));
  EXPECT_THAT(bed.claims(), IsEmpty());
}

TEST(Relocation, NumaPinnedMemoryGetsALocalVf) {
  EngineBed bed;
  // The bed's PF is on NUMA node 0. A guest pinned to node 0 keeps the free VF at its address;
  // one pinned to node 1 does not keep a VF remote from its memory, and the allocator picks
  // (no VF is local to it, so the lowest index).
  PortXml port;
  port.host = bed.vf(5);
  const std::string pinned0 =
      domain_xml("vm1", interface_xml(port), record_xml(port),
                 "<numatune><memory mode='strict' nodeset='0'/></numatune>");
  Relocation r0 = migrate_domain("vm1", parse(pinned0), bed.ctx());
  ASSERT_TRUE(r0.outcome.ok()) << why(r0);
  EXPECT_TRUE(r0.moves[0].kept);

  EngineBed other;
  const std::string pinned1 =
      domain_xml("vm1", interface_xml(port), record_xml(port),
                 "<numatune><memory mode='strict' nodeset='1'/></numatune>");
  Relocation r1 = migrate_domain("vm1", parse(pinned1), other.ctx());
  ASSERT_TRUE(r1.outcome.ok()) << why(r1);
  ASSERT_EQ(r1.moves.size(), 1u);
  EXPECT_FALSE(r1.moves[0].kept);
  EXPECT_EQ(r1.moves[0].to, other.vf(0));
}

// Without a record, the pool is the one whose PF holds the VF the address names here.
TEST(Relocation, APortWithoutARecordStaysInThePoolOfItsVfHere) {
  EngineBed bed;
  ASSERT_TRUE(bed.store().transaction([&](StoreTransaction& txn) -> Status {
    return txn.add_claim(Claim{bed.vf(1), "web1", "provider", "enp1s0", 1});
  }));
  PortXml port;
  port.host = bed.vf(1);
  const std::string xml = domain_xml("vm1", interface_xml(port), "");

  Relocation r = migrate_domain("vm1", parse(xml), bed.ctx());
  ASSERT_TRUE(r.outcome.ok()) << why(r);
  ASSERT_EQ(r.moves.size(), 1u);
  EXPECT_FALSE(r.moves[0].kept);
  EXPECT_NE(r.moves[0].to, bed.vf(1));
  EXPECT_EQ(bed.reservations(), (std::vector<Reservation>{{r.moves[0].to, "vm1", "provider"}}));
}

TEST(Relocation, InvalidPortRecordsAreRefused) {
  EngineBed bed;
  PortXml port;
  const std::string xml =
      domain_xml("vm1", interface_xml(port), record_xml(port, "provider", "trust='maybe'"));
  Relocation r = migrate_domain("vm1", parse(xml), bed.ctx());
  ASSERT_EQ(r.outcome.status, Outcome::Status::refused);
  EXPECT_THAT(why(r), HasSubstr("port records are invalid"));
  EXPECT_THAT(bed.reservations(), IsEmpty());
  EXPECT_THAT(why(r), Not(HasSubstr("reserved")));
}

// ---- virtio failover and the cold-move marker ---------------------------------------------

std::string marker_xml(int64_t expires, const std::string& mode = "offline") {
  return "<vfmove:move xmlns:vfmove='urn:vfhook:move:1' mode='" + mode + "' expires='" +
         std::to_string(expires) + "'/>";
}

// The bed's fake wall clock reads this (unix seconds) unless a test moves it.
const int64_t kNow = FakeClock::kFakeWallStart.count();

PortXml teamed_port() {
  PortXml port;
  port.teamed = true;
  return port;
}

TEST(Failover, ATeamedPortIntoAPoolWithoutFailoverIsRefusedAndNothingIsReserved) {
  EngineBed bed;  // failover = false: the default
  const PortXml port = teamed_port();
  const std::string xml = domain_xml("web1", interface_xml(port), record_xml(port));
  const auto before = bed.fingerprint();

  Relocation r = migrate_domain("web1", parse(xml), bed.ctx());
  ASSERT_EQ(r.outcome.status, Outcome::Status::refused) << why(r);
  ASSERT_EQ(r.outcome.refusals.size(), 1u) << why(r);
  EXPECT_EQ(r.outcome.refusals[0].subject, "interface 52:54:00:aa:00:01");
  EXPECT_EQ(r.outcome.refusals[0].reason,
            "live migration refused: it is a VF with virtio failover (<teaming "
            "type='transient'>), and pool 'provider' on this host does not allow live migration "
            "(failover = false). Move it cold with `vfctl migrate web1 DEST_URI --cold`, or set "
            "failover = true for pool 'provider' on both hosts.");
  EXPECT_FALSE(r.rewritten_xml);
  EXPECT_THAT(bed.reservations(), IsEmpty());
  EXPECT_EQ(bed.fingerprint(), before);
}

TEST(Failover, AValidMarkerLetsItMoveColdAndIsRemovedFromTheDefinition) {
  EngineBed bed;
  const PortXml port = teamed_port();
  const std::string plain = domain_xml("web1", interface_xml(port), record_xml(port));
  const std::string xml =
      domain_xml("web1", interface_xml(port), record_xml(port), "", marker_xml(kNow + 600));

  Relocation r = migrate_domain("web1", parse(xml), bed.ctx());
  ASSERT_TRUE(r.outcome.ok()) << why(r);
  ASSERT_EQ(r.moves.size(), 1u);
  ASSERT_TRUE(r.rewritten_xml);
  // The marker-less definition with the new address: nothing else changed.
  EXPECT_EQ(*r.rewritten_xml, with_host(plain, 0, r.moves[0].to));
  EXPECT_THAT(*r.rewritten_xml, Not(HasSubstr("urn:vfhook:move:1")));
  EXPECT_THAT(*r.rewritten_xml, HasSubstr("teaming type=\"transient\""));
  EXPECT_EQ(bed.reservations(), (std::vector<Reservation>{{r.moves[0].to, "web1", "provider"}}));
}

TEST(Failover, AnExpiredMarkerCountsAsAbsent) {
  EngineBed bed;
  const PortXml port = teamed_port();
  const std::string xml =
      domain_xml("web1", interface_xml(port), record_xml(port), "", marker_xml(kNow + 60));

  // One second before expiry it vouches for a cold move; at expiry it no longer does.
  bed.clock().set_wall(std::chrono::seconds(kNow + 59));
  Relocation early = migrate_domain("web1", parse(xml), bed.ctx());
  ASSERT_TRUE(early.outcome.ok()) << why(early);
  ASSERT_EQ(bed.reservations().size(), 1u);

  bed.clock().set_wall(std::chrono::seconds(kNow + 60));
  Relocation late = migrate_domain("web2", parse(replace_name(xml, "web2")), bed.ctx());
  ASSERT_EQ(late.outcome.status, Outcome::Status::refused) << why(late);
  EXPECT_THAT(why(late), HasSubstr("The domain's cold-move marker has expired"));
  EXPECT_THAT(why(late), HasSubstr("`vfctl migrate web2 DEST_URI --cold`"));
  EXPECT_EQ(bed.reservations().size(), 1u);  // web1's only
}

TEST(Failover, APoolWithFailoverTakesTheTeamedPortLiveAndStillDropsAMarker) {
  EngineBed bed;
  bed.set_config(kFailoverPoolToml);
  PortXml port = teamed_port();
  port.host = bed.vf(4);  // a free VF of the pool here: kept, no address to rewrite
  const std::string plain = domain_xml("web1", interface_xml(port), record_xml(port));
  const std::string marked =
      domain_xml("web1", interface_xml(port), record_xml(port), "", marker_xml(kNow - 1));

  Relocation live = migrate_domain("web1", parse(plain), bed.ctx());
  ASSERT_TRUE(live.outcome.ok()) << why(live);
  EXPECT_TRUE(live.moves[0].kept);
  EXPECT_FALSE(live.rewritten_xml);  // nothing changed: libvirt keeps its own

  // The same arrival with an (expired) marker: still nothing to re-point, but the marker must
  // not travel on, so the definition is printed without it.
  Relocation marked_arrival = migrate_domain("web1", parse(marked), bed.ctx());
  ASSERT_TRUE(marked_arrival.outcome.ok()) << why(marked_arrival);
  EXPECT_TRUE(marked_arrival.moves[0].kept);
  ASSERT_TRUE(marked_arrival.rewritten_xml);
  EXPECT_EQ(*marked_arrival.rewritten_xml, parse(plain).serialize());
}

TEST(Failover, APortThatIsNotTeamedArrivesWithoutAMarkerWhateverTheSwitch) {
  EngineBed bed;  // failover = false
  PortXml port;   // no <teaming>: it can only come offline
  Relocation r = migrate_domain(
      "vm1", parse(domain_xml("vm1", interface_xml(port), record_xml(port))), bed.ctx());
  ASSERT_TRUE(r.outcome.ok()) << why(r);
  EXPECT_EQ(bed.reservations().size(), 1u);
}

TEST(Failover, AnInvalidMarkerRefusesTheDomain) {
  EngineBed bed;
  bed.set_config(kFailoverPoolToml);  // even where the port could arrive live
  const PortXml port = teamed_port();
  for (const std::string& marker : {marker_xml(kNow + 600, "live"), marker_xml(0)}) {
    Relocation r = migrate_domain(
        "web1", parse(domain_xml("web1", interface_xml(port), record_xml(port), "", marker)),
        bed.ctx());
    ASSERT_EQ(r.outcome.status, Outcome::Status::refused) << marker;
    EXPECT_THAT(why(r), HasSubstr("vfhook cold-move marker <vfmove:move> (urn:vfhook:move:1) "
                                  "refused"));
    EXPECT_THAT(why(r), HasSubstr("virsh metadata web1 urn:vfhook:move:1 --config --remove"));
    EXPECT_FALSE(r.rewritten_xml);
  }
  EXPECT_THAT(bed.reservations(), IsEmpty());
}

TEST(Failover, ADomainWithoutVfPortsKeepsItsMarkerAndIsNotRewritten) {
  EngineBed bed;
  Relocation r =
      migrate_domain("vm1", parse(domain_xml("vm1", "", "", "", marker_xml(0))), bed.ctx());
  EXPECT_TRUE(r.outcome.ok());
  EXPECT_FALSE(r.rewritten_xml);
}

// A restore is not a live move (the guest comes back from a file, e.g. libvirt-guests' save at
// host shutdown): the pool's failover switch does not apply, and the own VF is kept.
TEST(Failover, RestoreOfATeamedPortIgnoresTheFailoverSwitch) {
  EngineBed bed;
  PortXml port = teamed_port();
  port.host = bed.vf(3);
  ASSERT_TRUE(bed.store().transaction([&](StoreTransaction& txn) -> Status {
    return txn.add_reservation(Reservation{bed.vf(3), "web1", "provider"});
  }));
  const std::string xml = domain_xml("web1", interface_xml(port), record_xml(port));

  Relocation restored = restore_domain("web1", parse(xml), bed.ctx());
  ASSERT_TRUE(restored.outcome.ok()) << why(restored);
  EXPECT_TRUE(restored.moves[0].kept);
  EXPECT_FALSE(restored.rewritten_xml);
  // The same XML arriving by migration is refused: only migrate knows a live move.
  Relocation migrated = migrate_domain("web1", parse(xml), bed.ctx());
  EXPECT_EQ(migrated.outcome.status, Outcome::Status::refused) << why(migrated);
}

// A cold move, then a further migration of what the hook printed: the marker did not travel,
// so the next host takes the move as live again.
TEST(Failover, TheMarkerDoesNotTravelToTheNextHost) {
  EngineBed first_host;
  const PortXml port = teamed_port();
  const std::string xml =
      domain_xml("web1", interface_xml(port), record_xml(port), "", marker_xml(kNow + 600));
  Relocation cold = migrate_domain("web1", parse(xml), first_host.ctx());
  ASSERT_TRUE(cold.outcome.ok()) << why(cold);
  ASSERT_TRUE(cold.rewritten_xml);

  EngineBed next_host;
  Relocation onward = migrate_domain("web1", parse(*cold.rewritten_xml), next_host.ctx());
  ASSERT_EQ(onward.outcome.status, Outcome::Status::refused) << why(onward);
  EXPECT_THAT(why(onward), HasSubstr("live migration refused"));
  EXPECT_THAT(why(onward), Not(HasSubstr("expired")));
}

// The arriving definition is checked as prepare will check it: a broken failover pair is
// refused here rather than at the first start.
TEST(Failover, ABrokenPairIsRefusedOnArrival) {
  EngineBed bed;
  bed.set_config(kFailoverPoolToml);
  PortXml port = teamed_port();
  port.mac = "52:54:00:aa:00:09";  // not the virtio partner's
  Relocation r = migrate_domain(
      "web1", parse(domain_xml("web1", interface_xml(port), record_xml(port))), bed.ctx());
  ASSERT_EQ(r.outcome.status, Outcome::Status::refused) << why(r);
  EXPECT_THAT(why(r), HasSubstr("the guest's failover driver pairs the two by MAC"));
  EXPECT_THAT(bed.reservations(), IsEmpty());
}

}  // namespace
}  // namespace vfhook
