#include <gtest/gtest.h>

#include <functional>

#include "testing/addresses.h"
#include "tests/xml/fixtures.h"
#include "xml/domain_xml.h"
#include "xml/port_record_xml.h"

namespace vfhook {
namespace {

using testing::mac;
using testing::pci;

using testing::domain_with;
using testing::ports_metadata;

PortRecord with_mac(std::string_view text, std::string pool = "p") {
  PortRecord record;
  record.mac = mac(text);
  record.pool = std::move(pool);
  return record;
}

Result<std::vector<PortRecord>> records_of(std::string_view ports) {
  auto domain = DomainXml::parse(domain_with(testing::kTwoInterfacePorts, ports_metadata(ports)));
  if (!domain) return fail(domain.error());
  return domain->port_records();
}

// Expects the records to be refused and returns the message.
std::string refused(std::string_view ports) {
  auto records = records_of(ports);
  EXPECT_FALSE(records) << "accepted: " << ports;
  if (records) return "";
  EXPECT_EQ(records.error().kind, ErrorKind::invalid_input);
  return records.error().message;
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(PortRecords, ReadsEveryAttribute) {
  auto records = records_of(R"(
      <vfhook:port mac="52:54:00:aa:00:01" pool="provider" vlan="120" qos="3"
                   protocol="802.1ad" spoofchk="off" trust="on" link="disable"
                   min-tx-rate="10" max-tx-rate="100" ip="192.0.2.10"/>
      <vfhook:port alias="ua-sriov-b" host="0000:01:10.4" pool="storage.net" ip="2001:db8::7"/>)");
  ASSERT_TRUE(records) << records.error().message;
  ASSERT_EQ(records->size(), 2u);
  const PortRecord& a = (*records)[0];
  EXPECT_EQ(a.mac, mac("52:54:00:aa:00:01"));
  EXPECT_EQ(a.pool, "provider");
  EXPECT_EQ(a.vlan, (Vlan{120, 3, VlanProtocol::dot1ad}));
  EXPECT_EQ(a.spoofchk, false);
  EXPECT_EQ(a.trust, true);
  EXPECT_EQ(a.link_state, LinkState::disable);
  EXPECT_EQ(a.rates, (VfSettings::Rates{10, 100}));
  EXPECT_EQ(a.ip, "192.0.2.10");
  EXPECT_FALSE(a.alias);
  const PortRecord& b = (*records)[1];
  EXPECT_EQ(b.alias, "ua-sriov-b");
  EXPECT_EQ(b.host, pci("0000:01:10.4"));
  EXPECT_FALSE(b.vlan);
  EXPECT_FALSE(b.spoofchk);
  EXPECT_FALSE(b.rates);
  EXPECT_EQ(b.ip, "2001:db8::7");
}

TEST(PortRecords, VlanZeroMeansUntaggedAndMaxRateAloneLeavesMinZero) {
  auto records = records_of(R"(<vfhook:port mac="52:54:00:aa:00:01" pool="p" vlan="0"
                                            max-tx-rate="500"/>)");
  ASSERT_TRUE(records) << records.error().message;
  EXPECT_FALSE((*records)[0].vlan);
  EXPECT_EQ((*records)[0].rates, (VfSettings::Rates{0, 500}));
}

TEST(PortRecords, MatchesTheNamespaceByUriNotPrefix) {
  std::string metadata = R"(<metadata>
    <other:ports xmlns:other="urn:vfhook:ports:1"><other:port mac="52:54:00:aa:00:01" pool="p"/></other:ports>
    <vfhook:ports xmlns:vfhook="urn:someone-else"><vfhook:port bogus="1"/></vfhook:ports>
    <app:info xmlns:app="http://example.org/app"><app:owner>ops</app:owner></app:info>
  </metadata>)";
  auto domain = DomainXml::parse(domain_with(testing::kTwoInterfacePorts, metadata));
  ASSERT_TRUE(domain) << domain.error().message;
  auto records = domain->port_records();
  ASSERT_TRUE(records) << records.error().message;
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].mac, mac("52:54:00:aa:00:01"));
}

