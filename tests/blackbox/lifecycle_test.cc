// The life of a domain as libvirt drives it (prepare, start, release; reconnect), through the
// real hook binary: what it binds, claims and sends over netlink, and that release puts every
// VF back exactly as it was.
#include <fstream>

#include "tests/blackbox/hook_test.h"

namespace vfhook::blackbox {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

TEST_F(HookTest, TwoPortInterfaceDomainPrepareStartRelease) {
  const auto before = bed.fingerprint();
  const std::string xml = two_port_domain(vfs);

  HookResult prepared = bed.hook("vm1", "prepare", xml);
  ASSERT_EQ(prepared.exit_code, 0) << explain(prepared);
  for (int i : {0, 1}) {
    EXPECT_EQ(bed.driver(vfs[i]), "vfio-pci") << vfs[i].to_string();
    EXPECT_TRUE(bed.vfio_node_exists(bed.iommu_group(vfs[i]))) << vfs[i].to_string();
  }
  EXPECT_EQ(bed.driver(vfs[2]), "igbvf");  // a VF the domain does not use stays as it was
  EXPECT_THAT(bed.claims(),
              UnorderedElementsAre(
                  Claim{vfs[0], "vm1", "provider", "enp1s0", 0, mac("52:54:00:aa:00:01")},
                  Claim{vfs[1], "vm1", "provider", "enp1s0", 1, mac("52:54:00:aa:00:02")}));
  // libvirt sets MAC and the plain 802.1Q tag of a hostdev interface itself.
  EXPECT_THAT(bed.requests(), IsEmpty());

  HookResult started = bed.hook("vm1", "start", xml);
  ASSERT_EQ(started.exit_code, 0) << explain(started);
  EXPECT_THAT(
      bed.requests(),
      UnorderedElementsAre("set_trust enp1s0 0 on", "set_vlan enp1s0 1 120 qos 3 proto 802.1Q",
                           "set_spoofchk enp1s0 1 off", "set_rates enp1s0 1 min 10 max 100"));
  EXPECT_EQ(bed.vf_state("enp1s0", 0).trust, true);
  VfState port2 = bed.vf_state("enp1s0", 1);
  EXPECT_EQ(port2.vlan, (Vlan{120, 3, VlanProtocol::dot1q}));
  EXPECT_FALSE(port2.spoofchk);
  EXPECT_EQ(port2.min_tx_rate, 10u);
  EXPECT_EQ(port2.max_tx_rate, 100u);
  const size_t after_start = bed.requests().size();

  HookResult released = bed.hook("vm1", "release", xml, "end", "-");
  EXPECT_EQ(released.exit_code, 0) << explain(released);
  EXPECT_EQ(released.err, "");
  EXPECT_THAT(
      requests_since(after_start),
      UnorderedElementsAre("set_trust enp1s0 0 off", "set_vlan enp1s0 1 0 qos 0 proto 802.1Q",
                           "set_spoofchk enp1s0 1 on", "set_rates enp1s0 1 min 0 max 0"));
  EXPECT_THAT(bed.claims(), IsEmpty());
  EXPECT_EQ(bed.driver(vfs[0]), "igbvf");
  EXPECT_EQ(bed.driver(vfs[1]), "igbvf");
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
}

TEST_F(HookTest, PlainHostdevVfGetsMacAndVlanAndNeverGetsAZeroMacBack) {
  ASSERT_TRUE(bed.vf_state("enp1s0", 2).mac.is_zero());
  const auto before = bed.fingerprint();
  const std::string xml = domain_xml(
      "vm2", hostdev_xml(vfs[2], false),
      port_record_xml(R"(host="0000:01:10.4" mac="52:54:00:bb:00:01" pool="provider" vlan="130")"));

  HookResult prepared = bed.hook("vm2", "prepare", xml);
  ASSERT_EQ(prepared.exit_code, 0) << explain(prepared);
  EXPECT_EQ(bed.driver(vfs[2]), "vfio-pci");
  EXPECT_THAT(bed.requests(), ElementsAre("set_mac enp1s0 2 52:54:00:bb:00:01",
                                          "set_vlan enp1s0 2 130 qos 0 proto 802.1Q"));
  EXPECT_EQ(bed.vf_state("enp1s0", 2).mac, mac("52:54:00:bb:00:01"));
  EXPECT_EQ(bed.vf_state("enp1s0", 2).vlan.id, 130);

  HookResult started = bed.hook("vm2", "start", xml);
  ASSERT_EQ(started.exit_code, 0) << explain(started);
  EXPECT_EQ(bed.requests().size(), 2u) << "the pool defaults were already in place";

  HookResult released = bed.hook("vm2", "release", xml, "end", "-");
  EXPECT_EQ(released.exit_code, 0) << explain(released);
  VfState restored = bed.vf_state("enp1s0", 2);
  // 02:76 + the VF's PCI address (0000, bus 01, devfn 0x84): locally administered, unicast.
  EXPECT_EQ(restored.mac, mac("02:76:00:00:01:84"));
  EXPECT_EQ(restored.vlan, Vlan{});
  EXPECT_EQ(bed.driver(vfs[2]), "igbvf");
  EXPECT_THAT(bed.claims(), IsEmpty());

  auto expected = before;
  expected["netlink/enp1s0/vf2"].replace(4, 17, "02:76:00:00:01:84");
  EXPECT_EQ(fingerprint_diff(expected, bed.fingerprint()), "");
}

TEST_F(HookTest, PlainHostdevVfGetsItsOriginalUnicastMacBack) {
  bed.netlink_model().pf("enp1s0")->vfs[3].mac = mac("52:54:00:99:99:99");
  bed.save_netlink();
  const auto before = bed.fingerprint();
  const std::string xml = domain_xml(
      "vm2", hostdev_xml(vfs[3], false),
      port_record_xml(R"(host="0000:01:10.6" mac="52:54:00:bb:00:02" pool="provider" vlan="131")"));

  ASSERT_EQ(bed.hook("vm2", "prepare", xml).exit_code, 0);
  EXPECT_EQ(bed.vf_state("enp1s0", 3).mac, mac("52:54:00:bb:00:02"));
  ASSERT_EQ(bed.hook("vm2", "start", xml).exit_code, 0);
  EXPECT_EQ(bed.hook("vm2", "release", xml, "end", "-").exit_code, 0);
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
}

TEST_F(HookTest, WholeDeviceHostdevIsBoundAndRestoredWithoutNetlink) {
  const PciAddress nic = pci("0000:02:00.0");
  testing::DeviceSpec device;
  device.driver = "e1000e";
  ASSERT_TRUE(bed.tree().add_device(nic, device));
  bed.write_config(std::string(kProviderConfig) +
                   "\n[[pool]]\nname = \"passthrough\"\nmode = \"pf\"\npfs = [\"0000:02:00.0\"]\n");
  const auto before = bed.fingerprint();
  const std::string xml = domain_xml("vm3", hostdev_xml(nic, false));

  HookResult prepared = bed.hook("vm3", "prepare", xml);
  ASSERT_EQ(prepared.exit_code, 0) << explain(prepared);
  EXPECT_EQ(bed.driver(nic), "vfio-pci");
  EXPECT_TRUE(bed.vfio_node_exists(bed.iommu_group(nic)));
  EXPECT_THAT(bed.claims(), ElementsAre(Claim{nic, "vm3", "passthrough", "", -1}));

  HookResult started = bed.hook("vm3", "start", xml);
  ASSERT_EQ(started.exit_code, 0) << explain(started);

  HookResult released = bed.hook("vm3", "release", xml, "end", "-");
  EXPECT_EQ(released.exit_code, 0) << explain(released);
  EXPECT_EQ(bed.driver(nic), "e1000e");
  EXPECT_THAT(bed.requests(), IsEmpty());
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
}

// A hostdev network: at prepare libvirt has not chosen the VF; at start the live XML shows it
// (in one of two forms); at release it is gone from the XML again.
std::string unresolved_network_domain() {
  return domain_xml("vm4",
                    "<interface type='network'>\n  <mac address='52:54:00:cc:00:01'/>\n"
                    "  <source network='sriov-net'/>\n</interface>\n",
                    port_record_xml(R"(mac="52:54:00:cc:00:01" pool="provider" vlan="140" )"
                                    R"(trust="on")"));
}

std::string resolved_as_actual(const PciAddress& vf) {
  return domain_xml("vm4",
                    "<interface type='network'>\n  <mac address='52:54:00:cc:00:01'/>\n"
                    "  <source network='sriov-net'/>\n"
                    "  <actual type='hostdev' managed='yes'>\n    <source>" +
                        pci_address_xml(vf) + "</source>\n  </actual>\n</interface>\n",
                    port_record_xml(R"(mac="52:54:00:cc:00:01" pool="provider" vlan="140" )"
                                    R"(trust="on")"));
}

std::string resolved_as_hostdev_interface(const PciAddress& vf) {
  return domain_xml("vm4", interface_hostdev_xml({mac("52:54:00:cc:00:01"), vf, true, {}, ""}),
                    port_record_xml(R"(mac="52:54:00:cc:00:01" pool="provider" vlan="140" )"
                                    R"(trust="on")"));
}

class HostdevNetworkTest : public HookTest, public ::testing::WithParamInterface<bool> {};

TEST_P(HostdevNetworkTest, VfChosenByLibvirtIsClaimedAtStartAndRestoredAtRelease) {
  const bool as_actual = GetParam();
  const auto before = bed.fingerprint();

  HookResult prepared = bed.hook("vm4", "prepare", unresolved_network_domain());
  ASSERT_EQ(prepared.exit_code, 0) << explain(prepared);
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "") << "nothing to do before the VF";
  EXPECT_THAT(bed.requests(), IsEmpty());

