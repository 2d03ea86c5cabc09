// The migrate and restore hooks through the real binary, as libvirt runs them on the destination:
// the source's definition on stdin, a rewritten one on stdout only when a VF port moved, and a
// refusal (exit 1, stderr) that aborts the migration with nothing changed here.
#include <algorithm>
#include <set>

#include "tests/blackbox/hook_test.h"
#include "xml/domain_xml.h"

namespace vfhook::blackbox {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// vm1 as its source host defines it: one hostdev interface on the source's VF 0000:81:10.2
// (no such device here), VLAN 120, an alias and a port record with an IP.
std::string arriving_domain(const std::string& pool = "provider", int vlan = 120,
                            const PciAddress& source = pci("0000:81:10.2")) {
  return domain_xml(
      "vm1", interface_hostdev_xml({mac("52:54:00:aa:00:01"), source, false, vlan, "ua-net0"}),
      port_record_xml(R"(alias="ua-net0" mac="52:54:00:aa:00:01" pool=")" + pool + R"(" vlan=")" +
                      std::to_string(vlan) + R"(" ip="192.0.2.10")"));
}

std::string with_host(const std::string& xml, const PciAddress& to) {
  auto doc = DomainXml::parse(xml);
  EXPECT_TRUE(doc);
  EXPECT_TRUE(doc->set_host_source(0, to));
  return doc->serialize();
}

TEST_F(HookTest, MigratePrintsTheDefinitionWithALocalVfAndReservesIt) {
  const std::string xml = arriving_domain();
  HookResult migrated = bed.hook("vm1", "migrate", xml);
  ASSERT_EQ(migrated.exit_code, 0) << explain(migrated);
  EXPECT_EQ(migrated.err, "");
  ASSERT_EQ(bed.reservations().size(), 1u);
  const Reservation reserved = bed.reservations()[0];
  EXPECT_EQ(reserved.domain, "vm1");
  EXPECT_EQ(reserved.pool, "provider");
  EXPECT_NE(std::find(vfs.begin(), vfs.end(), reserved.vf), vfs.end());
  // Byte for byte the incoming definition with that one address changed.
  EXPECT_EQ(migrated.out, with_host(xml, reserved.vf));
  EXPECT_THAT(bed.claims(), IsEmpty());
  EXPECT_THAT(bed.requests(), IsEmpty());  // no VF was touched

  // libvirt then starts the domain here with what the hook printed.
  HookResult prepared = bed.hook("vm1", "prepare", migrated.out);
  ASSERT_EQ(prepared.exit_code, 0) << explain(prepared);
  ASSERT_EQ(bed.claims().size(), 1u);
  EXPECT_EQ(bed.claims()[0].vf, reserved.vf);
}

TEST_F(HookTest, ASecondMigrateOfTheSameDomainPrintsTheSameDefinition) {
  const std::string xml = arriving_domain();
  HookResult first = bed.hook("vm1", "migrate", xml);
  ASSERT_EQ(first.exit_code, 0) << explain(first);
  HookResult second = bed.hook("vm1", "migrate", xml);
  ASSERT_EQ(second.exit_code, 0) << explain(second);
  EXPECT_EQ(second.out, first.out);
  EXPECT_EQ(bed.reservations().size(), 1u);
}

TEST_F(HookTest, MigrateToAHostWithoutThePoolIsRefusedWithNothingChanged) {
  const auto before = bed.fingerprint();
  HookResult migrated = bed.hook("vm1", "migrate", arriving_domain("storage"));
  EXPECT_EQ(migrated.exit_code, 1) << explain(migrated);
  EXPECT_EQ(migrated.out, "");
  EXPECT_THAT(migrated.err, HasSubstr("vfhook refused the migration of domain 'vm1' to this host"));
  EXPECT_THAT(migrated.err, HasSubstr("pool 'storage' (VLAN 120)"));
  EXPECT_THAT(migrated.err, HasSubstr("Nothing was changed on the host."));
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
}

TEST_F(HookTest, MigrateIsRefusedWhenThePoolIsFullNamingTheHolders) {
  for (int i = 0; i < 4; ++i) bed.add_reservation({vfs[i], "db1", "provider"});
  const auto before = bed.fingerprint();
  HookResult migrated = bed.hook("vm1", "migrate", arriving_domain());
  EXPECT_EQ(migrated.exit_code, 1) << explain(migrated);
  EXPECT_EQ(migrated.out, "");
  EXPECT_THAT(migrated.err, HasSubstr("pool 'provider' has no free VF"));
  EXPECT_THAT(migrated.err, HasSubstr("domain 'db1' (reserved while shut off, 4 VFs)"));
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
}

TEST_F(HookTest, MigrateIsRefusedForAVlanThisHostDoesNotAllow) {
  HookResult migrated = bed.hook("vm1", "migrate", arriving_domain("provider", 50));
  EXPECT_EQ(migrated.exit_code, 1) << explain(migrated);
  EXPECT_EQ(migrated.out, "");
  EXPECT_THAT(migrated.err, HasSubstr("VLAN 50 is reserved for the host's own bridges"));
  EXPECT_THAT(bed.reservations(), IsEmpty());
}

TEST_F(HookTest, RestoreOnTheSameHostKeepsItsVfAndPrintsNothing) {
  bed.add_reservation({vfs[2], "vm1", "provider"});
  HookResult restored = bed.hook("vm1", "restore", arriving_domain("provider", 120, vfs[2]));
  ASSERT_EQ(restored.exit_code, 0) << explain(restored);
  EXPECT_EQ(restored.out, "");  // libvirt keeps its own definition
  EXPECT_EQ(restored.err, "");
  EXPECT_EQ(bed.reservations(), (std::vector<Reservation>{{vfs[2], "vm1", "provider"}}));
}

// The fast path: a domain without VF ports never loads the core, so even a config the core
// would refuse does not stop its migration.
TEST_F(HookTest, ADomainWithoutVfPortsMigratesUntouchedOnTheFastPath) {
  bed.write_config("this is not TOML [");
  const std::string xml = domain_xml("vm1",
                                     "<interface type='bridge'><mac address='52:54:00:aa:00:05'/>"
                                     "<source bridge='br0'/></interface>\n");
  for (const char* op : {"migrate", "restore"}) {
    HookResult r = bed.hook("vm1", op, xml);
    EXPECT_EQ(r.exit_code, 0) << op << ": " << explain(r);
    EXPECT_EQ(r.out, "") << op;
    EXPECT_EQ(r.err, "") << op;
  }
  // A VF domain with that config is refused: it cannot be given a VF here.
  HookResult vf = bed.hook("vm1", "migrate", arriving_domain());
  EXPECT_EQ(vf.exit_code, 1) << explain(vf);
  EXPECT_EQ(vf.out, "");
  EXPECT_THAT(vf.err, HasSubstr("vfhook cannot use its config"));
}

// vm1 with a virtio-net failover pair: the virtio interface (persistent side) and the VF
// interface on the source's VF, with <teaming type='transient'> naming the virtio one.
std::string teamed_domain(const std::string& marker = "") {
  std::string xml = domain_xml(
      "vm1",
      "<interface type='bridge'><mac address='52:54:00:aa:00:01'/><source bridge='br0'/>"
      "<model type='virtio'/><teaming type='persistent'/><alias name='ua-virtio0'/>"
      "</interface>\n"
      "<interface type='hostdev' managed='no'><mac address='52:54:00:aa:00:01'/><source>" +
          pci_address_xml(pci("0000:81:10.2")) +
          "</source><vlan><tag id='120'/></vlan><teaming type='transient' "
          "persistent='ua-virtio0'/><alias name='ua-net0'/><address type='pci' "
          "domain='0x0000' bus='0x07' slot='0x00' function='0x0'/></interface>\n",
      port_record_xml(R"(alias="ua-net0" pool="provider" vlan="120")"));
  if (!marker.empty()) {
    const std::string after = "</vfhook:ports>\n";
    xml.insert(xml.find(after) + after.size(), "    " + marker + "\n");
  }
  return xml;
}

std::string marker_xml(const std::string& expires) {
  return R"(<vfmove:move xmlns:vfmove="urn:vfhook:move:1" mode="offline" expires=")" + expires +
         R"("/>)";
}