TEST(PortRecords, RoundTripThroughSetAndSerialize) {
  PortRecord full;
  full.alias = "ua-sriov-b";
  full.mac = mac("52:54:00:aa:00:02");
  full.host = pci("0000:01:10.4");
  full.pool = "provider";
  full.vlan = Vlan{4094, 7, VlanProtocol::dot1ad};
  full.spoofchk = true;
  full.trust = false;
  full.link_state = LinkState::automatic;
  full.rates = VfSettings::Rates{0, 0};
  full.ip = "fe80::1";
  PortRecord tagged = with_mac("52:54:00:aa:00:01");
  tagged.vlan = Vlan{1, 0, VlanProtocol::dot1q};
  PortRecord whole_nic;
  whole_nic.host = pci("0000:01:11.6");
  whole_nic.pool = "whole-nic";
  std::vector<PortRecord> records{full, tagged, whole_nic};
  std::string metadata = R"(<metadata><app:info xmlns:app="http://example.org/app"/></metadata>)";
  for (const std::string& start :
       {domain_with(testing::kTwoInterfacePorts),
        domain_with(testing::kTwoInterfacePorts, metadata),
        domain_with(testing::kTwoInterfacePorts,
                    ports_metadata(R"(<vfhook:port alias="old" pool="x"/>)"))}) {
    auto domain = DomainXml::parse(start);
    ASSERT_TRUE(domain) << domain.error().message;
    ASSERT_TRUE(domain->set_port_records(records));
    EXPECT_EQ(domain->port_records(), records);
    std::string text = domain->serialize();
    auto again = DomainXml::parse(text);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->port_records(), records);
    EXPECT_EQ(again->vf_ports().size(), 2u);
    EXPECT_TRUE(contains(text, R"(xmlns:vfhook="urn:vfhook:ports:1")")) << text;
    EXPECT_FALSE(contains(text, R"(alias="old")"));
    if (contains(start, "app:info")) {
      EXPECT_TRUE(contains(text, "app:info"));
    }
  }
}

TEST(PortRecords, CreatedMetadataSitsAfterUuid) {
  auto domain = DomainXml::parse(domain_with(""));
  ASSERT_TRUE(domain);
  ASSERT_TRUE(domain->set_port_records({with_mac("52:54:00:aa:00:01")}));
  std::string text = domain->serialize();
  size_t uuid = text.find("</uuid>");
  size_t metadata = text.find("<metadata>");
  ASSERT_NE(metadata, std::string::npos);
  EXPECT_LT(uuid, metadata);
  EXPECT_LT(metadata, text.find("<memory"));
  EXPECT_TRUE(contains(text, R"(<vfhook:port mac="52:54:00:aa:00:01" pool="p"/>)")) << text;
}

TEST(PortRecords, EmptyListRemovesVfhooksElement) {
  auto domain = DomainXml::parse(
      domain_with("", ports_metadata(R"(<vfhook:port mac="52:54:00:aa:00:01" pool="p"/>)")));
  ASSERT_TRUE(domain);
  ASSERT_TRUE(domain->set_port_records({}));
  EXPECT_FALSE(contains(domain->serialize(), "urn:vfhook"));
  EXPECT_TRUE(domain->port_records()->empty());
}

