// virtio-net failover in the domain XML: a VF interface's <teaming>, the other interfaces a
// teamed port pairs with, the guest PCI devices, and the cold-move marker (model/move_marker.h).
#include <gtest/gtest.h>

#include <string>

#include "testing/addresses.h"
#include "tests/xml/fixtures.h"
#include "xml/domain_xml.h"

namespace vfhook {
namespace {

using testing::domain_with;
using testing::mac;
using testing::pci;

// A failover pair: the virtio interface (persistent side) and the VF (transient side) with one
// MAC; the VF on bus 0x08 of its own.
constexpr std::string_view kFailoverPair = R"(
    <interface type='bridge'>
      <mac address='52:54:00:aa:00:01'/>
      <source bridge='br0'/>
      <model type='virtio'/>
      <teaming type='persistent'/>
      <alias name='ua-virtio0'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </interface>
    <interface type='hostdev' managed='no'>
      <mac address='52:54:00:aa:00:01'/>
      <source>
        <address type='pci' domain='0x0000' bus='0x01' slot='0x10' function='0x2'/>
      </source>
      <teaming type='transient' persistent='ua-virtio0'/>
      <alias name='ua-sriov0'/>
      <address type='pci' domain='0x0000' bus='0x08' slot='0x00' function='0x0'/>
    </interface>)";

std::string replaced(std::string_view text, std::string_view from, std::string_view to) {
  std::string out(text);
  const size_t at = out.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) out.replace(at, from.size(), to);
  return out;
}

