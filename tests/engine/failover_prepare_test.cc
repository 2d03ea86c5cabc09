// prepare of a domain with a virtio-net failover pair (engine/port_plan.h): the VF interface's
// <teaming type='transient' persistent='ua-X'> must name a virtio interface with alias ua-X
// and <teaming type='persistent'/>, with the VF's MAC, and a VF with a guest address needs a
// bus of its own. Each mistake refuses the start with nothing changed on the host.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>

#include "engine/operations.h"
#include "testing/engine_bed.h"

namespace vfhook {
namespace {

using testing::EngineBed;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

struct Pair {
  std::string vf_mac = "52:54:00:aa:00:01";
  std::string virtio_mac = "52:54:00:aa:00:01";
  std::string persistent = "ua-virtio0";  // what the VF's <teaming> names
  std::string virtio_alias = "ua-virtio0";
  std::string virtio_teaming = "<teaming type='persistent'/>";
  std::string virtio_model = "virtio";
  std::string vf_guest_address =
      "<address type='pci' domain='0x0000' bus='0x08' slot='0x00' function='0x0'/>";
  std::string more_devices;  // other devices, after the pair
};

std::string domain_xml(const Pair& p, const PciAddress& vf) {
  char source[128];
  std::snprintf(source, sizeof source,
                "<address type='pci' domain='0x0000' bus='0x%02x' slot='0x%02x' "
                "function='0x%x'/>",
                vf.bus, vf.slot, vf.function);
  return "<domain type='kvm'><name>web1</name><metadata><vfhook:ports "
         "xmlns:vfhook='urn:vfhook:ports:1'><vfhook:port alias='ua-sriov0' pool='provider' "
         "vlan='120'/></vfhook:ports></metadata><devices>"
         "<controller type='pci' index='8' model='pcie-root-port'><alias name='pci.8'/>"
         "<address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>"
         "</controller>"
         "<interface type='bridge'><mac address='" +
         p.virtio_mac + "'/><source bridge='br0'/><model type='" + p.virtio_model + "'/>" +
         p.virtio_teaming + "<alias name='" + p.virtio_alias +
         "'/><address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>"
         "</interface>"
         "<interface type='hostdev' managed='no'><mac address='" +
         p.vf_mac + "'/><source>" + source +
         "</source><vlan><tag id='120'/></vlan><teaming type='transient' persistent='" +
         p.persistent + "'/><alias name='ua-sriov0'/>" + p.vf_guest_address + "</interface>" +
         p.more_devices + "</devices></domain>";
}

class FailoverPrepare : public ::testing::Test {
 protected:
  // prepare of the pair on VF 2; the refusal text, "" when it started.
  std::string prepare(const Pair& pair) {
    auto domain = DomainXml::parse(domain_xml(pair, bed.vf(2)));
    EXPECT_TRUE(domain) << domain.error().message;
    if (!domain) return "unparsed";
    const auto before = bed.fingerprint();
    Outcome outcome = prepare_domain("web1", *domain, bed.ctx());
    if (outcome.ok()) return "";
    EXPECT_EQ(outcome.status, Outcome::Status::refused)
        << (outcome.error ? outcome.error->message : "");
    EXPECT_THAT(bed.claims(), IsEmpty());
    EXPECT_EQ(bed.fingerprint(), before);
    std::string text;
    for (const Refusal& refusal : outcome.refusals) text += to_string(refusal) + "\n";
    return text;
  }

