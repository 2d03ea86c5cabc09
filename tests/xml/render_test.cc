#include <gtest/gtest.h>

#include "testing/addresses.h"
#include "tests/xml/fixtures.h"
#include "xml/domain_xml.h"

namespace vfhook {
namespace {

using testing::mac;
using testing::pci;

HostdevInterfaceSpec full_spec() {
  HostdevInterfaceSpec spec{pci("0000:01:10.2"), mac("52:54:00:aa:00:07"), 120, false,
                            "ua-sriov-7",        pci("0000:08:00.0")};
  return spec;
}

TEST(RenderHostdevInterface, ParsesBackToTheSamePort) {
  auto text = render_hostdev_interface(full_spec());
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(text->rfind("<interface type=\"hostdev\" managed=\"no\">", 0), 0u) << *text;
  auto domain = DomainXml::parse(testing::domain_with(*text));
  ASSERT_TRUE(domain) << domain.error().message << "\n" << *text;
  ASSERT_EQ(domain->vf_ports().size(), 1u);
  const VfPort& port = domain->vf_ports()[0];
  EXPECT_EQ(port.kind, PortKind::interface_hostdev);
  EXPECT_FALSE(port.managed);
  EXPECT_EQ(port.host, pci("0000:01:10.2"));
  EXPECT_EQ(port.mac, mac("52:54:00:aa:00:07"));
  EXPECT_EQ(port.vlan_tag, 120);
  EXPECT_EQ(port.alias, "ua-sriov-7");
  EXPECT_EQ(port.guest_address, pci("0000:08:00.0"));
}

TEST(RenderHostdevInterface, LeavesOutWhatIsNotSet) {
  HostdevInterfaceSpec spec = full_spec();
  spec.vlan_tag.reset();
  spec.guest_address.reset();
  spec.managed = true;
  auto text = render_hostdev_interface(spec);
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(text->find("<vlan"), std::string::npos);
  EXPECT_NE(text->find("managed=\"yes\""), std::string::npos);
  auto domain = DomainXml::parse(testing::domain_with(*text));
  ASSERT_TRUE(domain);
  EXPECT_FALSE(domain->vf_ports()[0].guest_address);
  EXPECT_FALSE(domain->vf_ports()[0].vlan_tag);
  EXPECT_TRUE(domain->vf_ports()[0].managed);
}

TEST(RenderHostdevInterface, RefusesBadAliasMacAndVlan) {
  for (std::string alias :
       {std::string(), std::string("ua-"), std::string("hostdev0"), std::string("ua-a'b"),
        std::string("ua-<x>"), std::string("ua-a/../b"), "ua-" + std::string(62, 'a')}) {
    HostdevInterfaceSpec spec = full_spec();
    spec.alias = alias;
    auto text = render_hostdev_interface(spec);
    EXPECT_FALSE(text) << alias;
    if (!text) {
      EXPECT_EQ(text.error().kind, ErrorKind::invalid_input);
    }
  }
  HostdevInterfaceSpec spec = full_spec();
  spec.mac = mac("33:33:00:00:00:01");
  EXPECT_FALSE(render_hostdev_interface(spec));
  spec = full_spec();
  spec.mac = MacAddress{};
  EXPECT_FALSE(render_hostdev_interface(spec));
  for (uint16_t tag : {0, 4095, 65535}) {
    spec = full_spec();
    spec.vlan_tag = tag;
    EXPECT_FALSE(render_hostdev_interface(spec)) << tag;
  }
}

TEST(RenderHostdev, APlainHostdevParsesBackAsAnUnmanagedHostdevPort) {
  auto text = render_hostdev(HostdevSpec{pci("0000:01:10.2"), false, "ua-vfhook0"});
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(text->rfind("<hostdev mode=\"subsystem\" type=\"pci\" managed=\"no\">", 0), 0u)
      << *text;
  auto domain = DomainXml::parse(testing::domain_with(*text));
  ASSERT_TRUE(domain) << domain.error().message << "\n" << *text;
  ASSERT_EQ(domain->vf_ports().size(), 1u);
  const VfPort& port = domain->vf_ports()[0];
  EXPECT_EQ(port.kind, PortKind::hostdev);
  EXPECT_FALSE(port.managed);
  EXPECT_EQ(port.host, pci("0000:01:10.2"));
  EXPECT_EQ(port.alias, "ua-vfhook0");
  EXPECT_FALSE(port.mac);
  EXPECT_FALSE(port.vlan_tag);
  EXPECT_FALSE(render_hostdev(HostdevSpec{pci("0000:01:10.2"), false, "hostdev0"}));
}

TEST(WithHostdev, AddsTheHostdevAndItsRecordAndRefusesATakenAliasOrHost) {
  auto empty = DomainXml::parse(testing::domain_with(""));
  ASSERT_TRUE(empty) << empty.error().message;
  PortRecord record;
  record.alias = "ua-vfhook0";
  record.mac = mac("0a:00:00:00:00:07");
  record.pool = "provider";
  record.vlan = Vlan{120, 3, VlanProtocol::dot1q};
  record.trust = true;
  auto added = empty->with_hostdev(HostdevSpec{pci("0000:01:10.2"), false, "ua-vfhook0"}, record);
  ASSERT_TRUE(added) << added.error().message;
  ASSERT_EQ(added->vf_ports().size(), 1u);
  EXPECT_EQ(added->vf_ports()[0].kind, PortKind::hostdev);
  auto records = added->port_records();
  ASSERT_TRUE(records) << records.error().message;
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0], record);
  ASSERT_NE(find_record(*records, added->vf_ports()[0]), nullptr);
  // The original is untouched.
  EXPECT_TRUE(empty->vf_ports().empty());

  PortRecord second = record;
  second.alias = "ua-vfhook1";
  second.mac = mac("0a:00:00:00:00:08");
  auto same_alias =
      added->with_hostdev(HostdevSpec{pci("0000:01:10.4"), false, "ua-vfhook0"}, second);
  ASSERT_FALSE(same_alias);
  EXPECT_EQ(same_alias.error().kind, ErrorKind::invalid_input);
  auto same_host =
      added->with_hostdev(HostdevSpec{pci("0000:01:10.2"), false, "ua-vfhook1"}, second);
  ASSERT_FALSE(same_host);
  EXPECT_EQ(same_host.error().kind, ErrorKind::invalid_input);
}

}  // namespace
}  // namespace vfhook