  const std::string live =
      as_actual ? resolved_as_actual(vfs[1]) : resolved_as_hostdev_interface(vfs[1]);
  // libvirt picks VF 1 and gives it the interface's MAC (the network has no VLAN of its own).
  bed.libvirt_sets_net_config("enp1s0", 1, mac("52:54:00:cc:00:01"), 0);
  HookResult started = bed.hook("vm4", "start", live);
  ASSERT_EQ(started.exit_code, 0) << explain(started);
  EXPECT_THAT(bed.claims(),
              ElementsAre(Claim{vfs[1], "vm4", "provider", "enp1s0", 1, mac("52:54:00:cc:00:01")}));
  EXPECT_THAT(bed.requests(), UnorderedElementsAre("set_vlan enp1s0 1 140 qos 0 proto 802.1Q",
                                                   "set_trust enp1s0 1 on"));

  // At stop libvirt puts back the MAC and VLAN it saved before start; vfhook, last, what it
  // changed beyond them.
  bed.libvirt_restores_net_config("enp1s0", 1);
  HookResult released = bed.hook("vm4", "release", unresolved_network_domain(), "end", "-");
  EXPECT_EQ(released.exit_code, 0) << explain(released);
  EXPECT_THAT(bed.claims(), IsEmpty());
  EXPECT_THAT(requests_since(2), ElementsAre("set_trust enp1s0 1 off"))
      << "the VLAN is libvirt's to restore: vfhook saw this VF only after libvirt set it";
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
}