std::string refusal(const std::string& xml) {
  auto parsed = DomainXml::parse(xml);
  EXPECT_FALSE(parsed) << "accepted:\n" << xml;
  if (parsed) return "";
  EXPECT_EQ(parsed.error().kind, ErrorKind::invalid_input);
  return parsed.error().message;
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(FailoverXml, TheVfPortNamesItsPersistentPartnerAndThePartnerIsListed) {
  auto domain = DomainXml::parse(domain_with(kFailoverPair));
  ASSERT_TRUE(domain) << domain.error().message;
  ASSERT_EQ(domain->vf_ports().size(), 1u);
  const VfPort& vf = domain->vf_ports()[0];
  EXPECT_TRUE(vf.teamed());
  EXPECT_EQ(vf.teaming_persistent, "ua-virtio0");

  auto interfaces = domain->plain_interfaces();
  ASSERT_TRUE(interfaces) << interfaces.error().message;
  ASSERT_EQ(interfaces->size(), 1u);  // the VF port is not a plain interface
  const PlainInterface& virtio = (*interfaces)[0];
  EXPECT_EQ(virtio.alias, "ua-virtio0");
  EXPECT_EQ(virtio.mac, mac("52:54:00:aa:00:01"));
  EXPECT_EQ(virtio.model, "virtio");
  EXPECT_EQ(virtio.type, "bridge");
  EXPECT_TRUE(virtio.teaming_persistent);
  EXPECT_EQ(virtio.position, 1u);
}

TEST(FailoverXml, PortsWithoutTeamingAreNotTeamed) {
  auto domain = DomainXml::parse(domain_with(testing::kTwoInterfacePorts));
  ASSERT_TRUE(domain) << domain.error().message;
  for (const VfPort& port : domain->vf_ports()) EXPECT_FALSE(port.teamed()) << port.describe();
  auto interfaces = domain->plain_interfaces();
  ASSERT_TRUE(interfaces);
  ASSERT_EQ(interfaces->size(), 1u);
  EXPECT_FALSE((*interfaces)[0].teaming_persistent);
  EXPECT_EQ((*interfaces)[0].position, 2u);  // between the two VF interfaces
}

TEST(FailoverXml, ABadTeamingOnAVfPortRefusesTheDocument) {
  const std::string transient = "<teaming type='transient' persistent='ua-virtio0'/>";
  EXPECT_TRUE(contains(
      refusal(domain_with(replaced(kFailoverPair, transient, "<teaming type='transient'/>"))),
      "without persistent= refused"));
  // Not a user alias: libvirt's <alias name> of a device it may be given is 'ua-...'.
  EXPECT_TRUE(
      contains(refusal(domain_with(replaced(kFailoverPair, transient,
                                            "<teaming type='transient' persistent='net0'/>"))),
               "<teaming persistent='net0'> refused: expected a user alias"));
  EXPECT_TRUE(contains(
      refusal(domain_with(replaced(kFailoverPair, transient,
                                   "<teaming type='transient' persistent='ua-a&quot;b'/>"))),
      "refused: expected a user alias"));
  EXPECT_TRUE(contains(
      refusal(domain_with(replaced(kFailoverPair, transient, "<teaming type='persistent'/>"))),
      "<teaming type='persistent'> on a VF port refused"));
  EXPECT_TRUE(
      contains(refusal(domain_with(replaced(kFailoverPair, transient, "<teaming type='active'/>"))),
               "<teaming type='active'> refused"));
  EXPECT_TRUE(
      contains(refusal(domain_with(replaced(kFailoverPair, transient, transient + transient))),
               "two <teaming> elements refused"));
  // The error names the device.
  EXPECT_TRUE(contains(
      refusal(domain_with(replaced(kFailoverPair, transient, "<teaming type='persistent'/>"))),
      "<devices> interface #2 (mac 52:54:00:aa:00:01)"));
}

TEST(FailoverXml, ABadPartnerInterfaceIsAnErrorOfPlainInterfacesOnly) {
  // parse() does not read non-VF interfaces' teaming: a domain that is not teamed never fails
  // on it. plain_interfaces() does, for the prepare check.
  auto domain =
      DomainXml::parse(domain_with(replaced(kFailoverPair, "<teaming type='persistent'/>",
                                            "<teaming type='persistent' persistent='ua-x'/>")));
  ASSERT_TRUE(domain) << domain.error().message;
  auto interfaces = domain->plain_interfaces();
  ASSERT_FALSE(interfaces);
  EXPECT_TRUE(contains(interfaces.error().message,
                       "<devices> interface #1: <teaming "
                       "type='persistent'> with persistent= refused"))
      << interfaces.error().message;

  auto bad_mac = DomainXml::parse(
      domain_with(replaced(kFailoverPair,
                           "<mac address='52:54:00:aa:00:01'/>\n      <source "
                           "bridge='br0'/>",
                           "<mac address='52:54:00:aa:00'/>\n      <source bridge='br0'/>")));
  ASSERT_TRUE(bad_mac) << bad_mac.error().message;
  auto refused = bad_mac->plain_interfaces();
  ASSERT_FALSE(refused);
  EXPECT_TRUE(contains(refused.error().message, "<devices> interface #1"));
}

TEST(FailoverXml, GuestPciDevicesListsEveryDeviceWithAGuestPciAddress) {
  auto domain = DomainXml::parse(domain_with(kFailoverPair));
  ASSERT_TRUE(domain) << domain.error().message;
  auto devices = domain->guest_pci_devices();
  ASSERT_TRUE(devices) << devices.error().message;
  std::string seen;
  for (const GuestPciDevice& device : *devices) seen += device.describe() + "\n";
  EXPECT_EQ(seen,
            "<disk> virtio-disk0 at 0000:04:00.0\n"
            "<controller> pci.1 at 0000:00:02.0\n"
            "<interface> ua-virtio0 at 0000:01:00.0\n"
            "<interface> ua-sriov0 at 0000:08:00.0\n"
            "<memballoon> balloon0 at 0000:05:00.0\n");

  auto broken = DomainXml::parse(domain_with(
      replaced(kFailoverPair, "bus='0x01' slot='0x00' function='0x0'", "bus='0x01' slot='0x00'")));
  ASSERT_TRUE(broken) << broken.error().message;
  auto refused = broken->guest_pci_devices();
  ASSERT_FALSE(refused);
  EXPECT_TRUE(contains(refused.error().message, "<devices> <interface> guest address"));
}

// ---- the cold-move marker ----------------------------------------------------------------

std::string with_marker(std::string_view element) {
  return domain_with(kFailoverPair,
                     "  <metadata>\n    " + std::string(element) + "\n  </metadata>\n");
}

constexpr std::string_view kMarker =
    R"(<vfmove:move xmlns:vfmove="urn:vfhook:move:1" mode="offline" expires="1764480000"/>)";

std::string marker_error(std::string_view element) {
  auto domain = DomainXml::parse(with_marker(element));
  EXPECT_TRUE(domain) << domain.error().message;  // the marker is read on demand only
  if (!domain) return "";
  auto marker = domain->move_marker();
  EXPECT_FALSE(marker) << "accepted: " << element;
  if (marker) return "";
  EXPECT_EQ(marker.error().kind, ErrorKind::invalid_input);
  return marker.error().message;
}

TEST(MoveMarker, IsReadByItsNamespaceWhateverThePrefix) {
  for (std::string_view element :
       {kMarker,
        std::string_view(R"(<m:move xmlns:m="urn:vfhook:move:1" expires="1764480000")"
                         R"( mode="offline"></m:move>)"),
        std::string_view(
            R"(<move xmlns="urn:vfhook:move:1" mode="offline" expires="1764480000"/>)")}) {
    auto domain = DomainXml::parse(with_marker(element));
    ASSERT_TRUE(domain) << domain.error().message;
    auto marker = domain->move_marker();
    ASSERT_TRUE(marker) << marker.error().message;
    ASSERT_TRUE(*marker) << element;
    EXPECT_EQ((*marker)->expires, 1764480000);
  }
}

TEST(MoveMarker, AbsentIsNullopt) {
  auto domain = DomainXml::parse(domain_with(kFailoverPair));
  ASSERT_TRUE(domain);
  auto marker = domain->move_marker();
  ASSERT_TRUE(marker);
  EXPECT_FALSE(*marker);
  // The port records' namespace is not the marker's.
  auto records = DomainXml::parse(
      domain_with(kFailoverPair,
                  testing::ports_metadata(R"(<vfhook:port alias="ua-sriov0" pool="provider"/>)")));
  ASSERT_TRUE(records) << records.error().message;
  ASSERT_TRUE(records->move_marker());
  EXPECT_FALSE(*records->move_marker());
}

TEST(MoveMarker, AnythingButOneWellFormedMarkerIsAnErrorNamingTheElement) {
  struct Case {
    std::string element;
    std::string error;
  };
  const std::string ns = R"( xmlns:vfmove="urn:vfhook:move:1")";
  const std::vector<Case> cases = {
      {"<vfmove:move" + ns + R"( mode="live" expires="1764480000"/>)",
       "mode='live': the modes are 'offline' and 'live-reattach'"},
      {"<vfmove:move" + ns + R"( mode="OFFLINE" expires="1764480000"/>)", "mode='OFFLINE'"},
      {"<vfmove:move" + ns + R"( expires="1764480000"/>)", "attribute mode is required"},
      {"<vfmove:move" + ns + R"( mode="offline"/>)", "attribute expires is required"},
      {"<vfmove:move" + ns + R"( mode="offline" expires="0"/>)",
       "expires='0': expected unix seconds, a positive integer"},
      {"<vfmove:move" + ns + R"( mode="offline" expires="-5"/>)", "expires='-5'"},
      {"<vfmove:move" + ns + R"( mode="offline" expires="+5"/>)", "expires='+5'"},
      {"<vfmove:move" + ns + R"( mode="offline" expires="017"/>)", "expires='017'"},
      {"<vfmove:move" + ns + R"( mode="offline" expires="1.5"/>)", "expires='1.5'"},
      {"<vfmove:move" + ns + R"( mode="offline" expires=""/>)", "expires=''"},
      {"<vfmove:move" + ns + R"( mode="offline" expires=" 17"/>)", "expires=' 17'"},
      {"<vfmove:move" + ns + R"( mode="offline" expires="9223372036854775808"/>)",
       "expires='9223372036854775808'"},
      {"<vfmove:move" + ns + R"( mode="offline" expires="99999999999999999999"/>)",
       "expires='99999999999999999999'"},
      {"<vfmove:move" + ns + R"( mode="offline" expires="17" until="18"/>)",
       "unknown attribute 'until' (known: mode expires)"},
      {"<vfmove:move" + ns + R"( mode="offline" vfmove:expires="17"/>)",
       "attribute 'expires' has a namespace"},
      {"<vfmove:move" + ns + R"( mode="offline" expires="17"><vfmove:why/></vfmove:move>)",
       "it has a child element <why>"},
      {"<vfmove:moving" + ns + R"( mode="offline" expires="17"/>)",
       "<vfmove:moving> (urn:vfhook:move:1) refused: expected the element <move>"},
      {"<vfmove:move" + ns + R"( mode="offline" expires="17"/><vfmove:move)" + ns +
           R"( mode="offline" expires="18"/>)",
       "metadata holds 2 elements of its namespace"},
  };
  for (const Case& c : cases) {
    const std::string error = marker_error(c.element);
    EXPECT_TRUE(contains(error, "vfhook cold-move marker <")) << c.element << "\n" << error;
    EXPECT_TRUE(contains(error, c.error)) << c.element << "\n" << error;
  }
}

TEST(MoveMarker, TheLargestInt64IsAcceptedAndExpiryIsInclusive) {
  auto domain = DomainXml::parse(with_marker(
      R"(<vfmove:move xmlns:vfmove="urn:vfhook:move:1" mode="offline" expires="9223372036854775807"/>)"));
  ASSERT_TRUE(domain);
  auto marker = domain->move_marker();
  ASSERT_TRUE(marker && *marker) << (marker ? "" : marker.error().message);
  EXPECT_EQ((*marker)->expires, INT64_MAX);

  const MoveMarker at{1000};
  using std::chrono::seconds;
  using std::chrono::system_clock;
  EXPECT_FALSE(at.expired_at(system_clock::time_point(seconds(999))));
  EXPECT_TRUE(at.expired_at(system_clock::time_point(seconds(1000))));
  EXPECT_TRUE(at.expired_at(system_clock::time_point(seconds(1001))));
}

// The text goes to virDomainSetMetadata, which adds the namespace (key vfmove); what libvirt
// then stores is what the reader accepts.
TEST(MoveMarker, RenderedTextIsWhatTheReaderAcceptsOnceLibvirtAddsTheNamespace) {
  auto text = render_move_marker(MoveMarker{1764480000});
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(*text, R"(<move mode="offline" expires="1764480000"/>)");
  // libvirt's virXMLInjectNamespace: a namespace declaration on the element, set on it.
  const std::string stored =
      replaced(*text, "<move", R"(<vfmove:move xmlns:vfmove="urn:vfhook:move:1")");
  auto domain = DomainXml::parse(with_marker(stored));
  ASSERT_TRUE(domain);
  auto marker = domain->move_marker();
  ASSERT_TRUE(marker && *marker);
  EXPECT_EQ(**marker, MoveMarker{1764480000});
  // Without the namespace it is not vfhook's: no marker at all.
  auto bare = DomainXml::parse(with_marker(*text));
  ASSERT_TRUE(bare);
  ASSERT_TRUE(bare->move_marker());
  EXPECT_FALSE(*bare->move_marker());

  for (int64_t bad : {int64_t{0}, int64_t{-1}}) {
    auto refused = render_move_marker(MoveMarker{bad});
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().kind, ErrorKind::invalid_input);
  }
}

