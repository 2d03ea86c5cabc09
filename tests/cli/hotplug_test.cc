// vfctl attach / detach on the fakes, in the sequences operators and guests produce: attach
// then detach; attach, then detach, then stop; a guest that keeps the device; a libvirt or a
// driver that refuses halfway. After each, the VFs are as they were or the result says why.
#include "cli/hotplug.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>

#include "engine/operations.h"
#include "testing/engine_bed.h"
#include "testing/fake_libvirt.h"

namespace vfhook {
namespace {

using testing::EngineBed;
using testing::FakeLibvirt;
using ::testing::HasSubstr;

const char* const kGuest =
    "<domain type='kvm'><name>web1</name><uuid>6f2a3c58-1e2b-4c7d-9a41-3f5e2d1c0b9b</uuid>"
    "<devices><disk type='file' device='disk'><source file='/img/web1.qcow2'/>"
    "<target dev='vda' bus='virtio'/></disk></devices></domain>";

class HotplugTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (VfState& vf : bed.netlink().pf("enp1s0")->vfs)
      vf.mac = MacAddress{{0x02, 0, 0, 0, 3, static_cast<uint8_t>(vf.index)}};
    libvirt.add_domain(kGuest);
    libvirt.start("web1");
    before = bed.fingerprint();
  }
  PortSpec port(uint16_t vlan) {
    PortSpec spec;
    spec.pool = "provider";
    spec.vlan = Vlan{vlan, 0, VlanProtocol::dot1q};
    spec.trust = true;
    return spec;
  }
  std::vector<VfPort> live_ports() {
    return DomainXml::parse(*libvirt.domains.at("web1").live_xml)->vf_ports();
  }

  EngineBed bed;
  FakeLibvirt libvirt;
  std::map<std::string, std::string> before;
};

TEST_F(HotplugTest, AttachClaimsBindsAttachesLiveAndAppliesWhatLibvirtCannot) {
  auto attached = attach_port("web1", port(120), false, libvirt, bed.ctx());
  ASSERT_TRUE(attached) << attached.error().message;
  EXPECT_TRUE(attached->left_behind.empty());
  const PciAddress vf = attached->port.vf.vf;
  ASSERT_EQ(live_ports().size(), 1u);
  EXPECT_EQ(live_ports()[0].host, vf);
  EXPECT_EQ(live_ports()[0].alias, "ua-vfhook0");
  ASSERT_EQ(bed.claims().size(), 1u);
  EXPECT_EQ(bed.claims()[0].domain, "web1");
  EXPECT_EQ(bed.claims()[0].vf, vf);
  EXPECT_EQ(bed.driver(vf), "vfio-pci");  // bound before libvirt's attach, as managed='no' needs
  EXPECT_EQ(bed.netlink().pf("enp1s0")->vfs[attached->port.vf.vf_index].trust, true);
  // Not persistent: the definition and the reservations are untouched.
  EXPECT_TRUE(libvirt.defines.empty());
  EXPECT_TRUE(bed.reservations().empty());
}

TEST_F(HotplugTest, AttachThenDetachThenStopLeavesEveryVfAsItWas) {
  auto attached = attach_port("web1", port(120), false, libvirt, bed.ctx());
  ASSERT_TRUE(attached) << attached.error().message;
  auto detached =
      detach_port("web1", "ua-vfhook0", false, std::chrono::seconds(5), libvirt, bed.ctx());
  ASSERT_TRUE(detached) << detached.error().message;
  EXPECT_TRUE(detached->released);
  EXPECT_TRUE(detached->left_behind.empty()) << detached->left_behind;
  EXPECT_TRUE(live_ports().empty());
  EXPECT_TRUE(bed.claims().empty());

  // The journal's story of the port: claimed, attached, restored, detached, each once.
  const PciAddress vf = attached->port.vf.vf;
  std::vector<std::string> story;
  for (const LogEntry& entry : bed.log().entries)
    if (auto outcome = entry.field(log_field::outcome)) story.push_back(*outcome);
  EXPECT_EQ(story, (std::vector<std::string>{"claimed", "attached", "restored", "detached"}));
  const std::vector<LogEntry> attach_entries = bed.log().with_outcome("attached");
  ASSERT_EQ(attach_entries.size(), 1u);
  EXPECT_EQ(attach_entries[0].field(log_field::domain), "web1");
  EXPECT_EQ(attach_entries[0].field(log_field::pci_address), vf.to_string());
  EXPECT_EQ(attach_entries[0].field(log_field::pf), "enp1s0");
  EXPECT_EQ(attach_entries[0].field(log_field::vf_index),
            std::to_string(attached->port.vf.vf_index));
  EXPECT_EQ(attach_entries[0].field(log_field::pool), "provider");
  const std::vector<LogEntry> detach_entries = bed.log().with_outcome("detached");
  ASSERT_EQ(detach_entries.size(), 1u);
  EXPECT_EQ(detach_entries[0].field(log_field::pci_address), vf.to_string());
  // The stop that follows: libvirt runs the release hook; nothing is left to release.
  libvirt.stop("web1");
  Outcome released = release_domain("web1", bed.ctx());
  EXPECT_TRUE(released.ok());
  EXPECT_TRUE(released.problems.empty());
  auto after = bed.fingerprint();
  // The VF keeps vfio-pci (the pool keeps idle VFs there); its admin settings are restored.
  const std::string key = "vf " + std::to_string(attached->port.vf.vf_index);
  EXPECT_EQ(after[key], before[key]);
}