// The real clock decides: the year 2100 is ahead, 1970 behind.
const std::string kFarFuture = "4102444800";
const std::string kLongAgo = "1000";

// A live migration with virtio failover into a pool that allows it: the VF interface carries
// <teaming type='transient'> and its virtio partner <teaming type='persistent'/>; both come
// out as they went in.
TEST_F(HookTest, ATeamedPortMovesWithItsTeamingIntact) {
  bed.write_config(std::string(kProviderConfig) + "failover = true\n");
  const std::string xml = teamed_domain();
  HookResult migrated = bed.hook("vm1", "migrate", xml);
  ASSERT_EQ(migrated.exit_code, 0) << explain(migrated);
  ASSERT_EQ(bed.reservations().size(), 1u);
  EXPECT_EQ(migrated.out, with_host(xml, bed.reservations()[0].vf));
  EXPECT_THAT(migrated.out, HasSubstr("<teaming type=\"transient\" persistent=\"ua-virtio0\"/>"));
  EXPECT_THAT(migrated.out, HasSubstr("<teaming type=\"persistent\"/>"));
}

// The default (failover = false): a teamed port can only be arriving live, and is refused.
TEST_F(HookTest, ATeamedPortIsRefusedWhereThePoolDoesNotAllowFailover) {
  const auto before = bed.fingerprint();
  HookResult migrated = bed.hook("vm1", "migrate", teamed_domain());
  EXPECT_EQ(migrated.exit_code, 1) << explain(migrated);
  EXPECT_EQ(migrated.out, "");
  EXPECT_EQ(migrated.err,
            "vfhook refused the migration of domain 'vm1' to this host:\n"
            "  - interface 52:54:00:aa:00:01: live migration refused: it is a VF with virtio "
            "failover (<teaming type='transient'>), and pool 'provider' on this host does not "
            "allow live migration (failover = false). Move it cold with `vfctl migrate vm1 "
            "DEST_URI --cold`, or set failover = true for pool 'provider' on both hosts.\n"
            "Nothing was changed on the host.\n");
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
}