TEST(PortRecords, SetRefusesInvalidRecordsAndChangesNothing) {
  auto domain = DomainXml::parse(
      domain_with("", ports_metadata(R"(<vfhook:port mac="52:54:00:aa:00:01" pool="p"/>)")));
  ASSERT_TRUE(domain);
  const std::string before = domain->serialize();
  // Each breaks one rule of a valid record.
  std::vector<std::function<void(PortRecord&)>> breakers{
      [](PortRecord& r) { r.mac.reset(); },  // names no device
      [](PortRecord& r) { r.alias = "../x"; },
      [](PortRecord& r) { r.mac = mac("01:00:5e:00:00:01"); },
      [](PortRecord& r) { r.pool = "../../etc"; },
      [](PortRecord& r) {
        r.vlan = Vlan{0, 3, VlanProtocol::dot1q};
      },
      [](PortRecord& r) {
        r.vlan = Vlan{4095, 0, VlanProtocol::dot1q};
      },
      [](PortRecord& r) {
        r.vlan = Vlan{5, 8, VlanProtocol::dot1q};
      },
      [](PortRecord& r) {
        r.rates = VfSettings::Rates{20, 10};
      },
      [](PortRecord& r) { r.ip = "10.0.0.1/24"; },
  };
  std::vector<std::vector<PortRecord>> bad;
  for (const auto& breaker : breakers) {
    PortRecord record = with_mac("52:54:00:aa:00:01");
    breaker(record);
    bad.push_back({record});
  }
  bad.push_back({with_mac("52:54:00:aa:00:01"), with_mac("52:54:00:aa:00:01", "q")});
  for (const auto& records : bad) {
    auto status = domain->set_port_records(records);
    EXPECT_FALSE(status);
    if (!status) {
      EXPECT_EQ(status.error().kind, ErrorKind::invalid_input);
    }
    EXPECT_EQ(domain->serialize(), before);
  }
}

TEST(PortRecords, RefusesHostileValuesNamingRecordAndAttribute) {
  struct Case {
    std::string attrs;
    std::string expect;
  };
  std::vector<Case> cases{
      {R"(vlan="4095")", "vlan='4095'"},
      {R"(vlan="-1")", "vlan='-1'"},
      {R"(vlan="abc")", "vlan='abc'"},
      {R"(vlan="")", "vlan=''"},
      {R"(vlan=" 12")", "vlan=' 12'"},
      {R"(vlan="12" qos="8")", "qos='8'"},
      {R"(qos="3")", "qos and protocol need a vlan"},
      {R"(vlan="12" protocol="802.1x")", "protocol='802.1x'"},
      {R"(spoofchk="yes")", "spoofchk='yes'"},
      {R"(trust="1")", "trust='1'"},
      {R"(link="up")", "link='up'"},
      {R"(min-tx-rate="-5")", "min-tx-rate='-5'"},
      {R"(max-tx-rate="4294967296")", "max-tx-rate='4294967296'"},
      {R"(min-tx-rate="200" max-tx-rate="100")", "above max-tx-rate"},
      {R"(ip="999.1.1.1")", "ip='999.1.1.1'"},
      {R"(ip="fe80::1%eth0")", "ip='fe80::1%eth0'"},
      {R"(ip="10.0.0.1/24")", "ip='10.0.0.1/24'"},
      {R"(host="0000:01:10.8")", "host='0000:01:10.8'"},
      {R"(host="../../../sys")", "host='../../../sys'"},
      {R"(vlna="12")", "unknown attribute 'vlna'"},
  };
  for (const Case& c : cases) {
    std::string message = refused(R"(<vfhook:port mac="52:54:00:aa:00:01" pool="p"/>
      <vfhook:port alias="ua-b" pool="p" )" +
                                  c.attrs + "/>");
    EXPECT_TRUE(contains(message, "vfhook port record #2 (alias ua-b)")) << message;
    EXPECT_TRUE(contains(message, c.expect)) << c.attrs << " -> " << message;
  }
}

TEST(PortRecords, RefusesBadIdentityAndPool) {
  EXPECT_TRUE(contains(refused(R"(<vfhook:port mac="01:00:5e:00:00:01" pool="p"/>)"), "multicast"));
  EXPECT_TRUE(
      contains(refused(R"(<vfhook:port alias="../../etc" pool="p"/>)"), "alias='../../etc'"));
  EXPECT_TRUE(contains(refused(R"(<vfhook:port mac="52:54:00:aa:00:01" pool="../../etc"/>)"),
                       "pool='../../etc'"));
  EXPECT_TRUE(contains(refused(R"(<vfhook:port mac="52:54:00:aa:00:01" pool=".."/>)"), "pool"));
  EXPECT_TRUE(contains(refused(R"(<vfhook:port mac="52:54:00:aa:00:01"/>)"), "pool is required"));
  EXPECT_TRUE(contains(refused(R"(<vfhook:port pool="p" vlan="10"/>)"), "at least one of"));
  EXPECT_TRUE(contains(refused(R"(<vfhook:port mac="52:54:00:aa:00:01" pool="p"/>
                                  <vfhook:port mac="52:54:00:AA:00:01" pool="q"/>)"),
                       "same mac"));
}