  EngineBed bed;  // pool "provider", failover = false
};

// failover = false governs arrival by migration only: a teamed port still starts here.
TEST_F(FailoverPrepare, AGoodPairStartsInAPoolWithoutFailover) {
  EXPECT_EQ(prepare(Pair{}), "");
  ASSERT_EQ(bed.claims().size(), 1u);
  EXPECT_EQ(bed.claims()[0].vf, bed.vf(2));
}

TEST_F(FailoverPrepare, APairWithoutGuestAddressesStarts) {
  // prepare runs before libvirt assigns guest addresses: only a present one is checked.
  Pair pair;
  pair.vf_guest_address = "";
  EXPECT_EQ(prepare(pair), "");
}

TEST_F(FailoverPrepare, APersistentAliasThatNamesNoInterfaceIsRefused) {
  Pair pair;
  pair.persistent = "ua-virtio9";
  const std::string refused = prepare(pair);
  EXPECT_THAT(refused, HasSubstr("interface 52:54:00:aa:00:01 (PF enp1s0 VF 2, 0000:01:10.4): "
                                 "its <teaming type='transient' persistent='ua-virtio9'> names "
                                 "no interface of the domain"));
  EXPECT_THAT(refused, HasSubstr("<alias name='ua-virtio9'/> and <teaming type='persistent'/>"));
}

TEST_F(FailoverPrepare, APersistentAliasThatNamesTheVfItselfIsRefused) {
  Pair pair;
  pair.persistent = "ua-sriov0";
  EXPECT_THAT(prepare(pair), HasSubstr("names another VF port; the persistent side of "
                                       "virtio-net failover is a virtio interface"));
}

TEST_F(FailoverPrepare, APartnerWithoutPersistentTeamingIsRefused) {
  Pair pair;
  pair.virtio_teaming = "";
  EXPECT_THAT(prepare(pair), HasSubstr("names interface ua-virtio0 (mac 52:54:00:aa:00:01), "
                                       "which has no <teaming type='persistent'/>"));
}

TEST_F(FailoverPrepare, APartnerThatIsNotVirtioIsRefused) {
  Pair pair;
  pair.virtio_model = "e1000e";
  EXPECT_THAT(prepare(pair), HasSubstr("has model 'e1000e'; virtio-net failover needs <model "
                                       "type='virtio'/> there"));
}

TEST_F(FailoverPrepare, DifferentMacsAreRefused) {
  Pair pair;
  pair.virtio_mac = "52:54:00:aa:00:02";
  EXPECT_THAT(prepare(pair), HasSubstr("its MAC (52:54:00:aa:00:01) and its failover partner "
                                       "interface ua-virtio0 (mac 52:54:00:aa:00:02)'s "
                                       "(52:54:00:aa:00:02) differ"));
}

TEST_F(FailoverPrepare, ADeviceOnTheVfsGuestBusIsRefusedNamingIt) {
  Pair pair;
  pair.more_devices =
      "<disk type='file' device='disk'><source file='/x.qcow2'/><target dev='vdb' "
      "bus='virtio'/><alias name='virtio-disk1'/><address type='pci' domain='0x0000' "
      "bus='0x08' slot='0x01' function='0x0'/></disk>";
  EXPECT_THAT(prepare(pair), HasSubstr("its guest address 0000:08:00.0 shares bus 08 with "
                                       "<disk> virtio-disk1 at 0000:08:01.0"));
}

TEST_F(FailoverPrepare, TheRootBusIsRefused) {
  Pair pair;
  pair.vf_guest_address =
      "<address type='pci' domain='0x0000' bus='0x00' slot='0x07' function='0x0'/>";
  EXPECT_THAT(prepare(pair), HasSubstr("its guest address 0000:00:07.0 is on the root bus (bus "
                                       "00), where QEMU cannot unplug it"));
}

TEST_F(FailoverPrepare, TwoVfsTeamedWithOneVirtioInterfaceAreRefused) {
  Pair pair;
  char source[128];
  std::snprintf(source, sizeof source,
                "<address type='pci' domain='0x0000' bus='0x%02x' slot='0x%02x' "
                "function='0x%x'/>",
                bed.vf(3).bus, bed.vf(3).slot, bed.vf(3).function);
  pair.more_devices = std::string(
                          "<interface type='hostdev' managed='no'><mac "
                          "address='52:54:00:aa:00:03'/><source>") +
                      source +
                      "</source><vlan><tag id='120'/></vlan><teaming type='transient' "
                      "persistent='ua-virtio0'/><alias name='ua-sriov1'/></interface>";
  // The second VF's record (alias ua-sriov1) is missing: a VF of the pool without one is still
  // the pool's, and its VLAN tag is checked.
  EXPECT_THAT(prepare(pair),
              HasSubstr("interface 52:54:00:aa:00:03 (PF enp1s0 VF 3, 0000:01:10.6): its "
                        "<teaming type='transient' persistent='ua-virtio0'> names the same "
                        "virtio interface as interface 52:54:00:aa:00:01 (PF enp1s0 VF 2, "
                        "0000:01:10.4)"));
}

// Every mistake is reported at once, so one edit fixes them all.
TEST_F(FailoverPrepare, SeveralMistakesAreAllReported) {
  Pair pair;
  pair.virtio_mac = "52:54:00:aa:00:02";
  pair.vf_guest_address =
      "<address type='pci' domain='0x0000' bus='0x00' slot='0x07' function='0x0'/>";
  const std::string refused = prepare(pair);
  EXPECT_THAT(refused, HasSubstr("differ"));
  EXPECT_THAT(refused, HasSubstr("root bus"));
}

// A broken pair fixed by the operator: the refused start changed nothing, the next one works,
// and release puts the VF back.
TEST_F(FailoverPrepare, ARefusedStartThenAFixedOneThenRelease) {
  Pair broken;
  broken.virtio_teaming = "";
  ASSERT_NE(prepare(broken), "");
  ASSERT_EQ(prepare(Pair{}), "");
  ASSERT_TRUE(release_domain("web1", bed.ctx()).ok());
  EXPECT_THAT(bed.claims(), IsEmpty());
}

// start and reconnect see a domain that passed prepare (and a running guest is never refused
// for it): the pairing is not checked there.
TEST_F(FailoverPrepare, ReconnectDoesNotCheckThePairing) {
  ASSERT_EQ(prepare(Pair{}), "");
  Pair broken;
  broken.virtio_teaming = "";
  auto domain = DomainXml::parse(domain_xml(broken, bed.vf(2)));
  ASSERT_TRUE(domain);
  Outcome reconnected = reconnect_domain("web1", *domain, bed.ctx());
  EXPECT_TRUE(reconnected.ok());
  EXPECT_THAT(reconnected.problems, IsEmpty());
}

}  // namespace
}  // namespace vfhook