TEST(MoveMarker, RemovalTakesOnlyTheMarkerAndKeepsTheRecords) {
  const std::string records =
      R"(<vfhook:ports xmlns:vfhook="urn:vfhook:ports:1"><vfhook:port alias="ua-sriov0" pool="provider"/></vfhook:ports>)";
  const std::string text = domain_with(
      kFailoverPair, "  <metadata>\n    " + records + "\n    " + std::string(kMarker) +
                         "\n    <other:x xmlns:other=\"urn:example:other\"/>\n  </metadata>\n");
  auto domain = DomainXml::parse(text);
  ASSERT_TRUE(domain) << domain.error().message;
  const auto records_before = domain->port_records();
  ASSERT_TRUE(records_before);

  EXPECT_TRUE(domain->remove_move_marker());
  const std::string out = domain->serialize();
  EXPECT_FALSE(contains(out, "urn:vfhook:move:1")) << out;
  EXPECT_TRUE(contains(out, "urn:example:other")) << out;
  EXPECT_EQ(out,
            replaced(DomainXml::parse(text)->serialize(), "\n    " + std::string(kMarker), ""));
  ASSERT_TRUE(domain->move_marker());
  EXPECT_FALSE(*domain->move_marker());
  EXPECT_EQ(*domain->port_records(), *records_before);
  EXPECT_FALSE(domain->remove_move_marker());  // nothing left to remove

  // A broken marker is removed as well: it must not travel on either.
  auto broken = DomainXml::parse(with_marker(
      R"(<vfmove:moving xmlns:vfmove="urn:vfhook:move:1"/><vfmove:move xmlns:vfmove="urn:vfhook:move:1"/>)"));
  ASSERT_TRUE(broken);
  EXPECT_TRUE(broken->remove_move_marker());
  EXPECT_FALSE(contains(broken->serialize(), "urn:vfhook:move:1"));
}

