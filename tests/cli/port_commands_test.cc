// vfctl port add / render / remove / list against the fake libvirt and the engine bed, in the
// sequences an operator produces: add then start then stop then remove; add twice; a refusal
// or a failed define that must leave nothing behind.
#include "cli/port_commands.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/operations.h"
#include "testing/engine_bed.h"
#include "testing/fake_libvirt.h"

namespace vfhook {
namespace {

using testing::EngineBed;
using testing::FakeLibvirt;
using ::testing::HasSubstr;

const char* const kPlainDomain =
    "<domain type='kvm'><name>web1</name><uuid>6f2a3c58-1e2b-4c7d-9a41-3f5e2d1c0b9b</uuid>"
    "<memory unit='KiB'>1048576</memory><devices><disk type='file' device='disk'>"
    "<source file='/var/lib/libvirt/images/web1.qcow2'/><target dev='vda' bus='virtio'/>"
    "<alias name='ua-disk0'/></disk></devices></domain>";

PortSpec provider_port(uint16_t vlan) {
  PortSpec spec;
  spec.pool = "provider";
  spec.vlan = Vlan{vlan, 0, VlanProtocol::dot1q};
  return spec;
}

class PortCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override { libvirt.add_domain(kPlainDomain); }

  Result<PortAddition> add(const PortSpec& spec, const std::string& domain = "web1") {
    return add_port(domain, spec, libvirt, bed.ctx(), left_behind);
  }
  DomainXml definition(const std::string& name = "web1") {
    auto parsed = DomainXml::parse(libvirt.domains.at(name).persistent_xml);
    EXPECT_TRUE(parsed) << parsed.error().message;
    return std::move(*parsed);
  }

  EngineBed bed;
  FakeLibvirt libvirt;
  std::string left_behind;
};

TEST_F(PortCommandsTest, AddWritesAHostdevInterfaceWithItsRecordAndReservesTheVf) {
  PortSpec spec = provider_port(120);
  spec.vlan->qos = 3;
  spec.trust = true;
  spec.ip = "192.0.2.10";
  auto added = add(spec);
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_TRUE(left_behind.empty());
  ASSERT_EQ(libvirt.defines.size(), 1u);

  DomainXml domain = definition();
  ASSERT_EQ(domain.vf_ports().size(), 1u);
  const VfPort& port = domain.vf_ports()[0];
  EXPECT_EQ(port.kind, PortKind::interface_hostdev);
  EXPECT_FALSE(port.managed);
  EXPECT_EQ(port.alias, "ua-vfhook0");
  EXPECT_EQ(port.host, added->vf.vf);
  EXPECT_EQ(port.mac, added->mac);
  EXPECT_EQ(port.vlan_tag, 120);
  auto records = domain.port_records();
  ASSERT_TRUE(records) << records.error().message;
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].pool, "provider");
  EXPECT_EQ((*records)[0].vlan, (Vlan{120, 3, VlanProtocol::dot1q}));
  EXPECT_EQ((*records)[0].trust, true);
  EXPECT_EQ((*records)[0].ip, "192.0.2.10");
  // The rest of the definition is kept.
  EXPECT_THAT(libvirt.domains.at("web1").persistent_xml, HasSubstr("web1.qcow2"));

  auto reserved = bed.reservations();
  ASSERT_EQ(reserved.size(), 1u);
  EXPECT_EQ(reserved[0], (Reservation{added->vf.vf, "web1", "provider"}));
  EXPECT_TRUE(bed.claims().empty());  // nothing runs yet
}