INSTANTIATE_TEST_SUITE_P(BothLiveForms, HostdevNetworkTest, ::testing::Values(true, false),
                         [](const auto& info) {
                           return info.param ? std::string("ActualHostdev")
                                             : std::string("InterfaceHostdev");
                         });

TEST_F(HookTest, ReleaseMendsAnAdminMacThatLibvirtsRestoreGotWrong) {
  // libvirt may restore an all-zero admin MAC (igb then makes up a random one): vfhook saw the
  // VF before libvirt did, and puts back the MAC it had.
  const auto before = bed.fingerprint();
  const std::string xml = one_port_domain("vm6", vfs[3], 150, R"(pool="provider" vlan="150")");
  ASSERT_EQ(bed.hook("vm6", "prepare", xml).exit_code, 0);
  bed.libvirt_sets_net_config("enp1s0", 3, mac("52:54:00:ee:00:01"), 150);
  ASSERT_EQ(bed.hook("vm6", "start", xml).exit_code, 0);
  bed.libvirt_restores_net_config("enp1s0", 3);
  RecordingVfNetlink state = *FileVfNetlink::load(bed.netlink_path());
  state.pf("enp1s0")->vfs[3].mac = mac("7a:31:0c:55:12:9e");  // what igb made up
  ASSERT_TRUE(FileVfNetlink::save(bed.netlink_path(), state));
  const size_t before_release = bed.requests().size();

  HookResult released = bed.hook("vm6", "release", xml, "end", "-");
  EXPECT_EQ(released.exit_code, 0) << explain(released);
  EXPECT_THAT(requests_since(before_release), ElementsAre("set_mac enp1s0 3 02:00:00:00:01:03"));
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
}