// ---- the live re-attach marker -------------------------------------------------------------

TEST(LiveReattachMarker, RendersPortsWithoutANamespaceAndReadsBackAsLibvirtStoresIt) {
  const MacAddress mac = *MacAddress::parse_unicast("52:54:00:aa:00:01");
  MoveMarker marker{1764480000, MoveMode::live_reattach, {{"ua-web1-0", mac, std::nullopt}}};
  auto text = render_move_marker(marker);
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(*text, R"(<move mode="live-reattach" expires="1764480000">)"
                   R"(<port alias="ua-web1-0" mac="52:54:00:aa:00:01"/></move>)");
  // libvirt puts the element into the namespace; its children stay in none.
  std::string stored = replaced(*text, "<move", R"(<vfmove:move xmlns:vfmove="urn:vfhook:move:1")");
  stored = replaced(stored, "</move>", "</vfmove:move>");
  auto domain = DomainXml::parse(with_marker(stored));
  ASSERT_TRUE(domain) << domain.error().message;
  auto read = domain->move_marker();
  ASSERT_TRUE(read && *read) << (read ? "absent" : read.error().message);
  EXPECT_EQ(**read, marker);

  // The migrate hook writes the chosen VF back; what it prints reads back the same.
  marker.ports[0].vf = *PciAddress::parse("0000:01:10.2");
  ASSERT_TRUE(domain->set_move_marker(marker));
  auto again = DomainXml::parse(domain->serialize());
  ASSERT_TRUE(again);
  EXPECT_TRUE(contains(again->serialize(), R"(vf="0000:01:10.2")")) << again->serialize();
  ASSERT_TRUE(again->move_marker() && *again->move_marker());
  EXPECT_EQ(**again->move_marker(), marker);
}

