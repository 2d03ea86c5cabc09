#include "model/pci_address.h"

#include <gtest/gtest.h>

namespace vfhook {
namespace {

TEST(PciAddress, ParsesCanonicalForm) {
  auto a = PciAddress::parse("0000:03:10.7");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->domain, 0);
  EXPECT_EQ(a->bus, 3);
  EXPECT_EQ(a->slot, 0x10);
  EXPECT_EQ(a->function, 7);
  EXPECT_EQ(a->to_string(), "0000:03:10.7");
  EXPECT_EQ(PciAddress::parse("ABCD:EF:1F.0")->to_string(), "abcd:ef:1f.0");
}

TEST(PciAddress, RefusesAnythingThatCouldLeaveASysfsDirectory) {
  for (const char* bad :
       {"", "0000:03:10", "0000:03:10.8", "0000:03:20.0", "../../../etc", "0000:03:10.1/..",
        "0000:03:10.1\n", "000:03:10.1 ", "0000-03-10.1", "0000:0g:10.1", "+000:03:10.1"}) {
    auto a = PciAddress::parse(bad);
    EXPECT_FALSE(a) << bad;
    if (!a) {
      EXPECT_EQ(a.error().kind, ErrorKind::invalid_input);
    }
  }
}

TEST(PciAddress, ReadsLibvirtXmlAttributes) {
  auto a = PciAddress::from_xml_parts("0x0000", "0x01", "0x10", "0x2");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->to_string(), "0000:01:10.2");
  EXPECT_FALSE(PciAddress::from_xml_parts("0x0000", "0x01", "0x20", "0x0"));
  EXPECT_FALSE(PciAddress::from_xml_parts("0x0000", "0x01", "0x10", "0x8"));
  EXPECT_FALSE(PciAddress::from_xml_parts("0", "0x01", "0x10", "0x1"));
  EXPECT_FALSE(PciAddress::from_xml_parts("0x0000", "0x100", "0x10", "0x1"));
  EXPECT_FALSE(PciAddress::from_xml_parts("0x0000", "0x../", "0x10", "0x1"));
}

}  // namespace
}  // namespace vfhook