// What vfctl writes, the hook accepts: the next start prepares and starts the port, stop
// releases it, and `port remove` then leaves every VF as it was and nothing in the store.
TEST_F(PortCommandsTest, AddThenStartThenStopThenRemoveLeavesTheHostAsItWas) {
  // Unicast admin MACs, as `vfctl vfs apply` leaves fresh VFs: release puts them back exactly
  // (an all-zero one it replaces by an idle MAC).
  for (VfState& vf : bed.netlink().pf("enp1s0")->vfs)
    vf.mac = MacAddress{{0x02, 0, 0, 0, 1, static_cast<uint8_t>(vf.index)}};
  auto before = bed.fingerprint();
  PortSpec spec = provider_port(130);
  spec.spoofchk = false;
  auto added = add(spec);
  ASSERT_TRUE(added) << added.error().message;

  DomainXml domain = definition();
  Outcome prepared = prepare_domain("web1", domain, bed.ctx());
  ASSERT_TRUE(prepared.ok()) << (prepared.error ? prepared.error->message : "refused");
  Outcome started = start_domain("web1", domain, bed.ctx());
  ASSERT_TRUE(started.ok()) << (started.error ? started.error->message : "refused");
  EXPECT_EQ(bed.driver(added->vf.vf), "vfio-pci");
  EXPECT_FALSE(bed.netlink().pf("enp1s0")->vfs[added->vf.vf_index].spoofchk);
  libvirt.start("web1");

  // While it runs with the port, remove is refused and changes nothing.
  auto refused = remove_port("web1", "ua-vfhook0", libvirt, bed.ctx());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::conflict);
  EXPECT_THAT(refused.error().message, HasSubstr("vfctl detach web1 ua-vfhook0"));
  EXPECT_EQ(libvirt.defines.size(), 1u);

  Outcome released = release_domain("web1", bed.ctx());
  ASSERT_TRUE(released.ok());
  libvirt.stop("web1");
  auto removed = remove_port("web1", "ua-vfhook0", libvirt, bed.ctx());
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(removed->vf, added->vf.vf);
  EXPECT_TRUE(removed->left_behind.empty());
  EXPECT_TRUE(definition().vf_ports().empty());
  EXPECT_TRUE(definition().port_records()->empty());
  EXPECT_TRUE(bed.reservations().empty());
  EXPECT_TRUE(bed.claims().empty());
  EXPECT_EQ(bed.fingerprint(), before);
}

TEST_F(PortCommandsTest, TwoPortsGetTwoVfsTwoAliasesAndTwoMacs) {
  auto first = add(provider_port(120));
  ASSERT_TRUE(first) << first.error().message;
  auto second = add(provider_port(121));
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_NE(first->vf.vf, second->vf.vf);
  EXPECT_EQ(second->alias, "ua-vfhook1");
  EXPECT_NE(first->mac, second->mac);
  EXPECT_EQ(definition().vf_ports().size(), 2u);
  EXPECT_EQ(bed.reservations().size(), 2u);
}

TEST_F(PortCommandsTest, AnotherDomainsReservationIsNeverGivenOut) {
  libvirt.add_domain("<domain type='kvm'><name>db1</name><devices></devices></domain>");
  std::set<PciAddress> given;
  for (int i = 0; i < 7; ++i) {
    auto added = add(provider_port(static_cast<uint16_t>(100 + i)), i % 2 ? "web1" : "db1");
    ASSERT_TRUE(added) << i << ": " << added.error().message;
    EXPECT_TRUE(given.insert(added->vf.vf).second) << added->vf.vf.to_string() << " twice";
  }
  auto full = add(provider_port(150));
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().kind, ErrorKind::policy);
  EXPECT_THAT(full.error().message, HasSubstr("no free VF"));
  EXPECT_EQ(bed.reservations().size(), 7u);
}

TEST_F(PortCommandsTest, RefusalsNameTheReasonAndChangeNothing) {
  auto outside = add(provider_port(300));  // the pool allows 100-199
  ASSERT_FALSE(outside);
  EXPECT_EQ(outside.error().kind, ErrorKind::policy);
  EXPECT_THAT(outside.error().message, HasSubstr("300"));
  EXPECT_THAT(outside.error().message, HasSubstr("the hook would refuse this port"));

  PortSpec unknown = provider_port(120);
  unknown.pool = "nosuchpool";
  auto no_pool = add(unknown);
  ASSERT_FALSE(no_pool);
  EXPECT_THAT(no_pool.error().message, HasSubstr("no pool 'nosuchpool'"));

  bed.set_config("[[pool]]\nname = \"provider\"\npfs = [\"enp1s0\"]\nvlans = [\"100-199\"]\n");
  PortSpec trusted = provider_port(120);
  trusted.trust = true;
  auto no_trust = add(trusted);
  ASSERT_FALSE(no_trust);
  EXPECT_THAT(no_trust.error().message, HasSubstr("trust"));

  PortSpec prefix = provider_port(120);
  prefix.ip = "192.0.2.10/24";
  auto with_prefix = add(prefix);
  ASSERT_FALSE(with_prefix);
  EXPECT_EQ(with_prefix.error().kind, ErrorKind::invalid_input);

  PortSpec bad_alias = provider_port(120);
  bad_alias.alias = "hostdev0";  // not a user alias
  EXPECT_FALSE(add(bad_alias));
  PortSpec taken_alias = provider_port(120);
  taken_alias.alias = "ua-disk0";  // the disk's
  auto taken = add(taken_alias);
  ASSERT_FALSE(taken);
  EXPECT_THAT(taken.error().message, HasSubstr("ua-disk0"));

  auto no_domain = add(provider_port(120), "nosuchdomain");
  ASSERT_FALSE(no_domain);
  EXPECT_EQ(no_domain.error().kind, ErrorKind::not_found);

  EXPECT_TRUE(libvirt.defines.empty());
  EXPECT_TRUE(bed.reservations().empty());
}