TEST(LiveReattachMarker, IsStrict) {
  const std::string open =
      R"(<vfmove:move xmlns:vfmove="urn:vfhook:move:1" mode="live-reattach" expires="17">)";
  const std::string close = "</vfmove:move>";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"(<vfmove:move xmlns:vfmove="urn:vfhook:move:1" mode="live-reattach" expires="17"/>)",
       "lists no <port>"},
      {open + R"(<port mac="52:54:00:aa:00:01"/>)" + close, "attribute alias is required"},
      {open + R"(<port alias="ua-a"/>)" + close, "attribute mac is required"},
      {open + R"(<port alias="net0" mac="52:54:00:aa:00:01"/>)" + close, "not a user alias"},
      {open + R"(<port alias="ua-a" mac="01:00:5e:00:00:01"/>)" + close, "mac='01:00:5e:00:00:01'"},
      {open + R"(<port alias="ua-a" mac="52:54:00:aa:00:01" vf="nowhere"/>)" + close,
       "vf='nowhere'"},
      {open + R"(<port alias="ua-a" mac="52:54:00:aa:00:01" pool="x"/>)" + close,
       "unknown attribute 'pool'"},
      {open +
           R"(<port alias="ua-a" mac="52:54:00:aa:00:01"/><port alias="ua-a" mac="52:54:00:aa:00:02"/>)" +
           close,
       "two <port> elements name alias ua-a"},
      {open + R"(<port alias="ua-a" mac="52:54:00:aa:00:01" vf="0000:01:10.2"/>)" +
           R"(<port alias="ua-b" mac="52:54:00:aa:00:02" vf="0000:01:10.2"/>)" + close,
       "two <port> elements name vf 0000:01:10.2"},
      {open + R"(<other alias="ua-a" mac="52:54:00:aa:00:01"/>)" + close, "child element <other>"},
      {open + R"(<x:port xmlns:x="urn:example" alias="ua-a" mac="52:54:00:aa:00:01"/>)" + close,
       "child element <port>"},
      {R"(<vfmove:move xmlns:vfmove="urn:vfhook:move:1" mode="offline" expires="17">)"
       R"(<port alias="ua-a" mac="52:54:00:aa:00:01"/></vfmove:move>)",
       "an offline marker carries attributes only"},
  };
  for (const auto& [element, error] : cases) {
    const std::string message = marker_error(element);
    EXPECT_TRUE(contains(message, error)) << element << "\n" << message;
  }
  // Nor is one rendered that the reader would refuse.
  const MacAddress mac = *MacAddress::parse_unicast("52:54:00:aa:00:01");
  EXPECT_FALSE(render_move_marker(MoveMarker{17, MoveMode::live_reattach, {}}));
  EXPECT_FALSE(
      render_move_marker(MoveMarker{17, MoveMode::offline, {{"ua-a", mac, std::nullopt}}}));
  EXPECT_FALSE(
      render_move_marker(MoveMarker{17, MoveMode::live_reattach, {{"net0", mac, std::nullopt}}}));
}

}  // namespace
}  // namespace vfhook