TEST_F(HookTest, ReleaseGivesAVfLibvirtChoseFromANetworkItsAdminMacBack) {
  // vfhook first sees a VF libvirt chose from a hostdev network at start, after libvirt set its
  // MAC; libvirt's restore leaves igbvf's MAC. The admin MAC recorded at prepare comes back.
  const auto before = bed.fingerprint();
  ASSERT_EQ(bed.hook("vm4", "prepare", unresolved_network_domain()).exit_code, 0);
  bed.libvirt_sets_net_config("enp1s0", 1, mac("52:54:00:cc:00:01"), 0);
  ASSERT_EQ(bed.hook("vm4", "start", resolved_as_hostdev_interface(vfs[1])).exit_code, 0);
  bed.libvirt_restores_net_config("enp1s0", 1);
  RecordingVfNetlink state = *FileVfNetlink::load(bed.netlink_path());
  state.pf("enp1s0")->vfs[1].mac = mac("7a:31:0c:55:12:9e");  // what igb made up
  ASSERT_TRUE(FileVfNetlink::save(bed.netlink_path(), state));
  const size_t before_release = bed.requests().size();

  HookResult released = bed.hook("vm4", "release", unresolved_network_domain(), "end", "-");
  EXPECT_EQ(released.exit_code, 0) << explain(released);
  EXPECT_THAT(requests_since(before_release),
              UnorderedElementsAre("set_mac enp1s0 1 02:00:00:00:01:01", "set_trust enp1s0 1 off"));
  EXPECT_THAT(bed.claims(), IsEmpty());
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
}

TEST_F(HookTest, ManagedInterfaceKeepsItsDriverAndGetsItsExtras) {
  const auto before = bed.fingerprint();
  const std::string xml = domain_xml(
      "vm5", interface_hostdev_xml({mac("52:54:00:dd:00:01"), vfs[3], true, 150, ""}),
      port_record_xml(R"(mac="52:54:00:dd:00:01" pool="provider" vlan="150" trust="on")"));

  HookResult prepared = bed.hook("vm5", "prepare", xml);
  ASSERT_EQ(prepared.exit_code, 0) << explain(prepared);
  EXPECT_EQ(bed.driver(vfs[3]), "igbvf") << "managed='yes': libvirt binds vfio-pci itself";
  EXPECT_THAT(bed.claims(),
              ElementsAre(Claim{vfs[3], "vm5", "provider", "enp1s0", 3, mac("52:54:00:dd:00:01")}));

  HookResult started = bed.hook("vm5", "start", xml);
  ASSERT_EQ(started.exit_code, 0) << explain(started);
  EXPECT_THAT(bed.requests(), ElementsAre("set_trust enp1s0 3 on"));

  HookResult released = bed.hook("vm5", "release", xml, "end", "-");
  EXPECT_EQ(released.exit_code, 0) << explain(released);
  EXPECT_THAT(bed.requests(), ElementsAre("set_trust enp1s0 3 on", "set_trust enp1s0 3 off"));
  EXPECT_EQ(bed.driver(vfs[3]), "igbvf");
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
}

TEST_F(HookTest, OtherEventsLeaveTheHostAlone) {
  const std::string xml = two_port_domain(vfs);
  ASSERT_EQ(bed.hook("vm1", "prepare", xml).exit_code, 0);
  ASSERT_EQ(bed.hook("vm1", "start", xml).exit_code, 0);
  const auto running = bed.fingerprint();
  // vfhook restores at release, the last event, after libvirt's own restore. (migrate and
  // restore have work: tests/blackbox/migrate_test.cc.)
  for (auto [op, subop] : {std::pair{"started", "begin"}, std::pair{"stopped", "end"}}) {
    HookResult result = bed.hook("vm1", op, xml, subop, "-");
    EXPECT_EQ(result.exit_code, 0) << op << ": " << explain(result);
    EXPECT_EQ(result.err, "") << op;
  }
  EXPECT_EQ(fingerprint_diff(running, bed.fingerprint()), "");
}

