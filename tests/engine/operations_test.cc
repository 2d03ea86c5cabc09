// In-process tests of the engine's operations (prepare, start, release, reconnect) on the fakes
// of testing/: sequences as libvirt and operators produce them, checked against what the fakes
// were asked to do and the state they hold.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>

#include "engine/operations.h"
#include "testing/engine_bed.h"

namespace vfhook {
namespace {

using testing::EngineBed;
using ::testing::HasSubstr;

// A domain with one managed='no' hostdev interface on VF `vf` of the bed's PF.
std::string one_port_domain(const std::string& name, const PciAddress& vf, const char* mac,
                            int vlan, const std::string& record_extra = "") {
  char fn[8];
  std::snprintf(fn, sizeof fn, "0x%x", vf.function);
  char slot[8];
  std::snprintf(slot, sizeof slot, "0x%02x", vf.slot);
  return "<domain type='kvm'><name>" + name +
         "</name><metadata><vfhook:ports xmlns:vfhook='urn:vfhook:ports:1'>"
         "<vfhook:port mac='" +
         mac + "' pool='provider' vlan='" + std::to_string(vlan) + "' " + record_extra +
         "/></vfhook:ports></metadata><devices>"
         "<interface type='hostdev' managed='no'><mac address='" +
         mac + "'/><source><address type='pci' domain='0x0000' bus='0x01' slot='" + slot +
         "' function='" + fn + "'/></source><vlan><tag id='" + std::to_string(vlan) +
         "'/></vlan></interface></devices></domain>";
}

DomainXml parse(const std::string& xml) {
  auto parsed = DomainXml::parse(xml);
  EXPECT_TRUE(parsed) << parsed.error().message;
  return std::move(*parsed);
}

TEST(EngineOperations, PrepareStartReleaseLeavesEveryVfAsItWas) {
  EngineBed bed;
  // A unicast admin MAC to come back exactly (release never restores an all-zero one).
  bed.netlink().pf("enp1s0")->vfs[2].mac = *MacAddress::parse("02:00:00:00:01:02");
  auto before = bed.fingerprint();
  DomainXml domain = parse(one_port_domain("vm1", bed.vf(2), "52:54:00:aa:00:02", 120,
                                           "qos='3' trust='on' max-tx-rate='100'"));

  Outcome prepared = prepare_domain("vm1", domain, bed.ctx());
  ASSERT_TRUE(prepared.ok()) << (prepared.error ? prepared.error->message : "refused");
  EXPECT_EQ(bed.driver(bed.vf(2)), "vfio-pci");
  ASSERT_EQ(bed.claims().size(), 1u);
  EXPECT_EQ(bed.claims()[0].domain, "vm1");
  EXPECT_EQ(bed.claims()[0].vf, bed.vf(2));

  Outcome started = start_domain("vm1", domain, bed.ctx());
  ASSERT_TRUE(started.ok()) << (started.error ? started.error->message : "refused");
  const VfState& vf2 = bed.netlink().pf("enp1s0")->vfs[2];
  EXPECT_EQ(vf2.vlan.id, 120);
  EXPECT_EQ(vf2.vlan.qos, 3);
  EXPECT_EQ(vf2.trust, true);
  EXPECT_EQ(vf2.max_tx_rate, 100u);

  Outcome released = release_domain("vm1", bed.ctx());
  EXPECT_TRUE(released.ok());
  EXPECT_TRUE(released.problems.empty());
  EXPECT_TRUE(bed.claims().empty());
  EXPECT_EQ(bed.fingerprint(), before);
}

TEST(EngineOperations, APortOutsideThePoolIsRefusedAsDataAndNothingChanges) {
  EngineBed bed;
  auto before = bed.fingerprint();
  DomainXml domain = parse(one_port_domain("vm1", bed.vf(1), "52:54:00:aa:00:01", 250));

  Outcome outcome = prepare_domain("vm1", domain, bed.ctx());
  ASSERT_EQ(outcome.status, Outcome::Status::refused);
  ASSERT_EQ(outcome.refusals.size(), 1u);
  EXPECT_THAT(outcome.refusals[0].subject, HasSubstr("PF enp1s0 VF 1"));
  EXPECT_THAT(outcome.refusals[0].reason, HasSubstr("VLAN 250 is outside pool 'provider'"));
  EXPECT_FALSE(outcome.error);
  EXPECT_TRUE(bed.claims().empty());
  EXPECT_TRUE(bed.netlink().requests().empty());
  EXPECT_EQ(bed.fingerprint(), before);
}

TEST(EngineOperations, AVfHeldByARunningDomainIsRefusedToTheNextOne) {
  EngineBed bed;
  DomainXml first = parse(one_port_domain("vm1", bed.vf(3), "52:54:00:aa:00:03", 120));
  DomainXml second = parse(one_port_domain("vm2", bed.vf(3), "52:54:00:aa:00:13", 130));
  ASSERT_TRUE(prepare_domain("vm1", first, bed.ctx()).ok());
  ASSERT_TRUE(start_domain("vm1", first, bed.ctx()).ok());
  auto running = bed.fingerprint();

  Outcome outcome = prepare_domain("vm2", second, bed.ctx());
  ASSERT_EQ(outcome.status, Outcome::Status::refused);
  ASSERT_EQ(outcome.refusals.size(), 1u);
  EXPECT_THAT(outcome.refusals[0].reason, HasSubstr("domain 'vm1' is using this VF"));
  ASSERT_EQ(bed.claims().size(), 1u);
  EXPECT_EQ(bed.claims()[0].domain, "vm1");
  EXPECT_EQ(bed.fingerprint(), running);
}

// Defect 1 of issue 6: the config narrows while a guest runs, then libvirtd restarts. reconnect
// used to treat the refused port's claim as stale: it restored the VF under the running QEMU
// and dropped the claim, so another domain could take it.
TEST(EngineOperations, ReconnectAfterTheConfigNarrowedKeepsTheRunningGuestsVf) {
  EngineBed bed;
  DomainXml domain =
      parse(one_port_domain("vm1", bed.vf(2), "52:54:00:aa:00:02", 150, "qos='3' trust='on'"));
  ASSERT_TRUE(prepare_domain("vm1", domain, bed.ctx()).ok());
  ASSERT_TRUE(start_domain("vm1", domain, bed.ctx()).ok());
  auto running = bed.fingerprint();
  auto claims = bed.claims();
  size_t requests = bed.netlink().requests().size();

  bed.set_config(
      "[[pool]]\nname = \"provider\"\npfs = [\"enp1s0\"]\nvlans = [\"100-119\"]\n"
      "allow_trust = false\n");
  Outcome outcome = reconnect_domain("vm1", domain, bed.ctx());

  EXPECT_EQ(outcome.status, Outcome::Status::done);
  ASSERT_FALSE(outcome.problems.empty());
  EXPECT_THAT(outcome.problems[0], HasSubstr("running against today's policy, kept as it is"));
  EXPECT_EQ(bed.claims(), claims);
  EXPECT_EQ(bed.fingerprint(), running);
  EXPECT_EQ(bed.netlink().requests().size(), requests);

  // The VF stays taken: a port the new policy allows is still refused that VF.
  DomainXml other = parse(one_port_domain("vm2", bed.vf(2), "52:54:00:aa:00:12", 110));
  Outcome refused = prepare_domain("vm2", other, bed.ctx());
  ASSERT_EQ(refused.status, Outcome::Status::refused);
  EXPECT_THAT(refused.refusals[0].reason, HasSubstr("domain 'vm1' is using this VF"));
}

TEST(EngineOperations, ReconnectReleasesOnlyClaimsOfVfsTheGuestNoLongerShows) {
  EngineBed bed;
  auto before = bed.fingerprint();
  DomainXml two_ports = parse(
      "<domain type='kvm'><name>vm1</name><devices>"
      "<hostdev mode='subsystem' type='pci' managed='no'><source><address type='pci' "
      "domain='0x0000' bus='0x01' slot='0x10' function='0x2'/></source></hostdev>"
      "<hostdev mode='subsystem' type='pci' managed='no'><source><address type='pci' "
      "domain='0x0000' bus='0x01' slot='0x10' function='0x4'/></source></hostdev>"
      "</devices></domain>");
  bed.set_config("[[pool]]\nname = \"provider\"\npfs = [\"enp1s0\"]\nflat = true\n");
  ASSERT_TRUE(prepare_domain("vm1", two_ports, bed.ctx()).ok());
  ASSERT_EQ(bed.claims().size(), 2u);

  // The second VF was detached while libvirtd was down: the live XML shows only the first.
  DomainXml one_port = parse(
      "<domain type='kvm'><name>vm1</name><devices>"
      "<hostdev mode='subsystem' type='pci' managed='no'><source><address type='pci' "
      "domain='0x0000' bus='0x01' slot='0x10' function='0x2'/></source></hostdev>"
      "</devices></domain>");
  Outcome outcome = reconnect_domain("vm1", one_port, bed.ctx());
  EXPECT_TRUE(outcome.problems.empty());
  ASSERT_EQ(bed.claims().size(), 1u);
  EXPECT_EQ(bed.claims()[0].vf, bed.vf(1));
  EXPECT_EQ(bed.driver(bed.vf(1)), "vfio-pci");
  EXPECT_EQ(bed.driver(bed.vf(2)), "igbvf");  // restored

  EXPECT_TRUE(release_domain("vm1", bed.ctx()).ok());
  EXPECT_EQ(bed.fingerprint(), before);
}

TEST(EngineOperations, AStartTheDriverRefusesIsUndoneAndReportedAsData) {
  EngineBed bed;
  DomainXml domain =
      parse(one_port_domain("vm1", bed.vf(4), "52:54:00:aa:00:04", 120, "qos='2' trust='on'"));
  ASSERT_TRUE(prepare_domain("vm1", domain, bed.ctx()).ok());
  auto prepared = bed.fingerprint();
  bed.netlink().refuse(VfAttribute::trust, EOPNOTSUPP);

  Outcome outcome = start_domain("vm1", domain, bed.ctx());
  ASSERT_EQ(outcome.status, Outcome::Status::failed);
  ASSERT_TRUE(outcome.error);
  EXPECT_THAT(outcome.error->message, HasSubstr("trust on"));
  EXPECT_TRUE(outcome.host_was_changed);
  EXPECT_TRUE(outcome.undo_failures.empty());
  EXPECT_EQ(bed.fingerprint(), prepared);  // the QoS applied before trust was put back
}

TEST(EngineOperations, ReleaseNeverLeavesAnAllZeroAdminMac) {
  EngineBed bed;  // every VF starts with the kernel's all-zero admin MAC
  DomainXml domain = parse(one_port_domain("vm1", bed.vf(2), "52:54:00:aa:00:02", 120));
  ASSERT_TRUE(prepare_domain("vm1", domain, bed.ctx()).ok());
  ASSERT_TRUE(start_domain("vm1", domain, bed.ctx()).ok());
  ASSERT_TRUE(release_domain("vm1", bed.ctx()).ok());
  const MacAddress& mac = bed.netlink().pf("enp1s0")->vfs[2].mac;
  EXPECT_FALSE(mac.is_zero());
  EXPECT_FALSE(mac.is_multicast());
  EXPECT_EQ(bed.driver(bed.vf(2)), "igbvf");
}

// A plain <hostdev> of VF `vf` of the bed's PF, with no port record.
std::string plain_hostdev_domain(const std::string& name, const PciAddress& device,
                                 const char* managed = "no") {
  char address[160];
  std::snprintf(address, sizeof address,
                "<address type='pci' domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/>",
                device.domain, device.bus, device.slot, device.function);
  return "<domain type='kvm'><name>" + name +
         "</name><devices><hostdev mode='subsystem' type='pci' managed='" + managed + "'><source>" +
         address + "</source></hostdev></devices></domain>";
}

// Defect 1: a typo in a pool's PF name left that PF's VFs unmanaged ("left to libvirt alone"):
// no pool's policy applied to them, host-bridge VLANs included.
TEST(EngineOperations, AVfOfAPoolWhosePfDoesNotResolveIsRefusedNamingTheRef) {
  EngineBed bed;
  bed.set_config(
      "host_bridge_vlans = [\"1-99\"]\n"
      "[[pool]]\nname = \"provider\"\npfs = [\"enp1s0x\"]\nvlans = [\"100-199\"]\n");
  auto before = bed.fingerprint();

  Outcome plain = prepare_domain("vm1", parse(plain_hostdev_domain("vm1", bed.vf(2))), bed.ctx());
  ASSERT_EQ(plain.status, Outcome::Status::refused);
  ASSERT_EQ(plain.refusals.size(), 1u);
  EXPECT_THAT(plain.refusals[0].reason, HasSubstr("pool 'provider'"));
  EXPECT_THAT(plain.refusals[0].reason, HasSubstr("'enp1s0x'"));

  // A host-bridge VLAN on a hostdev interface with no record: refused as well.
  DomainXml bridge_vlan = parse(
      "<domain type='kvm'><name>vm2</name><devices><interface type='hostdev' managed='no'>"
      "<mac address='52:54:00:aa:00:05'/><source><address type='pci' domain='0x0000' "
      "bus='0x01' slot='0x10' function='0x6'/></source><vlan><tag id='10'/></vlan>"
      "</interface></devices></domain>");
  Outcome tagged = prepare_domain("vm2", bridge_vlan, bed.ctx());
  ASSERT_EQ(tagged.status, Outcome::Status::refused);
  EXPECT_THAT(tagged.refusals[0].reason, HasSubstr("'enp1s0x'"));
  EXPECT_TRUE(bed.claims().empty());
  EXPECT_EQ(bed.fingerprint(), before);

  // A pool naming the PF by its PCI address manages its VFs like one naming it by interface.
  bed.set_config("[[pool]]\nname = \"provider\"\npfs = [\"0000:01:00.0\"]\nflat = true\n");
  ASSERT_TRUE(prepare_domain("vm1", parse(plain_hostdev_domain("vm1", bed.vf(2))), bed.ctx()).ok());
  ASSERT_EQ(bed.claims().size(), 1u);
  EXPECT_EQ(bed.claims()[0].pool, "provider");
}

// Defect 2: one PF spelled two ways (interface name, PCI address) in two pools.
TEST(EngineOperations, OnePfInTwoPoolsUnderTwoSpellingsIsRefusedNamingBoth) {
  EngineBed bed;
  bed.set_config(
      "[[pool]]\nname = \"provider\"\npfs = [\"enp1s0\"]\nvlans = [\"100-199\"]\n"
      "[[pool]]\nname = \"tenant\"\npfs = [\"0000:01:00.0\"]\nvlans = [\"200-299\"]\n");
  auto before = bed.fingerprint();
  Outcome outcome = prepare_domain(
      "vm1", parse(one_port_domain("vm1", bed.vf(2), "52:54:00:aa:00:02", 120)), bed.ctx());
  ASSERT_EQ(outcome.status, Outcome::Status::refused);
  ASSERT_FALSE(outcome.refusals.empty());
  EXPECT_THAT(outcome.refusals[0].reason, HasSubstr("'provider'"));
  EXPECT_THAT(outcome.refusals[0].reason, HasSubstr("'tenant'"));
  EXPECT_TRUE(bed.claims().empty());
  EXPECT_EQ(bed.fingerprint(), before);
}

// Defect 3a: a whole NIC of a mode = "pf" pool whose netdev is up was bound to vfio-pci.
TEST(EngineOperations, AWholeNicTheHostHasUpIsNotGivenToAGuest) {
  EngineBed bed;
  PciAddress nic = *PciAddress::parse("0000:03:00.0");
  ASSERT_TRUE(bed.tree().add_driver("e1000e"));
  ASSERT_TRUE(bed.tree().add_device(nic, testing::DeviceSpec{"e1000e", std::nullopt, 0}));
  ASSERT_TRUE(bed.tree().add_netdev("eno1", nic, true));
  bed.set_config(std::string(testing::kProviderPoolToml) +
                 "[[pool]]\nname = \"whole\"\nmode = \"pf\"\npfs = [\"eno1\"]\n");

  Outcome outcome = prepare_domain("vm1", parse(plain_hostdev_domain("vm1", nic)), bed.ctx());
  ASSERT_EQ(outcome.status, Outcome::Status::refused);
  ASSERT_EQ(outcome.refusals.size(), 1u);
  EXPECT_THAT(outcome.refusals[0].reason, HasSubstr("eno1"));
  EXPECT_THAT(outcome.refusals[0].reason, HasSubstr("is up"));
  EXPECT_EQ(bed.driver(nic), "e1000e");
  EXPECT_TRUE(bed.claims().empty());

  // Taken down by the administrator, it is given.
  ASSERT_TRUE(bed.tree().set_admin_up("eno1", false));
  Outcome given = prepare_domain("vm1", parse(plain_hostdev_domain("vm1", nic)), bed.ctx());
  ASSERT_TRUE(given.ok()) << (given.error ? given.error->message : to_string(given.refusals[0]));
  EXPECT_EQ(bed.driver(nic), "vfio-pci");
}

// Defect 3b: the PF behind a VF pool, given to a guest, was left to libvirt, which would
// detach it and every VF on it from running guests.
TEST(EngineOperations, ThePfOfAVfPoolIsNotGivenToAGuest) {
  EngineBed bed;
  PciAddress pf = *PciAddress::parse("0000:01:00.0");
  ASSERT_TRUE(prepare_domain("vm1",
                             parse(one_port_domain("vm1", bed.vf(2), "52:54:00:aa:00:02", 120)),
                             bed.ctx())
                  .ok());
  auto before = bed.fingerprint();

  Outcome hostdev = prepare_domain("vm2", parse(plain_hostdev_domain("vm2", pf, "yes")), bed.ctx());
  ASSERT_EQ(hostdev.status, Outcome::Status::refused);
  ASSERT_EQ(hostdev.refusals.size(), 1u);
  EXPECT_THAT(hostdev.refusals[0].reason, HasSubstr("pool 'provider'"));
  EXPECT_THAT(hostdev.refusals[0].reason, HasSubstr(bed.vf(2).to_string()));
  EXPECT_THAT(hostdev.refusals[0].reason, HasSubstr("'vm1'"));

  DomainXml interface = parse(
      "<domain type='kvm'><name>vm3</name><devices><interface type='hostdev' managed='yes'>"
      "<mac address='52:54:00:aa:00:33'/><source><address type='pci' domain='0x0000' "
      "bus='0x01' slot='0x00' function='0x0'/></source></interface></devices></domain>");
  Outcome iface = prepare_domain("vm3", interface, bed.ctx());
  ASSERT_EQ(iface.status, Outcome::Status::refused);
  EXPECT_THAT(iface.refusals[0].reason, HasSubstr("pool 'provider'"));
  EXPECT_EQ(bed.claims().size(), 1u);
  EXPECT_EQ(bed.fingerprint(), before);
}

// Defect 4: two running domains could use one MAC on one pool.
TEST(EngineOperations, TwoDomainsMayNotUseOneMacOnOnePool) {
  EngineBed bed;
  ASSERT_TRUE(prepare_domain("vm1",
                             parse(one_port_domain("vm1", bed.vf(2), "52:54:00:aa:00:02", 120)),
                             bed.ctx())
                  .ok());
  ASSERT_EQ(bed.claims().size(), 1u);
  EXPECT_EQ(bed.claims()[0].mac, *MacAddress::parse("52:54:00:aa:00:02"));
  auto running = bed.fingerprint();

  Outcome outcome = prepare_domain(
      "vm2", parse(one_port_domain("vm2", bed.vf(3), "52:54:00:aa:00:02", 130)), bed.ctx());
  ASSERT_EQ(outcome.status, Outcome::Status::refused);
  ASSERT_EQ(outcome.refusals.size(), 1u);
  EXPECT_THAT(outcome.refusals[0].reason, HasSubstr("52:54:00:aa:00:02"));
  EXPECT_THAT(outcome.refusals[0].reason, HasSubstr("'vm1'"));
  EXPECT_EQ(bed.claims().size(), 1u);
  EXPECT_EQ(bed.fingerprint(), running);
}

// Defect 5: a VF libvirt chose from a hostdev network came back at release with the MAC
// libvirt's restore leaves, not the admin MAC it had: vfhook first saw it at start.
TEST(EngineOperations, AVfLibvirtChoseFromANetworkGetsItsAdminMacBackAtRelease) {
  EngineBed bed;
  auto& vfs = bed.netlink().pf("enp1s0")->vfs;
  for (size_t i = 0; i < vfs.size(); ++i)
    vfs[i].mac = MacAddress{{0x02, 0x00, 0x00, 0x00, 0x01, static_cast<uint8_t>(i)}};
  auto before = bed.fingerprint();
  const std::string record =
      "<metadata><vfhook:ports xmlns:vfhook='urn:vfhook:ports:1'><vfhook:port "
      "mac='52:54:00:cc:00:01' pool='provider' vlan='140'/></vfhook:ports></metadata>";
  DomainXml unresolved =
      parse("<domain type='kvm'><name>vm4</name>" + record +
            "<devices><interface type='network'><mac address='52:54:00:cc:00:01'/>"
            "<source network='sriov-net'/></interface></devices></domain>");
  DomainXml live =
      parse("<domain type='kvm'><name>vm4</name>" + record +
            "<devices><interface type='hostdev' managed='yes'><mac address='52:54:00:cc:00:01'/>"
            "<source><address type='pci' domain='0x0000' bus='0x01' slot='0x10' function='0x2'/>"
            "</source></interface></devices></domain>");

  ASSERT_TRUE(prepare_domain("vm4", unresolved, bed.ctx()).ok());
  // libvirt picks VF 1 (0000:01:10.2) and sets the interface's MAC.
  bed.netlink().pf("enp1s0")->vfs[1].mac = *MacAddress::parse("52:54:00:cc:00:01");
  Outcome started = start_domain("vm4", live, bed.ctx());
  ASSERT_TRUE(started.ok()) << (started.error ? started.error->message : "refused");
  ASSERT_EQ(bed.claims().size(), 1u);
  EXPECT_EQ(bed.claims()[0].vf, bed.vf(1));

  // libvirt's restore puts back its VLAN and leaves the igbvf netdev's MAC.
  bed.netlink().pf("enp1s0")->vfs[1].vlan = Vlan{};
  bed.netlink().pf("enp1s0")->vfs[1].mac = *MacAddress::parse("7a:31:0c:55:12:9e");
  Outcome released = release_domain("vm4", bed.ctx());
  EXPECT_TRUE(released.ok());
  EXPECT_TRUE(released.problems.empty());
  EXPECT_TRUE(bed.claims().empty());
  EXPECT_EQ(bed.fingerprint(), before);
}

// vfio-pci binds the VF, but no /dev/vfio/<group> appears (no IOMMU in use): prepare undoes
// the bind, and says where to look instead of guessing at one kernel option.
TEST(EngineOperations, ABindWithoutAVfioGroupNodeIsUndoneAndPointsAtDoctor) {
  EngineBed bed;
  testing::TempDir empty_dev;
  DirSysfs no_vfio_nodes(empty_dev.path());
  EngineContext ctx{bed.ctx().config, bed.ctx().sysfs, no_vfio_nodes, bed.ctx().netlink,
                    bed.ctx().store,  bed.ctx().clock, bed.ctx().log};
  auto before = bed.fingerprint();

  Outcome outcome = prepare_domain(
      "vm1", parse(one_port_domain("vm1", bed.vf(2), "52:54:00:aa:00:02", 120)), ctx);
  ASSERT_EQ(outcome.status, Outcome::Status::failed);
  ASSERT_TRUE(outcome.error);
  EXPECT_THAT(outcome.error->message, HasSubstr("bound to vfio-pci, but /dev/vfio/"));
  EXPECT_THAT(outcome.error->message,
              HasSubstr("did not appear: the IOMMU seems to be off. `vfctl doctor` checks it and "
                        "says how to turn it on."));
  EXPECT_TRUE(outcome.host_was_changed);
  EXPECT_TRUE(outcome.undo_failures.empty());
  EXPECT_TRUE(bed.claims().empty());
  EXPECT_EQ(bed.driver(bed.vf(2)), "igbvf");
  EXPECT_EQ(bed.fingerprint(), before);
}

TEST(EngineOperations, ReleaseOfADomainWithoutClaimsIsANoOp) {
  EngineBed bed;
  auto before = bed.fingerprint();
  Outcome outcome = release_domain("never-started", bed.ctx());
  EXPECT_TRUE(outcome.ok());
  EXPECT_TRUE(outcome.problems.empty());
  EXPECT_TRUE(bed.netlink().requests().empty());
  EXPECT_EQ(bed.fingerprint(), before);
}

}  // namespace
}  // namespace vfhook
