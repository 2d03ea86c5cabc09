// Failures and refusals: a prepare or start that cannot finish undoes what it did, and every
// policy refusal exits 1 with a message a person can act on, leaving the host as it was.
#include <filesystem>
#include <fstream>
#include <functional>

#include "tests/blackbox/hook_test.h"

namespace vfhook::blackbox {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

TEST_F(HookTest, PrepareThatCannotBindTheSecondVfUndoesTheFirst) {
  // VF 1 is unbound and the kernel will never bind it (to anything).
  ASSERT_TRUE(bed.tree().kernel().write("bus/pci/drivers/igbvf/unbind", vfs[1].to_string()));
  ASSERT_TRUE(bed.tree().refuse_bind(vfs[1]));
  const auto before = bed.fingerprint();

  HookResult prepared = bed.hook("vm1", "prepare", two_port_domain(vfs));
  EXPECT_EQ(prepared.exit_code, 1) << explain(prepared);
  EXPECT_THAT(prepared.err,
              AllOf(HasSubstr("could not prepare domain 'vm1'"), HasSubstr("0000:01:10.2"),
                    HasSubstr("did not bind"), HasSubstr("was undone")));
  EXPECT_EQ(bed.driver(vfs[0]), "igbvf") << "the VF bound before the failure is given back";
  EXPECT_THAT(bed.claims(), IsEmpty());
  EXPECT_THAT(bed.requests(), IsEmpty());
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
}

TEST_F(HookTest, PrepareSaysSoWhenItsRollbackCannotRestoreADriver) {
  // VF 1 sits on igbvf but can never be bound again: neither to vfio-pci nor back to igbvf.
  ASSERT_TRUE(bed.tree().refuse_bind(vfs[1]));

  HookResult prepared = bed.hook("vm1", "prepare", two_port_domain(vfs));
  EXPECT_EQ(prepared.exit_code, 1) << explain(prepared);
  EXPECT_THAT(prepared.err, AllOf(HasSubstr("0000:01:10.2"), HasSubstr("ALSO failed"),
                                  HasSubstr("failed too:\n  - rebind 0000:01:10.2 to igbvf")));
  EXPECT_THAT(prepared.err, Not(HasSubstr("Everything vfhook had done for this start was undone")))
      << "the host was not fully restored; stderr must not say it was";
  EXPECT_EQ(bed.driver(vfs[0]), "igbvf");
  // VF 0 was restored and let go; VF 1 keeps its claim and its snapshot (the original driver),
  // so that the release libvirt runs next can retry, and nothing of its state is lost.
  EXPECT_THAT(prepared.err, HasSubstr("claims and snapshots are kept"));
  auto claims = bed.claims();
  ASSERT_EQ(claims.size(), 1u);
  EXPECT_EQ(claims[0].vf, vfs[1]);
  EXPECT_EQ(claims[0].domain, "vm1");
  auto snapshot = bed.snapshot(vfs[1]);
  ASSERT_TRUE(snapshot.has_value());
  EXPECT_EQ(snapshot->driver, "igbvf");
  EXPECT_TRUE(snapshot->rebind_driver);
}

TEST_F(HookTest, StartThatIsRefusedByTheDriverRollsBackItsSettings) {
  // Port 1 (VF 0) gets QoS, spoofchk off and rates; port 2 (VF 1) asks for trust, which the
  // driver refuses.
  const std::string xml = domain_xml(
      "vm1",
      interface_hostdev_xml({mac("52:54:00:aa:00:01"), vfs[0], false, 120, ""}) +
          interface_hostdev_xml({mac("52:54:00:aa:00:02"), vfs[1], false, 110, ""}),
      port_record_xml(R"(mac="52:54:00:aa:00:01" pool="provider" vlan="120" qos="3" )"
                      R"(spoofchk="off" min-tx-rate="10" max-tx-rate="100")") +
          port_record_xml(R"(mac="52:54:00:aa:00:02" pool="provider" vlan="110" trust="on")"));
  bed.netlink_model().refuse(VfAttribute::trust, EOPNOTSUPP, "enp1s0");
  bed.save_netlink();
  const auto before = bed.fingerprint();

  ASSERT_EQ(bed.hook("vm1", "prepare", xml).exit_code, 0);
  const auto prepared = bed.fingerprint();

  HookResult started = bed.hook("vm1", "start", xml);
  EXPECT_EQ(started.exit_code, 1) << explain(started);
  EXPECT_THAT(started.err, AllOf(HasSubstr("could not start domain 'vm1'"), HasSubstr("VF 1"),
                                 HasSubstr("trust on"), HasSubstr("were undone")));
  auto requests = bed.requests();
  EXPECT_THAT(requests, ::testing::Contains("set_spoofchk enp1s0 0 off"));
  EXPECT_THAT(requests, ::testing::Contains("set_trust enp1s0 1 on"));
  EXPECT_EQ(fingerprint_diff(prepared, bed.fingerprint()), "")
      << "VF 0's start settings must be rolled back";

  // libvirt then runs release, which gives everything back.
  HookResult released = bed.hook("vm1", "release", xml, "end", "-");
  EXPECT_EQ(released.exit_code, 0) << explain(released);
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
}

// ---- policy refusals -----------------------------------------------------------------------

struct Refusal {
  std::string name;
  // Arranges the host and returns the domain XML to prepare as "vm2".
  std::function<std::string(HookTest&, TestBed&, const std::vector<PciAddress>&)> arrange;
  std::string message;
};

class RefusalTest : public HookTest, public ::testing::WithParamInterface<Refusal> {
 public:
  TestBed& test_bed() { return bed; }
};

TEST_P(RefusalTest, ExitsOneExplainsAndChangesNothing) {
  const Refusal& refusal = GetParam();
  const std::string xml = refusal.arrange(*this, bed, vfs);
  const auto before = bed.fingerprint();
  const size_t requests = bed.requests().size();

  HookResult prepared = bed.hook("vm2", "prepare", xml);
  EXPECT_EQ(prepared.exit_code, 1) << explain(prepared);
  EXPECT_THAT(prepared.err, HasSubstr(refusal.message));
  EXPECT_THAT(prepared.err, HasSubstr("vfhook refused to start domain 'vm2'"));
  EXPECT_THAT(prepared.err, HasSubstr("Nothing was changed on the host."));
  EXPECT_EQ(prepared.out, "");
  EXPECT_EQ(bed.requests().size(), requests);
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
}

const Refusal kRefusals[] = {
    {"UnknownPool",
     [](HookTest&, TestBed&, const std::vector<PciAddress>& vfs) {
       return one_port_domain("vm2", vfs[0], 110, R"(pool="nosuch" vlan="110")");
     },
     "names pool 'nosuch', which this host does not define"},
    {"VlanOutsidePool",
     [](HookTest&, TestBed&, const std::vector<PciAddress>& vfs) {
       return one_port_domain("vm2", vfs[0], 250, R"(pool="provider" vlan="250")");
     },
     "VLAN 250 is outside pool 'provider' (allowed: 100-199)"},
    {"VlanOfAHostBridge",
     [](HookTest&, TestBed&, const std::vector<PciAddress>& vfs) {
       return one_port_domain("vm2", vfs[0], 50, R"(pool="provider" vlan="50")");
     },
     "VLAN 50 is reserved for the host's own bridges"},
    {"TagWithoutRecordInABridgeRange",
     [](HookTest&, TestBed&, const std::vector<PciAddress>& vfs) {
       // No record: the pool is found from the PF, the VLAN from libvirt's <vlan>.
       return domain_xml("vm2",
                         interface_hostdev_xml({mac("52:54:00:ee:00:01"), vfs[0], false, 7, ""}));
     },
     "VLAN 7 is reserved for the host's own bridges"},
    {"TrustNotAllowed",
     [](HookTest&, TestBed& bed, const std::vector<PciAddress>& vfs) {
       bed.write_config(
           "[[pool]]\nname = \"provider\"\npfs = [\"enp1s0\"]\nvlans = [\"100-199\"]\n"
           "allow_trust = false\n");
       return one_port_domain("vm2", vfs[0], 110, R"(pool="provider" vlan="110" trust="on")");
     },
     "does not allow trusted VFs"},
    {"SpoofchkOffNotAllowed",
     [](HookTest&, TestBed& bed, const std::vector<PciAddress>& vfs) {
       bed.write_config(
           "[[pool]]\nname = \"provider\"\npfs = [\"enp1s0\"]\nvlans = [\"100-199\"]\n");
       return one_port_domain("vm2", vfs[0], 110, R"(pool="provider" vlan="110" spoofchk="off")");
     },
     "it asks for spoofchk off, but pool 'provider' does not allow it (allow_spoofchk_off = "
     "false): a VF without spoof checking may send frames with any source MAC"},
    {"VfHeldByAnotherDomain",
     [](HookTest& test, TestBed& bed, const std::vector<PciAddress>& vfs) {
       HookResult first = bed.hook("vm1", "prepare", two_port_domain(vfs));
       EXPECT_EQ(first.exit_code, 0) << first.err;
       (void)test;
       return one_port_domain("vm2", vfs[1], 110, R"(pool="provider" vlan="110")");
     },
     "domain 'vm1' is using this VF"},
    {"IommuGroupNotViable",
     [](HookTest&, TestBed& bed, const std::vector<PciAddress>& vfs) {
       testing::DeviceSpec other;
       other.driver = "igb";
       other.iommu_group = bed.iommu_group(vfs[0]);
       EXPECT_TRUE(bed.tree().add_device(pci("0000:05:00.0"), other));
       return one_port_domain("vm2", vfs[0], 110, R"(pool="provider" vlan="110")");
     },
     "is not viable: it also holds 0000:05:00.0 (driver igb); VFIO needs every device of the "
     "group unbound or on vfio-pci/pci-stub. Bind those devices to vfio-pci (driverctl "
     "set-override ADDRESS vfio-pci) or unbind them"},
    {"PfDown",
     [](HookTest&, TestBed& bed, const std::vector<PciAddress>& vfs) {
       bed.netlink_model().pf("enp1s0")->admin_up = false;
       bed.save_netlink();
       return one_port_domain("vm2", vfs[0], 110, R"(pool="provider" vlan="110")");
     },
     "PF enp1s0 is down"},
    {"VfioPciNotLoaded",
     [](HookTest&, TestBed& bed, const std::vector<PciAddress>& vfs) {
       std::filesystem::remove_all(bed.tree().sys_root() / "bus/pci/drivers/vfio-pci");
       return one_port_domain("vm2", vfs[0], 110, R"(pool="provider" vlan="110")");
     },
     "vfio-pci driver is not loaded"},
    {"HostUsesTheVf",
     [](HookTest&, TestBed& bed, const std::vector<PciAddress>& vfs) {
       EXPECT_TRUE(bed.tree().add_netdev("enp1s0v0", vfs[0], true));
       return one_port_domain("vm2", vfs[0], 110, R"(pool="provider" vlan="110")");
     },
     "the host itself uses this VF (interface enp1s0v0 is up)"},
    {"VfOutsideTheRecordsPool",
     [](HookTest&, TestBed& bed, const std::vector<PciAddress>& vfs) {
       bed.write_config(std::string(kProviderConfig) +
                        "\n[[pool]]\nname = \"other\"\npfs = [\"enp2s0\"]\nvlans = [\"300\"]\n");
       return one_port_domain("vm2", vfs[0], 300, R"(pool="other" vlan="300")");
     },
     "this VF does not belong to pool 'other'"},
    {"VfOutsideThePoolsVfRange",
     [](HookTest&, TestBed& bed, const std::vector<PciAddress>& vfs) {
       bed.write_config(
           "[[pool]]\nname = \"provider\"\npfs = [\"enp1s0\"]\nvlans = [\"100-199\"]\n"
           "vf_range = \"0-0\"\n");
       return one_port_domain("vm2", vfs[1], 110, R"(pool="provider" vlan="110")");
     },
     "VF index 1 is outside the VF range pool 'provider' may use (vf_range 0-0). Give the port a "
     "VF inside the range (`vfctl port remove`, then `vfctl port add` picks one), or widen "
     "vf_range in the vfhook config."},
    {"ADeviceThatIsNoVfInAVfPool",
     [](HookTest&, TestBed& bed, const std::vector<PciAddress>&) {
       testing::DeviceSpec nic;
       nic.driver = "igb";
       EXPECT_TRUE(bed.tree().add_device(pci("0000:05:00.0"), nic));
       return domain_xml("vm2", hostdev_xml(pci("0000:05:00.0"), false),
                         port_record_xml(R"(host="0000:05:00.0" pool="provider" vlan="110")"));
     },
     "this device is not an SR-IOV VF, and pool 'provider' gives out VFs only. Point the port at "
     "a VF of the pool, or give whole devices from a pool with mode = \"pf\"."},
    {"AWholeDeviceAsAnInterface",
     [](HookTest&, TestBed& bed, const std::vector<PciAddress>&) {
       testing::DeviceSpec nic;
       nic.driver = "igb";
       EXPECT_TRUE(bed.tree().add_device(pci("0000:05:00.0"), nic));
       bed.write_config(std::string(kProviderConfig) +
                        "\n[[pool]]\nname = \"whole\"\nmode = \"pf\"\npfs = [\"0000:05:00.0\"]\n");
       return domain_xml(
           "vm2", interface_hostdev_xml(
                      {mac("52:54:00:ee:00:05"), pci("0000:05:00.0"), false, std::nullopt, ""}));
     },
     "a whole device can only be given as a <hostdev>, not as an <interface>. Write it as "
     "<hostdev mode='subsystem' type='pci'>, or give the <interface> a VF of a VF pool."},
};

// ---- one record, one device ------------------------------------------------------------------

TEST_F(HookTest, ARecordThatMatchesTwoDevicesIsRefused) {
  // The record names the first interface by alias and the second by MAC: both VFs would get
  // its MAC, VLAN and settings.
  const std::string xml = domain_xml(
      "vm1",
      interface_hostdev_xml({mac("52:54:00:aa:00:01"), vfs[0], false, 110, "ua-net0"}) +
          interface_hostdev_xml({mac("52:54:00:aa:00:02"), vfs[1], false, 110, ""}),
      port_record_xml(R"(alias="ua-net0" mac="52:54:00:aa:00:02" pool="provider" vlan="110")"));
  const auto before = bed.fingerprint();
  HookResult result = bed.hook("vm1", "prepare", xml);
  EXPECT_EQ(result.exit_code, 1) << explain(result);
  EXPECT_THAT(result.err, AllOf(HasSubstr("vfhook port record #1 (alias ua-net0)"),
                                HasSubstr("interface 52:54:00:aa:00:01"),
                                HasSubstr("interface 52:54:00:aa:00:02")));
  EXPECT_THAT(bed.requests(), IsEmpty());
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
}

TEST_F(HookTest, TwoInterfacesWithOneMacAreRefused) {
  const std::string xml =
      domain_xml("vm1",
                 interface_hostdev_xml({mac("52:54:00:aa:00:01"), vfs[0], false, 110, ""}) +
                     interface_hostdev_xml({mac("52:54:00:aa:00:01"), vfs[1], false, 110, ""}),
                 port_record_xml(R"(mac="52:54:00:aa:00:01" pool="provider" vlan="110")"));
  const auto before = bed.fingerprint();
  HookResult result = bed.hook("vm1", "prepare", xml);
  EXPECT_EQ(result.exit_code, 1) << explain(result);
  EXPECT_THAT(result.err, AllOf(HasSubstr("52:54:00:aa:00:01"), HasSubstr("0000:01:10.0"),
                                HasSubstr("0000:01:10.2")));
  EXPECT_THAT(bed.requests(), IsEmpty());
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
}

TEST_F(HookTest, PrepareThatCannotMarkTheDomainClaimsNothing) {
  // Release trusts the marker to say that a domain holds claims: no claim without it.
  std::ofstream(bed.state_dir() / "domains") << "a file where the markers directory belongs";
  const auto before = bed.fingerprint();
  HookResult prepared = bed.hook("vm1", "prepare", two_port_domain(vfs));
  EXPECT_EQ(prepared.exit_code, 1) << explain(prepared);
  EXPECT_THAT(prepared.err, HasSubstr("domain marker"));
  EXPECT_THAT(bed.claims(), IsEmpty());
  EXPECT_EQ(fingerprint_diff(before, bed.fingerprint()), "");
}

INSTANTIATE_TEST_SUITE_P(Policy, RefusalTest, ::testing::ValuesIn(kRefusals),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace vfhook::blackbox