// ---- idempotence ---------------------------------------------------------------------------

TEST_F(HookTest, SecondReleaseChangesNothing) {
  const std::string xml = two_port_domain(vfs);
  ASSERT_EQ(bed.hook("vm1", "prepare", xml).exit_code, 0);
  ASSERT_EQ(bed.hook("vm1", "start", xml).exit_code, 0);
  ASSERT_EQ(bed.hook("vm1", "release", xml, "end", "-").exit_code, 0);
  const auto after_first = bed.fingerprint();
  const size_t requests = bed.requests().size();

  HookResult again = bed.hook("vm1", "release", xml, "end", "-");
  EXPECT_EQ(again.exit_code, 0) << explain(again);
  EXPECT_EQ(again.err, "");
  EXPECT_EQ(bed.requests().size(), requests);
  EXPECT_EQ(fingerprint_diff(after_first, bed.fingerprint()), "");
}

TEST_F(HookTest, ReleaseOfADomainThatNeverPreparedTouchesNothing) {
  // Another domain holds two VFs: releasing a stranger must leave them alone.
  ASSERT_EQ(bed.hook("vm1", "prepare", two_port_domain(vfs)).exit_code, 0);
  const auto before = bed.fingerprint();

  const std::string stranger =
      domain_xml("vm9", interface_hostdev_xml({mac("52:54:00:aa:00:01"), vfs[0], false, 110, ""}));
  HookResult released = bed.hook("vm9", "release", stranger, "end", "-");
  EXPECT_EQ(released.exit_code, 0) << explain(released);
  EXPECT_EQ(released.err, "");
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
  EXPECT_THAT(bed.requests(), IsEmpty());
}

TEST_F(HookTest, RepeatedPrepareDoesNotDoubleClaimAndReleaseStillRestoresTheDriver) {
  const auto before = bed.fingerprint();
  const std::string xml = two_port_domain(vfs);
  ASSERT_EQ(bed.hook("vm1", "prepare", xml).exit_code, 0);
  // libvirtd crashed and the start is retried: the VFs are on vfio-pci already.
  HookResult again = bed.hook("vm1", "prepare", xml);
  ASSERT_EQ(again.exit_code, 0) << explain(again);
  EXPECT_EQ(bed.claims().size(), 2u);
  auto snapshot = bed.snapshot(vfs[0]);
  ASSERT_TRUE(snapshot);
  EXPECT_EQ(snapshot->driver, "igbvf") << "the first snapshot is the one that counts";

  ASSERT_EQ(bed.hook("vm1", "release", xml, "end", "-").exit_code, 0);
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
}

// ---- claims the XML no longer shows ---------------------------------------------------------

// A flat pool on enp1s0: a plain <hostdev> of one of its VFs needs no port record.
const char* const kFlatConfig = R"(host_bridge_vlans = ["1-99"]

[[pool]]
name = "flat"
pfs = ["enp1s0"]
flat = true
)";

// What `virsh detach-device` leaves: a domain whose XML shows no VF at all.
std::string detached_domain(const std::string& name) {
  return domain_xml(name, "<disk type='file' device='disk'><target dev='vda'/></disk>\n");
}

TEST_F(HookTest, ReleaseRestoresAVfTheXmlNoLongerShows) {
  bed.write_config(kFlatConfig);
  const auto before = bed.fingerprint();
  const std::string xml = domain_xml("vm7", hostdev_xml(vfs[0], false));
  ASSERT_EQ(bed.hook("vm7", "prepare", xml).exit_code, 0);
  ASSERT_EQ(bed.hook("vm7", "start", xml).exit_code, 0);
  ASSERT_EQ(bed.driver(vfs[0]), "vfio-pci");
  ASSERT_EQ(bed.claims().size(), 1u);

  HookResult released = bed.hook("vm7", "release", detached_domain("vm7"), "end", "-");
  EXPECT_EQ(released.exit_code, 0) << explain(released);
  EXPECT_THAT(bed.claims(), IsEmpty());
  EXPECT_EQ(bed.driver(vfs[0]), "igbvf");
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
}