// `vfctl migrate --cold`'s marker: the move is offline, the port is re-pointed, and the
// definition handed to libvirt no longer carries the marker. Then the domain starts here.
TEST_F(HookTest, AColdMoveMarkerLetsATeamedPortInAndIsRemoved) {
  const std::string xml = teamed_domain(marker_xml(kFarFuture));
  HookResult migrated = bed.hook("vm1", "migrate", xml);
  ASSERT_EQ(migrated.exit_code, 0) << explain(migrated);
  EXPECT_EQ(migrated.err, "");
  ASSERT_EQ(bed.reservations().size(), 1u);
  const PciAddress vf = bed.reservations()[0].vf;
  EXPECT_THAT(migrated.out, Not(HasSubstr("urn:vfhook:move:1")));
  // Byte for byte the marker-less definition with the new address (the marker's line gone).
  EXPECT_EQ(migrated.out, with_host(teamed_domain(), vf));

  HookResult prepared = bed.hook("vm1", "prepare", migrated.out);
  ASSERT_EQ(prepared.exit_code, 0) << explain(prepared);
  ASSERT_EQ(bed.claims().size(), 1u);
  EXPECT_EQ(bed.claims()[0].vf, vf);
}

// vfctl migrate --live detached port ua-net0 (no virtio failover) on the source: the guest
// arrives with a virtio NIC, the port's record, and a live re-attach marker listing the port.
std::string reattach_domain(const std::string& expires) {
  std::string xml = domain_xml(
      "vm1",
      "<interface type='bridge'><mac address='52:54:00:00:00:99'/><source bridge='br0'/>"
      "<model type='virtio'/><alias name='ua-virtio0'/></interface>\n",
      port_record_xml(R"(alias="ua-net0" mac="52:54:00:aa:00:05" pool="provider" vlan="120")"));
  const std::string after = "</vfhook:ports>\n";
  xml.insert(xml.find(after) + after.size(),
             R"(    <vfmove:move xmlns:vfmove="urn:vfhook:move:1" mode="live-reattach" expires=")" +
                 expires + R"("><port alias="ua-net0" mac="52:54:00:aa:00:05"/></vfmove:move>)" +
                 "\n");
  return xml;
}

TEST_F(HookTest, ALiveReattachMarkerGetsAVfThatPrepareClaimsAndReleaseRestores) {
  const auto before = bed.fingerprint();
  HookResult migrated = bed.hook("vm1", "migrate", reattach_domain(kFarFuture));
  ASSERT_EQ(migrated.exit_code, 0) << explain(migrated);
  EXPECT_EQ(migrated.err, "");
  ASSERT_EQ(bed.reservations().size(), 1u);
  const PciAddress vf = bed.reservations()[0].vf;
  // The marker stays, naming the VF; the devices are as they came.
  EXPECT_THAT(migrated.out, HasSubstr("vf=\"" + vf.to_string() + "\""));
  EXPECT_THAT(migrated.out, Not(HasSubstr("type='hostdev'")));
  EXPECT_THAT(bed.claims(), IsEmpty());

  // The incoming QEMU: prepare and start claim, bind and configure the VF.
  HookResult prepared = bed.hook("vm1", "prepare", migrated.out);
  ASSERT_EQ(prepared.exit_code, 0) << explain(prepared);
  ASSERT_EQ(bed.claims().size(), 1u);
  EXPECT_EQ(bed.claims()[0].vf, vf);
  HookResult started = bed.hook("vm1", "start", migrated.out);
  ASSERT_EQ(started.exit_code, 0) << explain(started);

  // The guest stops (whether or not vfctl attached the port): release restores the VF.
  HookResult released = bed.hook("vm1", "release", migrated.out, "end", "-");
  ASSERT_EQ(released.exit_code, 0) << explain(released);
  EXPECT_THAT(bed.claims(), IsEmpty());
  // Only the reservation stays: the domain is defined here now.
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()),
            "reservation/" + vf.to_string() + ": (new) -> vm1 pool provider\n");
}

