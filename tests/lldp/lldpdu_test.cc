// The LLDPDU parser on frames as lldpd and switches send them, then on every way a frame
// from anyone on the link can be wrong: cut short, lengths that lie, TLVs out of order or
// repeated, hostile text.
#include "lldp/lldpdu.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/lldp/frames.h"

namespace vfhook {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Bytes = std::vector<uint8_t>;

constexpr size_t kEthernetHeader = 14;

template <size_t N>
Bytes bytes(const uint8_t (&array)[N]) {
  return Bytes(array, array + N);
}
Bytes lldpdu_of(const Bytes& frame) {
  return Bytes(frame.begin() + kEthernetHeader, frame.end());
}
Bytes text(std::string_view s) {
  return Bytes(s.begin(), s.end());
}
// A TLV as the wire has it: 7-bit type, 9-bit length, value.
Bytes tlv(uint8_t type, const Bytes& value) {
  Bytes out{static_cast<uint8_t>(type << 1 | value.size() >> 8),
            static_cast<uint8_t>(value.size() & 0xff)};
  out.insert(out.end(), value.begin(), value.end());
  return out;
}
Bytes join(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}
const Bytes kChassis = tlv(1, {4, 0x00, 0x1b, 0x54, 0xaa, 0xbb, 0xcc});
const Bytes kPort = tlv(2, join({{5}, text("swp7")}));
const Bytes kTtl = tlv(3, {0, 120});
const Bytes kEnd = {0, 0};

TEST(Lldpdu, LldpdDefaultsTheInterfaceNameIsThePortDescription) {
  auto n = parse_lldp_frame(bytes(testing::kLldpdFrame));
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(n->chassis.subtype, static_cast<uint8_t>(ChassisIdSubtype::mac_address));
  EXPECT_EQ(n->chassis.value, "52:54:00:12:34:02");
  EXPECT_EQ(n->port.subtype, static_cast<uint8_t>(PortIdSubtype::mac_address));
  EXPECT_EQ(n->port.value, "52:54:00:12:34:02");
  EXPECT_EQ(n->ttl_seconds, 120);
  EXPECT_EQ(n->system_name, "lab-host-b");
  EXPECT_THAT(n->system_description, HasSubstr("Debian GNU/Linux 12 (bookworm)"));
  EXPECT_EQ(n->port_description, "enp1s0");
  EXPECT_THAT(n->management_addresses, ElementsAre("10.77.0.2"));
  EXPECT_EQ(n->port_vlan_id, std::nullopt);
  EXPECT_EQ(n->skipped_tlvs, 0);
  // A MAC port ID says less than the interface name lldpd puts in the description.
  EXPECT_EQ(neighbor_switch_text(*n), "lab-host-b");
  EXPECT_EQ(neighbor_port_text(*n), "enp1s0");
  EXPECT_EQ(chassis_id_subtype_name(n->chassis.subtype), "mac");
}

TEST(Lldpdu, ASwitchPortNamedByItsIdWithItsVlanAndPaddingAfterTheEnd) {
  auto n = parse_lldp_frame(bytes(testing::kCiscoFrame));
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(n->chassis.value, "00:1b:54:aa:bb:cc");
  EXPECT_EQ(n->port.subtype, static_cast<uint8_t>(PortIdSubtype::interface_name));
  EXPECT_EQ(n->port.value, "Gi1/0/12");
  EXPECT_EQ(n->port_description, "GigabitEthernet1/0/12");
  EXPECT_EQ(n->system_name, "sw-core-1.example.net");
  EXPECT_THAT(n->management_addresses, ElementsAre("192.0.2.11"));
  EXPECT_EQ(n->port_vlan_id, 110);
  EXPECT_EQ(neighbor_port_text(*n), "Gi1/0/12");
  EXPECT_EQ(port_id_subtype_name(n->port.subtype), "ifname");
}

TEST(Lldpdu, ALocallyAssignedPortIdGivesWayToTheDescription) {
  auto n = parse_lldp_frame(bytes(testing::kJuniperFrame));
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(n->port.value, "515");
  EXPECT_EQ(n->port.subtype, static_cast<uint8_t>(PortIdSubtype::locally_assigned));
  EXPECT_EQ(neighbor_port_text(*n), "ge-0/0/12.0");
  EXPECT_EQ(neighbor_switch_text(*n), "ex4300-a");
  EXPECT_THAT(n->management_addresses, ElementsAre("2001:db8::1"));
  EXPECT_EQ(n->port_vlan_id, 10);  // the VLAN name TLV (802.1 subtype 3) is not read
  EXPECT_EQ(n->skipped_tlvs, 0);
}

TEST(Lldpdu, WithoutASystemNameTheChassisIdNamesTheSwitch) {
  auto n = parse_lldpdu(join({kChassis, kPort, kTtl, kEnd}));
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(neighbor_switch_text(*n), "00:1b:54:aa:bb:cc");
  EXPECT_EQ(neighbor_port_text(*n), "swp7");
}

TEST(Lldpdu, TheEndTlvIsOptionalAndTrailingBytesAfterItAreIgnored) {
  auto without_end = parse_lldpdu(join({kChassis, kPort, kTtl}));
  ASSERT_TRUE(without_end) << without_end.error().message;
  auto with_junk = parse_lldpdu(join({kChassis, kPort, kTtl, kEnd, {0xff, 0xff, 0x01}}));
  ASSERT_TRUE(with_junk) << with_junk.error().message;
  EXPECT_EQ(*without_end, *with_junk);
}

TEST(Lldpdu, AShutdownLldpduHasTtlZero) {
  auto n = parse_lldpdu(join({kChassis, kPort, tlv(3, {0, 0}), kEnd}));
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(n->ttl_seconds, 0);
}

TEST(Lldpdu, EveryCutOfARealFrameIsRefusedOrEndsAtATlvBoundary) {
  const Bytes whole = lldpdu_of(bytes(testing::kLldpdFrame));
  auto tlvs = split_lldp_tlvs(whole);
  ASSERT_TRUE(tlvs);
  // Where each TLV ends: only a cut there leaves whole TLVs.
  std::vector<size_t> boundaries{0};
  for (const LldpTlv& t : *tlvs) boundaries.push_back(boundaries.back() + 2 + t.value.size());
  const size_t mandatory_end = boundaries[3];
  for (size_t cut = 0; cut < whole.size(); ++cut) {
    Bytes prefix(whole.begin(), whole.begin() + static_cast<ptrdiff_t>(cut));
    auto n = parse_lldpdu(prefix);
    const bool at_boundary =
        std::find(boundaries.begin(), boundaries.end(), cut) != boundaries.end();
    if (cut < mandatory_end || !at_boundary) {
      EXPECT_FALSE(n) << "cut at " << cut;
      if (!n) {
        EXPECT_EQ(n.error().kind, ErrorKind::invalid_input);
      }
    } else {
      EXPECT_TRUE(n) << "cut at " << cut << ": " << n.error().message;
    }
  }
}

TEST(Lldpdu, ATlvLongerThanWhatIsLeftIsRefusedWithWhere) {
  Bytes lying = join({kChassis, kPort, kTtl, {0x0a, 0x40}, text("sw1")});  // name says 64
  auto n = parse_lldpdu(lying);
  ASSERT_FALSE(n);
  EXPECT_THAT(n.error().message, HasSubstr("TLV type 5"));
  EXPECT_THAT(n.error().message, HasSubstr("says 64 bytes, 3 are left"));
}

TEST(Lldpdu, TheMandatoryTlvsMustComeFirstInOrderAndOnce) {
  auto swapped = parse_lldpdu(join({kPort, kChassis, kTtl, kEnd}));
  ASSERT_FALSE(swapped);
  EXPECT_THAT(swapped.error().message, HasSubstr("TLV 1 is not the chassis ID (type 2)"));
  auto no_ttl = parse_lldpdu(join({kChassis, kPort, kEnd}));
  ASSERT_FALSE(no_ttl);
  EXPECT_THAT(no_ttl.error().message, HasSubstr("not the TTL (missing)"));
  auto second_chassis = parse_lldpdu(join({kChassis, kPort, kTtl, kChassis, kEnd}));
  ASSERT_FALSE(second_chassis);
  EXPECT_THAT(second_chassis.error().message, HasSubstr("a second TLV of type 1"));
  EXPECT_FALSE(parse_lldpdu({}));
}

TEST(Lldpdu, MandatoryTlvsOfTheWrongSizeAreRefused) {
  EXPECT_FALSE(parse_lldpdu(join({tlv(1, {4}), kPort, kTtl, kEnd})));  // subtype, no ID
  EXPECT_FALSE(parse_lldpdu(join({kChassis, tlv(2, {}), kTtl, kEnd})));
  EXPECT_FALSE(parse_lldpdu(join({kChassis, tlv(2, Bytes(258, 'p')), kTtl, kEnd})));
  auto short_ttl = parse_lldpdu(join({kChassis, kPort, tlv(3, {120}), kEnd}));
  ASSERT_FALSE(short_ttl);
  EXPECT_THAT(short_ttl.error().message, HasSubstr("TTL TLV of 1 bytes"));
  EXPECT_FALSE(parse_lldpdu(join({kChassis, kPort, tlv(3, {0, 120, 0}), kEnd})));
  auto long_end = parse_lldpdu(join({kChassis, kPort, kTtl, {0x00, 0x01, 0x00}}));
  ASSERT_FALSE(long_end);
  EXPECT_THAT(long_end.error().message, HasSubstr("End TLV of length 1"));
}

TEST(Lldpdu, TextIsPrintableAndBounded) {
  const Bytes hostile = join({text("sw\x1b[2J\n"), {0xc3, 0xa9, 0x00}, text("\\")});
  const Bytes longest(511, 'x');
  auto n = parse_lldpdu(join({kChassis, tlv(2, join({{7}, {0x01, 0x02, 0x7f}})), kTtl,
                              tlv(5, hostile), tlv(6, longest), kEnd}));
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(n->system_name, "sw\\x1b[2J\\x0a\\xc3\\xa9\\x00\\\\");
  EXPECT_EQ(n->port.value, "\\x01\\x02\\x7f");
  EXPECT_EQ(n->system_description.size(), 511u);
}

TEST(Lldpdu, IdsThatDoNotFitTheirSubtypeAreShownAsBytes) {
  auto n = parse_lldpdu(join({tlv(1, {4, 'a', 'b', 'c'}),  // a MAC of 3 bytes
                              tlv(2, {4, 1, 10, 0, 0}),    // IPv4 of 3 bytes
                              kTtl, kEnd}));
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(n->chassis.value, "abc");
  EXPECT_EQ(n->port.value, "\\x01\\x0a\\x00\\x00");
  auto reserved = parse_lldpdu(join({tlv(1, {9, 'x'}), tlv(2, {0, 'y'}), kTtl}));
  ASSERT_TRUE(reserved);
  EXPECT_EQ(chassis_id_subtype_name(reserved->chassis.subtype), "subtype 9");
  EXPECT_EQ(port_id_subtype_name(reserved->port.subtype), "subtype 0");
}

TEST(Lldpdu, AMalformedOptionalTlvIsSkippedAndTheRestKept) {
  const Bytes bad_address = tlv(8, {40, 1, 10, 0, 0, 1, 2, 0, 0, 0, 1, 0});  // address length 40
  const Bytes address_with_oid_overrun = tlv(8, {5, 1, 10, 0, 0, 1, 2, 0, 0, 0, 1, 9});
  const Bytes short_pvid = tlv(127, {0x00, 0x80, 0xc2, 0x01, 0x05});
  const Bytes short_org = tlv(127, {0x00, 0x80});
  const Bytes good_address = tlv(8, {5, 1, 10, 0, 0, 9, 2, 0, 0, 0, 1, 0});
  auto n =
      parse_lldpdu(join({kChassis, kPort, kTtl, bad_address, address_with_oid_overrun, short_pvid,
                         short_org, tlv(5, text("sw1")), tlv(5, text("sw2")), good_address, kEnd}));
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(n->skipped_tlvs, 5);
  EXPECT_EQ(n->system_name, "sw1");  // the first one counts
  EXPECT_THAT(n->management_addresses, ElementsAre("10.0.0.9"));
  EXPECT_EQ(n->port_vlan_id, std::nullopt);
}

TEST(Lldpdu, ManagementAddressesAreCapped) {
  Bytes frame = join({kChassis, kPort, kTtl});
  for (uint8_t i = 0; i < 12; ++i) {
    Bytes address = tlv(8, {5, 1, 10, 0, 0, i, 2, 0, 0, 0, 1, 0});
    frame.insert(frame.end(), address.begin(), address.end());
  }
  auto n = parse_lldpdu(frame);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->management_addresses.size(), LldpNeighbor::kMaxManagementAddresses);
  EXPECT_EQ(n->skipped_tlvs, 4);
}

TEST(Lldpdu, ANonLldpFrameIsRefused) {
  Bytes ipv4 = bytes(testing::kCiscoFrame);
  ipv4[12] = 0x08;
  ipv4[13] = 0x00;
  auto n = parse_lldp_frame(ipv4);
  ASSERT_FALSE(n);
  EXPECT_THAT(n.error().message, HasSubstr("ethertype 0x0800 is not LLDP"));
  EXPECT_FALSE(parse_lldp_frame(Bytes(13, 0)));
}

TEST(Lldpdu, SplitAndEncodeAreInverses) {
  const Bytes whole = lldpdu_of(bytes(testing::kLldpdFrame));  // ends with its End TLV
  auto tlvs = split_lldp_tlvs(whole);
  ASSERT_TRUE(tlvs);
  EXPECT_EQ(tlvs->size(), 9u);
  EXPECT_EQ(encode_lldp_tlvs(*tlvs), whole);
  EXPECT_THAT(*split_lldp_tlvs(Bytes{0, 0, 1, 2}), IsEmpty());
}

}  // namespace
}  // namespace vfhook