TEST_F(HookTest, ReleaseLoadsTheCoreOnlyForADomainThatHoldsClaims) {
  bed.write_config(kFlatConfig);
  const std::string xml = domain_xml("vm7", hostdev_xml(vfs[0], false));
  ASSERT_EQ(bed.hook("vm7", "prepare", xml).exit_code, 0);
  // A config the front end reads (state_dir) but the core refuses: whoever loads the core says
  // so on stderr.
  std::ofstream(bed.config_path(), std::ios::app) << "front_end_does_not_care = 1\n";

  HookResult stranger = bed.hook("vm9", "release", detached_domain("vm9"), "end", "-");
  EXPECT_EQ(stranger.exit_code, 0) << explain(stranger);
  EXPECT_EQ(stranger.err, "") << "a domain without claims: the core must not run";

  HookResult holder = bed.hook("vm7", "release", detached_domain("vm7"), "end", "-");
  EXPECT_EQ(holder.exit_code, 0) << explain(holder);
  EXPECT_THAT(holder.err, HasSubstr("front_end_does_not_care")) << "vm7 holds a claim";
}

TEST_F(HookTest, ReconnectDropsTheClaimOfAVfTheXmlNoLongerShows) {
  bed.write_config(kFlatConfig);
  const std::string xml = domain_xml("vm7", hostdev_xml(vfs[0], false));
  ASSERT_EQ(bed.hook("vm7", "prepare", xml).exit_code, 0);
  ASSERT_EQ(bed.hook("vm7", "start", xml).exit_code, 0);

  HookResult reconnected = bed.hook("vm7", "reconnect", detached_domain("vm7"));
  EXPECT_EQ(reconnected.exit_code, 0) << explain(reconnected);
  EXPECT_THAT(bed.claims(), IsEmpty());
  EXPECT_EQ(bed.driver(vfs[0]), "igbvf");
}

// ---- reconnect -----------------------------------------------------------------------------

TEST_F(HookTest, ReconnectRestoresLostClaims) {
  const std::string xml = two_port_domain(vfs);
  ASSERT_EQ(bed.hook("vm1", "prepare", xml).exit_code, 0);
  ASSERT_EQ(bed.hook("vm1", "start", xml).exit_code, 0);
  bed.remove_claim(vfs[0]);
  bed.remove_claim(vfs[1]);
  ASSERT_THAT(bed.claims(), IsEmpty());
  const size_t requests = bed.requests().size();

  HookResult reconnected = bed.hook("vm1", "reconnect", xml);
  EXPECT_EQ(reconnected.exit_code, 0) << explain(reconnected);
  EXPECT_THAT(bed.claims(),
              UnorderedElementsAre(
                  Claim{vfs[0], "vm1", "provider", "enp1s0", 0, mac("52:54:00:aa:00:01")},
                  Claim{vfs[1], "vm1", "provider", "enp1s0", 1, mac("52:54:00:aa:00:02")}));
  EXPECT_EQ(bed.requests().size(), requests) << "reconnect must not touch a running guest's VFs";
  EXPECT_EQ(bed.driver(vfs[0]), "vfio-pci");

  // Now another domain cannot take them.
  const std::string thief =
      domain_xml("vm2", interface_hostdev_xml({mac("52:54:00:aa:00:09"), vfs[0], false, 110, ""}));
  HookResult refused = bed.hook("vm2", "prepare", thief);
  EXPECT_EQ(refused.exit_code, 1) << explain(refused);
  EXPECT_THAT(refused.err, HasSubstr("'vm1' is using this VF"));
}