TEST_F(PortCommandsTest, AFailedDefineDropsTheReservationAgain) {
  libvirt.fail_next_define = Error{ErrorKind::os, "define the domain: XML error: boom", 0};
  auto added = add(provider_port(120));
  ASSERT_FALSE(added);
  EXPECT_THAT(added.error().message, HasSubstr("boom"));
  EXPECT_THAT(added.error().message, HasSubstr("nothing was changed"));
  EXPECT_TRUE(left_behind.empty());
  EXPECT_TRUE(bed.reservations().empty());
  EXPECT_TRUE(definition().vf_ports().empty());
  // And the next try succeeds.
  EXPECT_TRUE(add(provider_port(120)));
}

TEST_F(PortCommandsTest, RenderChangesNothingAndShowsWhatAddThenWrites) {
  auto rendered = plan_port_addition("web1", provider_port(120), libvirt, bed.ctx());
  ASSERT_TRUE(rendered) << rendered.error().message;
  EXPECT_THAT(rendered->interface_xml, HasSubstr("<interface type=\"hostdev\" managed=\"no\">"));
  EXPECT_TRUE(libvirt.defines.empty());
  EXPECT_TRUE(bed.reservations().empty());
  auto added = add(provider_port(120));
  ASSERT_TRUE(added);
  EXPECT_EQ(added->vf.vf, rendered->vf.vf);
  EXPECT_EQ(added->mac, rendered->mac);
  EXPECT_EQ(added->interface_xml, rendered->interface_xml);
}

TEST_F(PortCommandsTest, TheDerivedMacIsStableUnicastAndDiffersPerAlias) {
  MacAddress a = derived_port_mac("6f2a3c58-1e2b-4c7d-9a41-3f5e2d1c0b9b", "ua-vfhook0");
  EXPECT_EQ(a, derived_port_mac("6f2a3c58-1e2b-4c7d-9a41-3f5e2d1c0b9b", "ua-vfhook0"));
  EXPECT_NE(a, derived_port_mac("6f2a3c58-1e2b-4c7d-9a41-3f5e2d1c0b9b", "ua-vfhook1"));
  EXPECT_NE(a, derived_port_mac("00000000-1e2b-4c7d-9a41-3f5e2d1c0b9b", "ua-vfhook0"));
  EXPECT_FALSE(a.is_multicast());
  EXPECT_FALSE(a.is_zero());
  EXPECT_EQ(a.bytes[0], 0x0a);
}

TEST_F(PortCommandsTest, ListShowsEachPortWithItsRecordAndState) {
  ASSERT_TRUE(add(provider_port(120)));
  libvirt.add_domain("<domain type='kvm'><name>broken</name><devices></devices></domain>");
  libvirt.domains.at("broken").persistent_xml = "<domain><name>broken";  // unparseable
  auto listing = list_ports(std::nullopt, libvirt, bed.ctx());
  ASSERT_TRUE(listing) << listing.error().message;
  ASSERT_EQ(listing->ports.size(), 1u);
  EXPECT_EQ(listing->ports[0].domain, "web1");
  ASSERT_TRUE(listing->ports[0].record);
  EXPECT_EQ(listing->ports[0].record->pool, "provider");
  EXPECT_TRUE(listing->ports[0].reservation);
  EXPECT_FALSE(listing->ports[0].claim);
  ASSERT_EQ(listing->problems.size(), 1u);
  EXPECT_THAT(listing->problems[0], HasSubstr("broken"));
}

TEST_F(PortCommandsTest, RemoveOfAnUnknownAliasIsNotFoundAndChangesNothing) {
  ASSERT_TRUE(add(provider_port(120)));
  auto removed = remove_port("web1", "ua-nope", libvirt, bed.ctx());
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().kind, ErrorKind::not_found);
  EXPECT_THAT(removed.error().message,
              HasSubstr("domain 'web1' has no VF port with alias 'ua-nope' in its definition; "
                        "`vfctl port list web1` lists its ports"));
  EXPECT_EQ(libvirt.defines.size(), 1u);
  EXPECT_EQ(bed.reservations().size(), 1u);
}

}  // namespace
}  // namespace vfhook