TEST_F(HotplugTest, AGuestThatKeepsTheDeviceKeepsItsClaimAndTheVfIsUntouched) {
  auto attached = attach_port("web1", port(120), false, libvirt, bed.ctx());
  ASSERT_TRUE(attached);
  const auto during = bed.fingerprint();
  libvirt.guest_keeps_devices = true;
  auto detached =
      detach_port("web1", "ua-vfhook0", false, std::chrono::seconds(5), libvirt, bed.ctx());
  ASSERT_TRUE(detached) << detached.error().message;
  EXPECT_FALSE(detached->released);
  EXPECT_THAT(detached->left_behind, HasSubstr("did not release ua-vfhook0"));
  EXPECT_EQ(bed.claims().size(), 1u);
  EXPECT_EQ(bed.fingerprint(), during);
  EXPECT_EQ(live_ports().size(), 1u);
  EXPECT_EQ(bed.log().with_outcome("kept-by-guest").size(), 1u);
  EXPECT_TRUE(bed.log().with_outcome("detached").empty());
  EXPECT_TRUE(bed.log().with_outcome("restored").empty());
}

TEST_F(HotplugTest, ALibvirtRefusalUndoesTheClaimAndTheBind) {
  libvirt.fail_next_attach = Error{ErrorKind::os, "internal error: unable to execute QEMU", 0};
  auto attached = attach_port("web1", port(120), false, libvirt, bed.ctx());
  ASSERT_FALSE(attached);
  EXPECT_THAT(attached.error().message, HasSubstr("unable to execute QEMU"));
  EXPECT_THAT(attached.error().message, HasSubstr("every step was undone"));
  EXPECT_TRUE(bed.claims().empty());
  EXPECT_TRUE(live_ports().empty());
  EXPECT_EQ(bed.fingerprint(), before);
  const std::vector<LogEntry> failed = bed.log().with_outcome("failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].field(log_field::domain), "web1");
  EXPECT_EQ(failed[0].field(log_field::pool), "provider");
  EXPECT_THAT(failed[0].message, HasSubstr("unable to execute QEMU"));
  EXPECT_TRUE(bed.log().with_outcome("attached").empty());
}

TEST_F(HotplugTest, APolicyRefusalIsLoggedAsRefusedAndChangesNothing) {
  auto attached = attach_port("web1", port(250), false, libvirt, bed.ctx());
  ASSERT_FALSE(attached);
  EXPECT_EQ(attached.error().kind, ErrorKind::policy) << attached.error().message;
  EXPECT_EQ(bed.fingerprint(), before);
  const std::vector<LogEntry> refused = bed.log().with_outcome("refused");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].field(log_field::domain), "web1");
  EXPECT_EQ(refused[0].field(log_field::pool), "provider");
  EXPECT_THAT(refused[0].message, HasSubstr("250"));
  EXPECT_TRUE(bed.log().with_outcome("claimed").empty());
}

TEST_F(HotplugTest, ADriverRefusalAfterTheAttachDetachesAgainAndRestores) {
  bed.netlink().refuse(VfAttribute::trust, EOPNOTSUPP);
  auto attached = attach_port("web1", port(120), false, libvirt, bed.ctx());
  ASSERT_FALSE(attached);
  EXPECT_THAT(attached.error().message, HasSubstr("trust"));
  EXPECT_THAT(attached.error().message, HasSubstr("every step was undone"));
  EXPECT_EQ(libvirt.detach_requests, std::vector<std::string>{"ua-vfhook0"});
  EXPECT_TRUE(live_ports().empty());
  EXPECT_TRUE(bed.claims().empty());
  EXPECT_EQ(bed.fingerprint(), before);
}

TEST_F(HotplugTest, PersistentAttachAndDetachKeepTheDefinitionAndReservationInStep) {
  auto attached = attach_port("web1", port(121), true, libvirt, bed.ctx());
  ASSERT_TRUE(attached) << attached.error().message;
  EXPECT_TRUE(attached->left_behind.empty());
  ASSERT_EQ(libvirt.defines.size(), 1u);
  auto definition = DomainXml::parse(libvirt.domains.at("web1").persistent_xml);
  ASSERT_EQ(definition->vf_ports().size(), 1u);
  EXPECT_EQ(definition->vf_ports()[0].host, attached->port.vf.vf);
  ASSERT_EQ(bed.reservations().size(), 1u);

  auto detached =
      detach_port("web1", "ua-vfhook0", true, std::chrono::seconds(5), libvirt, bed.ctx());
  ASSERT_TRUE(detached) << detached.error().message;
  EXPECT_TRUE(detached->released);
  EXPECT_TRUE(DomainXml::parse(libvirt.domains.at("web1").persistent_xml)->vf_ports().empty());
  EXPECT_TRUE(bed.reservations().empty());
  EXPECT_TRUE(bed.claims().empty());
}

TEST_F(HotplugTest, AttachToAStoppedDomainIsRefusedAndChangesNothing) {
  libvirt.stop("web1");
  auto attached = attach_port("web1", port(120), false, libvirt, bed.ctx());
  ASSERT_FALSE(attached);
  EXPECT_EQ(attached.error().kind, ErrorKind::conflict);
  EXPECT_THAT(attached.error().message, HasSubstr("vfctl port add"));
  EXPECT_TRUE(bed.claims().empty());
  EXPECT_EQ(bed.fingerprint(), before);
}

TEST_F(HotplugTest, DetachOfAnUnknownAliasIsNotFound) {
  auto detached =
      detach_port("web1", "ua-nope", false, std::chrono::seconds(1), libvirt, bed.ctx());
  ASSERT_FALSE(detached);
  EXPECT_EQ(detached.error().kind, ErrorKind::not_found);
  EXPECT_THAT(detached.error().message,
              HasSubstr("the running domain 'web1' has no VF port with alias 'ua-nope'; "
                        "`virsh dumpxml web1` shows its devices with their aliases"));
  EXPECT_TRUE(libvirt.detach_requests.empty());
}

}  // namespace
}  // namespace vfhook