TEST_F(HookTest, ReconnectReleasesClaimsTheDomainNoLongerUses) {
  const VfState original_vf1 = bed.vf_state("enp1s0", 1);
  const std::string xml = two_port_domain(vfs);
  ASSERT_EQ(bed.hook("vm1", "prepare", xml).exit_code, 0);
  ASSERT_EQ(bed.hook("vm1", "start", xml).exit_code, 0);
  // The guest lost its second VF (hot-unplugged while libvirtd was down).
  const std::string one_port = domain_xml(
      "vm1", interface_hostdev_xml({mac("52:54:00:aa:00:01"), vfs[0], false, 110, ""}),
      port_record_xml(R"(mac="52:54:00:aa:00:01" pool="provider" vlan="110" trust="on")"));

  HookResult reconnected = bed.hook("vm1", "reconnect", one_port);
  EXPECT_EQ(reconnected.exit_code, 0) << explain(reconnected);
  EXPECT_THAT(bed.claims(),
              ElementsAre(Claim{vfs[0], "vm1", "provider", "enp1s0", 0, mac("52:54:00:aa:00:01")}));
  EXPECT_EQ(bed.driver(vfs[1]), "igbvf");
  EXPECT_EQ(bed.vf_state("enp1s0", 1), original_vf1);
}

TEST_F(HookTest, ReconnectExitsZeroWhenTheHostCannotBeRead) {
  const std::string xml = two_port_domain(vfs);
  ASSERT_EQ(bed.hook("vm1", "prepare", xml).exit_code, 0);
  const auto claims = bed.claims();

  // sysfs unreadable: the VF devices are gone from under the hook.
  std::filesystem::rename(bed.tree().sys_root(), bed.root() / "sys.away");
  HookResult no_sysfs = bed.hook("vm1", "reconnect", xml);
  std::filesystem::rename(bed.root() / "sys.away", bed.tree().sys_root());
  EXPECT_EQ(no_sysfs.exit_code, 0) << explain(no_sysfs);
  EXPECT_EQ(no_sysfs.term_signal, 0);
  EXPECT_EQ(bed.claims(), claims) << "a reconnect that cannot see the host keeps the claims";

  // The config became unreadable garbage: still 0 (a non-zero exit kills the guest).
  std::ofstream(bed.config_path(), std::ios::trunc) << "this is [not toml\n";
  HookResult bad_config = bed.hook("vm1", "reconnect", xml);
  EXPECT_EQ(bad_config.exit_code, 0) << explain(bad_config);
  EXPECT_THAT(bad_config.err, HasSubstr("config"));
  // ...while the same config refuses a start.
  HookResult prepare = bed.hook("vm1", "prepare", xml);
  EXPECT_EQ(prepare.exit_code, 1) << explain(prepare);
}

// The host crashed with vm-gone running: no release ran, and the kernel re-created the VF at
// boot. Its claim (and its snapshot of a VF that no longer exists) must not block this boot:
// the test bed's core opens the store with this boot's id, as the hook does.
TEST_F(HookTest, AClaimLeftBehindByTheLastBootDoesNotBlockAStart) {
  {
    StoreOptions earlier_boot;
    earlier_boot.boot_id = "00000000-0000-4000-8000-000000000000";  // never a real boot id
    auto store = Store::open((bed.state_dir() / "vfhook.db").string(), earlier_boot);
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_TRUE((*store)->transaction([&](StoreTransaction& tx) -> Status {
      VF_TRY(tx.add_claim(Claim{vfs[0], "vm-gone", "provider", "enp1s0", 0}));
      return tx.save_snapshot(VfSnapshot{vfs[0], "ixgbevf", true, {}});
    }));
  }
  const std::string xml = one_port_domain("vm2", vfs[0], 110, R"(pool="provider" vlan="110")");
  HookResult prepared = bed.hook("vm2", "prepare", xml);
  ASSERT_EQ(prepared.exit_code, 0) << explain(prepared);
  EXPECT_THAT(bed.claims(),
              ElementsAre(Claim{vfs[0], "vm2", "provider", "enp1s0", 0, mac("52:54:00:ee:00:01")}));
  // The snapshot is this start's, not the dead boot's.
  auto snapshot = bed.snapshot(vfs[0]);
  ASSERT_TRUE(snapshot.has_value());
  EXPECT_EQ(snapshot->driver, "igbvf");

  HookResult released = bed.hook("vm2", "release", xml, "end", "-");
  EXPECT_EQ(released.exit_code, 0) << explain(released);
  EXPECT_EQ(bed.driver(vfs[0]), "igbvf");
  EXPECT_THAT(bed.claims(), IsEmpty());
}

}  // namespace
}  // namespace vfhook::blackbox