TEST(PortRecords, RefusesUnknownStructure) {
  EXPECT_TRUE(contains(refused(R"(<vfhook:prot mac="52:54:00:aa:00:01" pool="p"/>)"),
                       "unknown element <prot>"));
  EXPECT_TRUE(
      contains(refused(R"(<port mac="52:54:00:aa:00:01" pool="p"/>)"), "unknown element <port>"));
  EXPECT_TRUE(contains(
      refused(R"(<vfhook:port xmlns:x="urn:x" x:vlan="5" mac="52:54:00:aa:00:01" pool="p"/>)"),
      "namespace"));
  std::string doubled = R"(<metadata>
    <vfhook:ports xmlns:vfhook="urn:vfhook:ports:1"/>
    <v:ports xmlns:v="urn:vfhook:ports:1"/>
  </metadata>)";
  auto twice = DomainXml::parse(domain_with("", doubled));
  ASSERT_TRUE(twice);
  auto records = twice->port_records();
  ASSERT_FALSE(records);
  EXPECT_TRUE(contains(records.error().message, "2 vfhook elements")) << records.error().message;
}

TEST(PortRecords, ABrokenRecordStillMarksItsNetworkInterfaceAsAPort) {
  // Which devices are VF ports must not depend on the rest of the record being valid; the
  // hook learns about the bad attribute from port_records().
  auto domain = DomainXml::parse(domain_with(
      testing::kUnresolvedNetwork,
      ports_metadata(R"(<vfhook:port mac="52:54:00:aa:00:03" pool="p" vlan="4095"/>)")));
  ASSERT_TRUE(domain) << domain.error().message;
  EXPECT_EQ(domain->vf_ports().size(), 1u);
  EXPECT_FALSE(domain->port_records());
}

TEST(PortRecords, RefusesARecordThatDescribesTwoDevices) {
  // hostdev0 is the interface with MAC :01; the record also names :02 by MAC.
  std::string message =
      refused(R"(<vfhook:port alias="hostdev0" mac="52:54:00:aa:00:02" pool="p"/>)");
  EXPECT_NE(message.find("vfhook port record #1 (alias hostdev0) describes two devices, "
                         "interface 52:54:00:aa:00:01 and interface 52:54:00:aa:00:02"),
            std::string::npos)
      << message;
}

TEST(PortRecords, RefusesADeviceDescribedByTwoRecords) {
  std::string message = refused(R"(<vfhook:port alias="hostdev0" pool="p"/>)"
                                R"(<vfhook:port mac="52:54:00:aa:00:01" pool="p"/>)");
  EXPECT_NE(message.find("interface 52:54:00:aa:00:01 is described by two vfhook port records, "
                         "vfhook port record #1 (alias hostdev0) and vfhook port record #2 "
                         "(mac 52:54:00:aa:00:01)"),
            std::string::npos)
      << message;
  // One record per device, by different keys, is fine.
  EXPECT_TRUE(records_of(R"(<vfhook:port alias="hostdev0" pool="p"/>)"
                         R"(<vfhook:port mac="52:54:00:aa:00:02" pool="p"/>)"));
}

TEST(PortRecords, ValidateAcceptsAMinimalRecord) {
  PortRecord by_host;
  by_host.host = pci("0000:01:10.1");
  by_host.pool = "p";
  EXPECT_TRUE(validate_port_record(by_host));
  PortRecord uncapped = with_mac("52:54:00:aa:00:01");
  uncapped.rates = VfSettings::Rates{50, 0};  // max 0: no cap, any min
  EXPECT_TRUE(validate_port_record(uncapped));
}

}  // namespace
}  // namespace vfhook