TEST_F(HookTest, AnExpiredLiveReattachMarkerIsDroppedAndNoVfChosen) {
  HookResult migrated = bed.hook("vm1", "migrate", reattach_domain(kLongAgo));
  ASSERT_EQ(migrated.exit_code, 0) << explain(migrated);
  EXPECT_THAT(migrated.out, Not(HasSubstr("urn:vfhook:move:1")));
  EXPECT_THAT(bed.reservations(), IsEmpty());
}

TEST_F(HookTest, AnExpiredMarkerIsIgnoredAndTheTeamedPortRefused) {
  HookResult migrated = bed.hook("vm1", "migrate", teamed_domain(marker_xml(kLongAgo)));
  EXPECT_EQ(migrated.exit_code, 1) << explain(migrated);
  EXPECT_EQ(migrated.out, "");
  EXPECT_THAT(migrated.err, HasSubstr("The domain's cold-move marker has expired"));
  EXPECT_THAT(bed.reservations(), IsEmpty());
}

TEST_F(HookTest, ABrokenMarkerRefusesTheMigration) {
  HookResult migrated =
      bed.hook("vm1", "migrate",
               teamed_domain(R"(<vfmove:move xmlns:vfmove="urn:vfhook:move:1" mode="offline"/>)"));
  EXPECT_EQ(migrated.exit_code, 1) << explain(migrated);
  EXPECT_EQ(migrated.out, "");
  EXPECT_THAT(migrated.err, HasSubstr("vfhook cold-move marker <vfmove:move> (urn:vfhook:move:1) "
                                      "refused: attribute expires is required"));
  EXPECT_THAT(bed.reservations(), IsEmpty());
}

// With failover allowed, an expired marker changes nothing about the decision but is still
// taken out of the definition, which is printed even though no address changed.
TEST_F(HookTest, AnyMarkerIsRemovedEvenWhenNoAddressChanges) {
  bed.write_config(std::string(kProviderConfig) + "failover = true\n");
  bed.add_reservation({vfs[1], "vm1", "provider"});
  std::string xml = teamed_domain(marker_xml(kLongAgo));
  auto doc = DomainXml::parse(xml);
  ASSERT_TRUE(doc);
  ASSERT_TRUE(doc->set_host_source(0, vfs[1]));  // already on its own VF here
  HookResult migrated = bed.hook("vm1", "migrate", doc->serialize());
  ASSERT_EQ(migrated.exit_code, 0) << explain(migrated);
  EXPECT_EQ(migrated.out, with_host(teamed_domain(), vfs[1]));
  EXPECT_EQ(bed.reservations(), (std::vector<Reservation>{{vfs[1], "vm1", "provider"}}));
}

// Restore of a saved teamed guest (the only kind libvirt saves) is not a live move: it is
// accepted whatever the pool's failover switch says, and the VF re-pointed here.
TEST_F(HookTest, RestoreOfATeamedPortIgnoresThePoolsFailoverSwitch) {
  HookResult restored = bed.hook("vm1", "restore", teamed_domain());
  ASSERT_EQ(restored.exit_code, 0) << explain(restored);
  ASSERT_EQ(bed.reservations().size(), 1u);
  EXPECT_EQ(restored.out, with_host(teamed_domain(), bed.reservations()[0].vf));
  HookResult migrated = bed.hook("vm1", "migrate", teamed_domain());
  EXPECT_EQ(migrated.exit_code, 1) << explain(migrated);
}

// The marker's namespace does not open the fast path: a domain without VF ports never loads
// the core (its config here is broken), marker or not.
TEST_F(HookTest, AMarkerAloneKeepsADomainWithoutVfPortsOnTheFastPath) {
  bed.write_config("this is not TOML [");
  const std::string xml = "<domain type='kvm'><name>vm1</name><metadata>" + marker_xml(kFarFuture) +
                          "</metadata><devices><interface type='bridge'><mac "
                          "address='52:54:00:aa:00:05'/><source bridge='br0'/></interface>"
                          "</devices></domain>";
  HookResult r = bed.hook("vm1", "migrate", xml);
  EXPECT_EQ(r.exit_code, 0) << explain(r);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");
}

