// Domain XML from an attacker: entity tricks, oversized input, hostile attribute values.
// Every case must fail with ErrorKind::invalid_input and a message that says why.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "tests/xml/fixtures.h"
#include "xml/domain_xml.h"

namespace vfhook {
namespace {

using testing::domain_with;

// Parses, expects refusal, and returns the message.
std::string refused(const std::string& text) {
  auto domain = DomainXml::parse(text);
  EXPECT_FALSE(domain) << "accepted: " << text.substr(0, 200);
  if (domain) return "";
  EXPECT_EQ(domain.error().kind, ErrorKind::invalid_input) << domain.error().message;
  return domain.error().message;
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(HostileXml, RefusesADoctype) {
  std::string xml = "<!DOCTYPE domain>\n" + domain_with("");
  EXPECT_EQ(refused(xml), "domain XML refused: it declares a DOCTYPE; libvirt never sends one");
  EXPECT_TRUE(contains(refused("<!doctype domain>" + domain_with("")), "DOCTYPE"));
}

TEST(HostileXml, ExternalEntityIsNeverRead) {
  char path[] = "/tmp/vfhook-xxe-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string secret = "SECRET-7f3a9c";
  ASSERT_EQ(write(fd, secret.data(), secret.size()), static_cast<ssize_t>(secret.size()));
  close(fd);
  for (std::string target : {std::string("file://") + path, std::string("/etc/passwd")}) {
    std::string xml = "<?xml version='1.0'?>\n<!DOCTYPE domain [<!ENTITY x SYSTEM '" + target +
                      "'>]>\n" + domain_with("", "", "&x;");
    std::string message = refused(xml);
    EXPECT_TRUE(contains(message, "DOCTYPE")) << message;
    EXPECT_FALSE(contains(message, secret));
    EXPECT_FALSE(contains(message, "root:"));
  }
  // An entity reference without any declaration is simply not well-formed.
  std::string message = refused(domain_with("", "", "&x;"));
  EXPECT_TRUE(contains(message, "not well-formed")) << message;
  std::remove(path);
}

TEST(HostileXml, RefusesAnEntityDeclarationEvenOutsideADoctype) {
  EXPECT_TRUE(contains(refused(domain_with("<!ENTITY a 'b'>")), "ENTITY"));
}

TEST(HostileXml, BillionLaughsNeverExpands) {
  std::string xml = "<?xml version='1.0'?>\n<!DOCTYPE domain [\n <!ENTITY lol 'lol'>\n";
  std::string previous = "lol";
  for (int i = 1; i <= 9; ++i) {
    std::string name = "lol" + std::to_string(i);
    xml += " <!ENTITY " + name + " '";
    for (int j = 0; j < 10; ++j) xml += "&" + previous + ";";
    xml += "'>\n";
    previous = name;
  }
  xml += "]>\n" + domain_with("", "", "&lol9;");
  EXPECT_TRUE(contains(refused(xml), "DOCTYPE"));
}

TEST(HostileXml, CapsTheInputSize) {
  std::string base = domain_with(testing::kTwoInterfacePorts);
  std::string exact = base + std::string(kMaxDomainXmlBytes - base.size(), ' ');
  ASSERT_EQ(exact.size(), kMaxDomainXmlBytes);
  auto at_limit = DomainXml::parse(exact);
  ASSERT_TRUE(at_limit) << at_limit.error().message;
  EXPECT_EQ(at_limit->vf_ports().size(), 2u);
  EXPECT_TRUE(contains(refused(exact + " "), "more than the limit"));
}

TEST(HostileXml, RefusesEmptyTruncatedAndGarbageInput) {
  EXPECT_TRUE(contains(refused(""), "empty"));
  std::string whole = domain_with(testing::kTwoInterfacePorts);
  EXPECT_TRUE(contains(refused(whole.substr(0, whole.size() / 2)), "not well-formed"));
  EXPECT_TRUE(contains(refused("not xml at all"), "not well-formed"));
  std::string with_nul = whole;
  with_nul[with_nul.find("<devices>") + 3] = '\0';
  refused(with_nul);
}

TEST(HostileXml, RefusesAnythingButUtf8) {
  const std::string xml = domain_with(testing::kTwoInterfacePorts);
  std::string utf16 = "\xff\xfe";
  for (char ch : xml) utf16 += std::string{ch, '\0'};
  EXPECT_TRUE(contains(refused(utf16), "not UTF-8")) << refused(utf16);
  for (const char* encoding : {"UTF-16", "ISO-8859-1", "UTF-7", "EBCDIC-US"}) {
    std::string declared = "<?xml version='1.0' encoding='" + std::string(encoding) + "'?>\n" + xml;
    EXPECT_TRUE(contains(refused(declared), "not UTF-8")) << encoding;
  }
  for (const char* fine : {"\xef\xbb\xbf", "<?xml version='1.0' encoding='UTF-8'?>\n",
                           "<?xml version='1.0'?>\n", "\n  "}) {
    auto parsed = DomainXml::parse(fine + xml);
    ASSERT_TRUE(parsed) << fine << ": " << parsed.error().message;
    EXPECT_EQ(parsed->vf_ports().size(), 2u);
  }
}

TEST(HostileXml, ParseErrorsPrintNothingToStderr) {
  ::testing::internal::CaptureStderr();
  refused("<domain><name>x</name><devices></domain>");
  refused("<domain><name>&undefined;</name></domain>");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST(HostileXml, RefusesAnyRootButDomain) {
  EXPECT_TRUE(contains(refused("<network><name>default</name></network>"),
                       "root element is <network>, not <domain>"));
  refused("<x:domain xmlns:x='urn:evil'><name>vm</name></x:domain>");
}

TEST(HostileXml, RefusesBadNamesAndUuids) {
  EXPECT_TRUE(contains(refused("<domain type='kvm'><uuid>c7a5fdbd-cdaf-9455-926a-d65c16db1809"
                               "</uuid></domain>"),
                       "no <name>"));
  refused(domain_with("", "", ""));
  refused(domain_with("", "", "../../etc/passwd"));
  std::string message = refused(domain_with("", "", "vm&#10;forged log line"));
  EXPECT_FALSE(contains(message, "\n")) << message;
  std::string xml = domain_with("");
  xml.replace(xml.find("c7a5fdbd"), 8, "c7a5fdbZ");
  EXPECT_TRUE(contains(refused(xml), "uuid"));
}

TEST(HostileXml, RefusesBadNumaNodesets) {
  for (std::string nodeset : {"", "1-0", "1024", "-1", "0,,1", "abc", "0-", " 0", "^0"}) {
    std::string xml = domain_with("");
    xml.replace(xml.find("  <memory unit"), 0,
                "  <numatune><memory mode='strict' nodeset='" + nodeset + "'/></numatune>\n");
    EXPECT_TRUE(contains(refused(xml), "nodeset")) << nodeset;
  }
}

std::string hostdev_interface(std::string_view source_attrs, std::string_view extra = "",
                              std::string_view mac = "52:54:00:aa:00:01") {
  return "<interface type='hostdev' managed='yes'><mac address='" + std::string(mac) +
         "'/><source><address type='pci' " + std::string(source_attrs) + "/></source>" +
         std::string(extra) + "</interface>";
}

TEST(HostileXml, RefusesBadPciAddressesAndNamesTheDevice) {
  for (std::string attrs : {"domain='0x0000' bus='0x../' slot='0x10' function='0x2'",
                            "domain='0x0000' bus='0x01' slot='0x20' function='0x2'",
                            "domain='0x0000' bus='0x01' slot='0x10' function='0x8'",
                            "domain='0x0000' bus='1' slot='0x10' function='0x2'",
                            "domain='0x0000' slot='0x10' function='0x2'",
                            "domain='0x0000' bus='0x01' slot='-0x1' function='0x2'"}) {
    std::string message = refused(domain_with(hostdev_interface(attrs)));
    EXPECT_TRUE(contains(message, "interface #1 (mac 52:54:00:aa:00:01)")) << message;
  }
  std::string hostdev =
      "<hostdev mode='subsystem' type='pci'><source><address domain='0x0000' bus='0x01' "
      "slot='0x20' function='0x0'/></source></hostdev>";
  EXPECT_TRUE(contains(refused(domain_with(hostdev)), "hostdev #1"))
      << refused(domain_with(hostdev));
  std::string guest = hostdev_interface(
      "domain='0x0000' bus='0x01' slot='0x10' function='0x2'",
      "<address type='pci' domain='0x0000' bus='0x02' slot='0x40' function='0x0'/>");
  refused(domain_with(guest));
  // A hostdev interface with no source address names no VF at all.
  EXPECT_TRUE(contains(refused(domain_with("<interface type='hostdev'><mac address="
                                           "'52:54:00:aa:00:01'/></interface>")),
                       "<source><address>"));
}

TEST(HostileXml, RefusesPathTraversalAndControlCharactersInAliases) {
  for (std::string alias : {std::string("../../etc"), std::string("ua-a/b"),
                            std::string("ua-x&#10;y"), "ua-" + std::string(70, 'a')}) {
    std::string message = refused(domain_with(hostdev_interface(
        "domain='0x0000' bus='0x01' slot='0x10' function='0x2'", "<alias name='" + alias + "'/>")));
    EXPECT_TRUE(contains(message, "alias")) << message;
    EXPECT_FALSE(contains(message, "\n"));
  }
}

TEST(HostileXml, RefusesBadVlanTagsAndTrunks) {
  const char* source = "domain='0x0000' bus='0x01' slot='0x10' function='0x2'";
  for (std::string id : {"4095", "-1", "abc", "", "99999", "0x10"}) {
    std::string message =
        refused(domain_with(hostdev_interface(source, "<vlan><tag id='" + id + "'/></vlan>")));
    EXPECT_TRUE(contains(message, "VLAN tag id")) << message;
  }
  EXPECT_TRUE(contains(
      refused(domain_with(hostdev_interface(source, "<vlan trunk='yes'><tag id='10'/></vlan>"))),
      "trunk"));
  EXPECT_TRUE(contains(
      refused(domain_with(hostdev_interface(source, "<vlan><tag id='10'/><tag id='20'/></vlan>"))),
      "trunk"));
  EXPECT_TRUE(contains(refused(domain_with(hostdev_interface(
                           source, "<vlan><tag id='10' nativeMode='untagged'/></vlan>"))),
                       "nativeMode"));
}

TEST(HostileXml, RefusesMulticastAndMalformedMacs) {
  const char* source = "domain='0x0000' bus='0x01' slot='0x10' function='0x2'";
  EXPECT_TRUE(contains(refused(domain_with(hostdev_interface(source, "", "01:00:5e:00:00:01"))),
                       "multicast"));
  refused(domain_with(hostdev_interface(source, "", "52:54:00:aa:00")));
  refused(domain_with(hostdev_interface(source, "", "00:00:00:00:00:00")));
}

TEST(HostileXml, RefusesUnknownManagedValues) {
  std::string xml =
      domain_with(hostdev_interface("domain='0x0000' bus='0x01' slot='0x10' function='0x2'"));
  xml.replace(xml.find("managed='yes'"), 13, "managed='maybe'");
  EXPECT_TRUE(contains(refused(xml), "managed='maybe'"));
}

TEST(HostileXml, RefusesAHostileNetworkName) {
  std::string devices(testing::kResolvedNetwork);
  devices.replace(devices.find("sriov-pool"), 10, "a/../b");
  EXPECT_TRUE(contains(refused(domain_with(devices)), "network name"));
}

// ---- work bounded before libxml2 runs ---------------------------------------------------------

// `count` attributes a0='' a1='' ... (unique names), each with a leading space.
std::string attributes(size_t count, const std::string& prefix = "a") {
  std::string text;
  for (size_t i = 0; i < count; ++i) text += " " + prefix + std::to_string(i) + "=''";
  return text;
}

TEST(HostileXml, RefusesMoreAttributesOnOneElementThanAnyDomainHas) {
  EXPECT_TRUE(DomainXml::parse(domain_with("<shmem" + attributes(256) + "/>")));
  std::string message = refused(domain_with("<shmem" + attributes(257) + "/>"));
  EXPECT_TRUE(contains(message, "more than 256 attributes")) << message;
  // Counted whatever the white space and quotes.
  std::string tabs;
  for (int i = 0; i < 257; ++i) tabs += "\ta" + std::to_string(i) + "\t=\t\"\"";
  EXPECT_TRUE(contains(refused(domain_with("<shmem" + tabs + "/>")), "more than 256 attributes"));
}

TEST(HostileXml, RefusesMoreAttributesInAllThanAnyDomainHas) {
  std::string many;
  for (int i = 0; i < 499; ++i) many += "<shmem" + attributes(200) + "/>";  // 99,800
  EXPECT_TRUE(DomainXml::parse(domain_with(many))) << "the fixture's own stay under 200";
  std::string message = refused(domain_with(many + "<shmem" + attributes(200) + "/>"));
  EXPECT_TRUE(contains(message, "more than 100000 attributes")) << message;
}

TEST(HostileXml, RefusesMoreElementsThanAnyDomainHas) {
  std::string many;
  for (int i = 0; i < 25000; ++i) many += "<a/>";
  std::string message = refused(domain_with(many));
  EXPECT_TRUE(contains(message, "more than 25000 elements")) << message;
}

TEST(HostileXml, RefusesDeeperNestingThanAnyDomainHas) {
  // domain_with() nests <devices> two deep: 62 more reach the limit of 64.
  auto nested = [](int depth) {
    std::string text;
    for (int i = 0; i < depth; ++i) text += "<a x='>'>";
    for (int i = 0; i < depth; ++i) text += "</a>";
    return text;
  };
  EXPECT_TRUE(DomainXml::parse(domain_with(nested(62) + "<a/><a/><a/>")));
  std::string message = refused(domain_with(nested(63)));
  EXPECT_TRUE(contains(message, "nested more than 64 deep")) << message;
}

TEST(HostileXml, RefusesMoreNamespaceDeclarationsThanAnyDomainHas) {
  std::string declarations;
  for (int i = 0; i < 65; ++i)
    declarations += "<n xmlns:p" + std::to_string(i) + "='urn:x" + std::to_string(i) + "'/>";
  std::string message = refused(domain_with(declarations));
  EXPECT_TRUE(contains(message, "more than 64 namespace declarations")) << message;
}

TEST(HostileXml, RefusesMoreVfPortsOrPortRecordsThanAnyDomainHas) {
  std::string ports, records;
  for (int i = 0; i < 257; ++i) {
    char mac[18];
    std::snprintf(mac, sizeof mac, "52:54:00:00:%02x:%02x", i >> 8, i & 0xff);
    ports += hostdev_interface("domain='0x0000' bus='0x01' slot='0x10' function='0x2'", "", mac);
    records += std::string("<vfhook:port mac='") + mac + "' pool='p'/>";
  }
  std::string message = refused(domain_with(ports));
  EXPECT_TRUE(contains(message, "more than 256 VF ports")) << message;
  message = refused(domain_with("", "<metadata><vfhook:ports xmlns:vfhook='urn:vfhook:ports:1'>" +
                                        records + "</vfhook:ports></metadata>"));
  EXPECT_TRUE(contains(message, "more than 256 vfhook port records")) << message;
}

}  // namespace
}  // namespace vfhook
