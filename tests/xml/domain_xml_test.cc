#include "xml/domain_xml.h"

#include <gtest/gtest.h>

#include "testing/addresses.h"
#include "tests/xml/fixtures.h"

namespace vfhook {
namespace {

using testing::mac;
using testing::pci;

using testing::domain_with;
using testing::ports_metadata;

DomainXml parse_ok(const std::string& text) {
  auto domain = DomainXml::parse(text);
  EXPECT_TRUE(domain) << domain.error().message;
  if (!domain) std::abort();
  return std::move(*domain);
}

TEST(DomainXml, ReadsNameUuidAndNumaNodes) {
  std::string xml = domain_with("");
  xml.replace(xml.find("  <memory unit"), 0,
              "  <numatune>\n    <memory mode='strict' nodeset='0-1,3'/>\n  </numatune>\n");
  DomainXml domain = parse_ok(xml);
  EXPECT_EQ(domain.name(), "vm-sriov-1");
  EXPECT_EQ(domain.uuid(), "c7a5fdbd-cdaf-9455-926a-d65c16db1809");
  EXPECT_EQ(domain.memory_numa_nodes(), (std::vector<int>{0, 1, 3}));
}

TEST(DomainXml, NoNumatuneMeansNoBinding) {
  EXPECT_TRUE(parse_ok(domain_with("")).memory_numa_nodes().empty());
}

// <memory>/<memtune><hard_limit> in libvirt's units.
DomainXml::MemorySizes sizes_of(const std::string& memory, const std::string& memtune = "") {
  auto sizes = parse_ok("<domain><name>m</name>" + memory + memtune + "</domain>").memory_sizes();
  EXPECT_TRUE(sizes) << sizes.error().message;
  return sizes ? *sizes : DomainXml::MemorySizes{};
}

TEST(DomainXml, MemorySizesReadLibvirtsUnitsWithKibAsTheDefault) {
  EXPECT_EQ(sizes_of("<memory>2048</memory>").memory, 2048u * 1024);
  EXPECT_EQ(sizes_of("<memory unit='KiB'>2048</memory>").memory, 2048u * 1024);
  EXPECT_EQ(sizes_of("<memory unit='KB'>2048</memory>").memory, 2048u * 1000);
  EXPECT_EQ(sizes_of("<memory unit='M'>3</memory>").memory, 3u << 20);
  EXPECT_EQ(sizes_of("<memory unit='GB'>1</memory>").memory, 1000000000u);
  EXPECT_EQ(sizes_of("<memory unit='b'>4096</memory>").memory, 4096u);
  const auto both = sizes_of("<memory unit='GiB'>4</memory>",
                             "<memtune><hard_limit unit='T'>1</hard_limit></memtune>");
  EXPECT_EQ(both.memory, uint64_t{4} << 30);
  EXPECT_EQ(both.hard_limit, uint64_t{1} << 40);
  const auto none = sizes_of("");
  EXPECT_FALSE(none.memory);
  EXPECT_FALSE(none.hard_limit);
}

TEST(DomainXml, MemorySizesRefuseBadNumbersUnitsAndOverflowNamingTheElement) {
  for (const char* bad :
       {"<memory unit='parsec'>1</memory>", "<memory>-1</memory>", "<memory>1.5</memory>",
        "<memory></memory>", "<memory unit='EiB'>16</memory>", "<memory>0x10</memory>"}) {
    auto sizes = parse_ok(std::string("<domain><name>m</name>") + bad + "</domain>").memory_sizes();
    ASSERT_FALSE(sizes) << bad;
    EXPECT_EQ(sizes.error().kind, ErrorKind::invalid_input) << bad;
    EXPECT_NE(sizes.error().message.find("<memory>"), std::string::npos) << sizes.error().message;
  }
  auto limit = parse_ok(
                   "<domain><name>m</name><memtune><hard_limit unit='zz'>1</hard_limit>"
                   "</memtune></domain>")
                   .memory_sizes();
  ASSERT_FALSE(limit);
  EXPECT_NE(limit.error().message.find("<memtune><hard_limit>: unknown unit 'zz'"),
            std::string::npos)
      << limit.error().message;
}

TEST(DomainXml, FindsTwoInterfacePortsInDocumentOrder) {
  DomainXml domain = parse_ok(domain_with(testing::kTwoInterfacePorts));
  const auto& ports = domain.vf_ports();
  ASSERT_EQ(ports.size(), 2u);

  EXPECT_EQ(ports[0].kind, PortKind::interface_hostdev);
  EXPECT_EQ(ports[0].ordinal, 0u);
  EXPECT_TRUE(ports[0].managed);
  EXPECT_EQ(ports[0].host, pci("0000:01:10.2"));
  EXPECT_EQ(ports[0].mac, mac("52:54:00:aa:00:01"));
  EXPECT_EQ(ports[0].vlan_tag, 120);
  EXPECT_EQ(ports[0].alias, "hostdev0");
  EXPECT_EQ(ports[0].guest_address, pci("0000:02:00.0"));  // the child <address>, not <source>'s
  EXPECT_FALSE(ports[0].network);

  EXPECT_EQ(ports[1].ordinal, 1u);
  EXPECT_FALSE(ports[1].managed);
  EXPECT_EQ(ports[1].host, pci("0000:01:10.4"));
  EXPECT_EQ(ports[1].mac, mac("52:54:00:aa:00:02"));
  EXPECT_FALSE(ports[1].vlan_tag);
  EXPECT_EQ(ports[1].alias, "ua-sriov-b");
  EXPECT_EQ(ports[1].guest_address, pci("0000:03:00.0"));
}

TEST(DomainXml, ListsOnlyPciHostdevs) {
  DomainXml domain = parse_ok(domain_with(testing::kHostdevs));
  ASSERT_EQ(domain.vf_ports().size(), 1u);
  const VfPort& port = domain.vf_ports()[0];
  EXPECT_EQ(port.kind, PortKind::hostdev);
  EXPECT_FALSE(port.managed);
  EXPECT_EQ(port.host, pci("0000:01:11.6"));
  EXPECT_EQ(port.alias, "hostdev1");
  EXPECT_EQ(port.guest_address, pci("0000:06:00.0"));
  EXPECT_FALSE(port.mac);
  EXPECT_EQ(port.describe(), "hostdev 0000:01:11.6");
}

TEST(DomainXml, OrdinalsCountOnlyVfPortsAcrossInterfacesAndHostdevs) {
  DomainXml domain = parse_ok(
      domain_with(std::string(testing::kHostdevs) + std::string(testing::kTwoInterfacePorts)));
  ASSERT_EQ(domain.vf_ports().size(), 3u);
  EXPECT_EQ(domain.vf_ports()[0].kind, PortKind::hostdev);
  EXPECT_EQ(domain.vf_ports()[2].ordinal, 2u);
  EXPECT_EQ(domain.vf_ports()[2].host, pci("0000:01:10.4"));
}

TEST(DomainXml, ManagedHostdevIsManaged) {
  std::string devices(testing::kHostdevs);
  devices.replace(devices.find("type='pci' managed='no'"), 23, "type='pci' managed='yes'");
  EXPECT_TRUE(parse_ok(domain_with(devices)).vf_ports()[0].managed);
}

TEST(DomainXml, OrdinaryDomainHasNoVfPorts) {
  DomainXml domain = parse_ok(domain_with(testing::kNoVfPorts));
  EXPECT_TRUE(domain.vf_ports().empty());
  auto records = domain.port_records();
  ASSERT_TRUE(records);
  EXPECT_TRUE(records->empty());
}

TEST(DomainXml, UnresolvedNetworkInterfaceWithoutRecordIsNotAPort) {
  // It may be a plain bridge network: nothing says it is a VF.
  EXPECT_TRUE(parse_ok(domain_with(testing::kUnresolvedNetwork)).vf_ports().empty());
}

TEST(DomainXml, UnresolvedNetworkInterfaceNamedByRecordMacIsAPortWithoutHost) {
  DomainXml domain = parse_ok(domain_with(
      testing::kUnresolvedNetwork,
      ports_metadata("<vfhook:port mac='52:54:00:aa:00:03' pool='provider' vlan='300'/>")));
  ASSERT_EQ(domain.vf_ports().size(), 1u);
  const VfPort& port = domain.vf_ports()[0];
  EXPECT_EQ(port.kind, PortKind::interface_network);
  EXPECT_EQ(port.network, "sriov-pool");
  EXPECT_FALSE(port.host);
  EXPECT_EQ(port.mac, mac("52:54:00:aa:00:03"));
  EXPECT_EQ(port.guest_address, pci("0000:02:00.0"));
  EXPECT_EQ(port.describe(), "interface 52:54:00:aa:00:03 (network sriov-pool)");
}

TEST(DomainXml, UnresolvedNetworkInterfaceNamedByRecordAliasIsAPort) {
  DomainXml domain =
      parse_ok(domain_with(testing::kUnresolvedNetwork,
                           ports_metadata("<vfhook:port alias='ua-net-vf' pool='provider'/>")));
  ASSERT_EQ(domain.vf_ports().size(), 1u);
  EXPECT_EQ(domain.vf_ports()[0].alias, "ua-net-vf");
}

TEST(DomainXml, RecordForAnotherMacDoesNotMakeANetworkInterfaceAPort) {
  DomainXml domain = parse_ok(
      domain_with(testing::kUnresolvedNetwork,
                  ports_metadata("<vfhook:port mac='52:54:00:aa:00:99' pool='provider'/>")));
  EXPECT_TRUE(domain.vf_ports().empty());
}

TEST(DomainXml, ResolvedNetworkInterfaceTakesHostManagedAndVlanFromActual) {
  DomainXml domain = parse_ok(domain_with(testing::kResolvedNetwork));
  ASSERT_EQ(domain.vf_ports().size(), 1u);
  const VfPort& port = domain.vf_ports()[0];
  EXPECT_EQ(port.kind, PortKind::interface_network);
  EXPECT_EQ(port.network, "sriov-pool");
  EXPECT_EQ(port.host, pci("0000:01:10.6"));
  EXPECT_TRUE(port.managed);
  EXPECT_EQ(port.vlan_tag, 300);
  EXPECT_EQ(port.alias, "hostdev0");
  EXPECT_EQ(port.guest_address, pci("0000:02:00.0"));
}

TEST(DomainXml, NetworkInterfaceShownAsHostdevIsAnInterfacePort) {
  // The other live form: libvirt shows the network-chosen VF as type='hostdev' directly.
  std::string devices = R"(
    <interface type='hostdev' managed='yes'>
      <mac address='52:54:00:aa:00:03'/>
      <source>
        <address type='pci' domain='0x0000' bus='0x01' slot='0x10' function='0x6'/>
      </source>
      <alias name='hostdev0'/>
      <address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>
    </interface>)";
  DomainXml domain = parse_ok(domain_with(devices));
  ASSERT_EQ(domain.vf_ports().size(), 1u);
  EXPECT_EQ(domain.vf_ports()[0].kind, PortKind::interface_hostdev);
  EXPECT_EQ(domain.vf_ports()[0].host, pci("0000:01:10.6"));
}

TEST(DomainXml, NetworkResolvedToABridgeIsNotAPortUnlessARecordClaimsIt) {
  std::string devices(testing::kResolvedNetwork);
  devices.replace(devices.find("<actual type='hostdev' managed='yes'>"), 37,
                  "<actual type='bridge'>");
  EXPECT_TRUE(parse_ok(domain_with(devices)).vf_ports().empty());
  auto claimed = DomainXml::parse(domain_with(
      devices, ports_metadata("<vfhook:port mac='52:54:00:aa:00:03' pool='provider'/>")));
  ASSERT_FALSE(claimed);
  EXPECT_NE(claimed.error().message.find("'bridge' device, not a VF"), std::string::npos)
      << claimed.error().message;
}

TEST(DomainXml, SetHostSourceChangesOnlyTheSourceAddress) {
  DomainXml domain = parse_ok(domain_with(testing::kTwoInterfacePorts));
  const std::string before = domain.serialize();
  ASSERT_TRUE(domain.set_host_source(1, pci("0000:81:02.7")));
  const std::string after = domain.serialize();

  // Byte for byte, the only change is the second port's host address: MAC, alias, guest
  // address, VLAN and every other device stay as they were (libvirt's ABI check).
  const std::string old_source =
      R"(<address type="pci" domain="0x0000" bus="0x01" slot="0x10" function="0x4"/>)";
  const std::string new_source =
      R"(<address type="pci" domain="0x0000" bus="0x81" slot="0x02" function="0x7"/>)";
  std::string expected = before;
  size_t at = expected.find(old_source);
  ASSERT_NE(at, std::string::npos) << before;
  ASSERT_EQ(expected.find(old_source, at + 1), std::string::npos);
  expected.replace(at, old_source.size(), new_source);
  EXPECT_EQ(after, expected);

  EXPECT_EQ(domain.vf_ports()[1].host, pci("0000:81:02.7"));
  DomainXml again = parse_ok(after);
  ASSERT_EQ(again.vf_ports().size(), 2u);
  EXPECT_EQ(again.vf_ports()[1].host, pci("0000:81:02.7"));
  EXPECT_EQ(again.vf_ports()[1].mac, mac("52:54:00:aa:00:02"));
  EXPECT_EQ(again.vf_ports()[1].alias, "ua-sriov-b");
  EXPECT_EQ(again.vf_ports()[1].guest_address, pci("0000:03:00.0"));
  EXPECT_EQ(again.vf_ports()[0].host, pci("0000:01:10.2"));
}

TEST(DomainXml, SetHostSourceOnAResolvedNetworkPortRewritesActual) {
  DomainXml domain = parse_ok(domain_with(testing::kResolvedNetwork));
  ASSERT_TRUE(domain.set_host_source(0, pci("0000:02:00.1")));
  DomainXml again = parse_ok(domain.serialize());
  EXPECT_EQ(again.vf_ports()[0].host, pci("0000:02:00.1"));
  EXPECT_EQ(again.vf_ports()[0].guest_address, pci("0000:02:00.0"));
}

TEST(DomainXml, SetHostSourceRefusesUnresolvedPortAndBadOrdinal) {
  DomainXml domain = parse_ok(
      domain_with(testing::kUnresolvedNetwork,
                  ports_metadata("<vfhook:port mac='52:54:00:aa:00:03' pool='provider'/>")));
  const std::string before = domain.serialize();
  auto unresolved = domain.set_host_source(0, pci("0000:01:10.1"));
  ASSERT_FALSE(unresolved);
  EXPECT_EQ(unresolved.error().kind, ErrorKind::not_found);
  EXPECT_NE(unresolved.error().message.find("52:54:00:aa:00:03"), std::string::npos);
  EXPECT_FALSE(domain.set_host_source(1, pci("0000:01:10.1")));
  EXPECT_EQ(domain.serialize(), before);
}

TEST(DomainXml, SerializeHasNoDeclarationAndReparses) {
  DomainXml domain = parse_ok(domain_with(testing::kTwoInterfacePorts));
  std::string text = domain.serialize();
  EXPECT_EQ(text.rfind("<domain", 0), 0u) << text.substr(0, 80);
  EXPECT_EQ(parse_ok(text).vf_ports().size(), 2u);
}

TEST(DomainXml, SerializeKeepsUtf8AsIs) {
  DomainXml domain = parse_ok(domain_with(testing::kTwoInterfacePorts, "", "vm-caf\u00e9"));
  EXPECT_EQ(domain.name(), "vm-caf\u00e9");
  EXPECT_NE(domain.serialize().find("<name>vm-caf\u00e9</name>"), std::string::npos);
}

TEST(DomainXml, SurvivesAMove) {
  DomainXml first = parse_ok(domain_with(testing::kTwoInterfacePorts));
  DomainXml second = std::move(first);
  EXPECT_EQ(second.vf_ports().size(), 2u);
  EXPECT_EQ(second.name(), "vm-sriov-1");
}

TEST(FindRecord, PrefersAliasThenMacForInterfacesAndHostForHostdevs) {
  PortRecord by_alias;
  by_alias.alias = "ua-sriov-b";
  PortRecord by_mac;
  by_mac.mac = mac("52:54:00:aa:00:02");
  PortRecord by_host;
  by_host.host = pci("0000:01:10.4");
  VfPort iface;
  iface.kind = PortKind::interface_hostdev;
  iface.host = pci("0000:01:10.4");
  iface.mac = mac("52:54:00:aa:00:02");
  iface.alias = "ua-sriov-b";
  std::vector<PortRecord> all{by_host, by_mac, by_alias};
  EXPECT_EQ(find_record(all, iface), &all[2]);
  iface.alias = "hostdev1";
  EXPECT_EQ(find_record(all, iface), &all[1]);
  iface.mac = mac("52:54:00:aa:00:09");
  EXPECT_EQ(find_record(all, iface), nullptr);  // host matching is for <hostdev> only

  VfPort hostdev;
  hostdev.kind = PortKind::hostdev;
  hostdev.host = pci("0000:01:10.4");
  hostdev.alias = "hostdev3";
  EXPECT_EQ(find_record(all, hostdev), &all[0]);
  hostdev.mac = mac("52:54:00:aa:00:02");  // a hostdev's MAC is not how records find it
  std::vector<PortRecord> mac_only{by_mac};
  EXPECT_EQ(find_record(mac_only, hostdev), nullptr);
}

TEST(PortKind, NamesAndDescriptions) {
  EXPECT_EQ(to_string(PortKind::interface_hostdev), "interface type='hostdev'");
  EXPECT_EQ(to_string(PortKind::interface_network), "interface type='network'");
  EXPECT_EQ(to_string(PortKind::hostdev), "hostdev");
  VfPort port;
  port.ordinal = 4;
  EXPECT_EQ(port.describe(), "interface #4");
  port.alias = "ua-x";
  EXPECT_EQ(port.describe(), "interface ua-x");
  port.mac = mac("52:54:00:aa:00:01");
  EXPECT_EQ(port.describe(), "interface 52:54:00:aa:00:01");
  port.kind = PortKind::hostdev;
  EXPECT_EQ(port.describe(), "hostdev ua-x");
}

}  // namespace
}  // namespace vfhook