// prepare refuses a broken pair through the real binary, changing nothing; the fixed
// definition starts.
TEST_F(HookTest, PrepareRefusesABrokenFailoverPair) {
  std::string broken = with_host(teamed_domain(), vfs[1]);
  const std::string partner = "<teaming type=\"persistent\"/>";
  ASSERT_NE(broken.find(partner), std::string::npos);
  broken.erase(broken.find(partner), partner.size());
  const auto before = bed.fingerprint();
  HookResult refused = bed.hook("vm1", "prepare", broken);
  EXPECT_EQ(refused.exit_code, 1) << explain(refused);
  EXPECT_THAT(refused.err, HasSubstr("vfhook refused to start domain 'vm1'"));
  EXPECT_THAT(refused.err, HasSubstr("names interface ua-virtio0 (mac 52:54:00:aa:00:01), which "
                                     "has no <teaming type='persistent'/>"));
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");

  HookResult prepared = bed.hook("vm1", "prepare", with_host(teamed_domain(), vfs[1]));
  ASSERT_EQ(prepared.exit_code, 0) << explain(prepared);
  EXPECT_EQ(bed.claims().size(), 1u);
}

// Six two-port domains migrate here at once onto four free VFs: nobody gets a VF twice, a
// domain that arrives gets both its VFs, and one that is refused reserves nothing.
TEST_F(HookTest, ConcurrentMigrationsNeverShareAVfAndRefusedOnesReserveNothing) {
  constexpr int kDomains = 6;
  auto name_of = [](int i) { return "vm" + std::to_string(i); };
  auto xml_of = [&](int i) {
    std::string devices, records;
    for (int port = 0; port < 2; ++port) {
      const std::string mac_text =
          "52:54:00:00:0" + std::to_string(i) + ":0" + std::to_string(port);
      devices += interface_hostdev_xml({mac(mac_text), pci("0000:81:10." + std::to_string(port)),
                                        false, 120, "ua-net" + std::to_string(port)});
      records += port_record_xml(R"(alias="ua-net)" + std::to_string(port) +
                                 R"(" pool="provider" vlan="120")");
    }
    return domain_xml(name_of(i), devices, records);
  };
  std::vector<std::unique_ptr<HookProcess>> processes;
  for (int i = 0; i < kDomains; ++i)
    processes.push_back(HookProcess::spawn(bed.hook_argv(name_of(i), "migrate")));
  for (int i = 0; i < kDomains; ++i) processes[static_cast<size_t>(i)]->feed(xml_of(i));
  std::vector<HookResult> results;
  for (auto& process : processes) results.push_back(process->finish());

  const std::vector<Reservation> reservations = bed.reservations();
  std::set<PciAddress> reserved_vfs;
  for (const Reservation& r : reservations) EXPECT_TRUE(reserved_vfs.insert(r.vf).second);
  int arrived = 0;
  for (int i = 0; i < kDomains; ++i) {
    const HookResult& r = results[static_cast<size_t>(i)];
    std::set<PciAddress> own;
    for (const Reservation& reservation : reservations)
      if (reservation.domain == name_of(i)) own.insert(reservation.vf);
    if (r.exit_code == 0) {
      ++arrived;
      EXPECT_EQ(own.size(), 2u) << name_of(i);
      auto doc = DomainXml::parse(r.out);
      ASSERT_TRUE(doc) << r.out;
      std::set<PciAddress> printed;
      for (const VfPort& port : doc->vf_ports()) printed.insert(*port.host);
      EXPECT_EQ(printed, own) << name_of(i);
    } else {
      EXPECT_EQ(r.exit_code, 1) << explain(r);
      EXPECT_EQ(r.out, "") << name_of(i);
      EXPECT_THAT(own, IsEmpty()) << name_of(i);
      EXPECT_THAT(r.err, HasSubstr("vfhook refused the migration of domain '" + name_of(i)))
          << explain(r);
    }
  }
  RecordProperty("arrived", arrived);  // 2 unless the retries ran out (see relocation.h)
  EXPECT_GE(arrived, 1);
  EXPECT_LE(arrived, 2);
  EXPECT_EQ(reservations.size(), static_cast<size_t>(2 * arrived));
}

}  // namespace
}  // namespace vfhook::blackbox
