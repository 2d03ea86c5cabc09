#include "engine/vf_restore.h"

#include <gtest/gtest.h>

#include "engine/undo_stack.h"
#include "testing/memory_logger.h"

namespace vfhook {
namespace {

VfState sample_state() {
  VfState s;
  s.mac = *MacAddress::parse("52:54:00:00:00:01");
  s.vlan = Vlan{120, 0, VlanProtocol::dot1q};
  s.spoofchk = true;
  s.trust = false;
  s.min_tx_rate = 0;
  s.max_tx_rate = 0;
  return s;
}

TEST(VfRestore, OriginalValuesCoverExactlyTheWantedFields) {
  VfSettings wanted;
  wanted.vlan = Vlan{120, 3, VlanProtocol::dot1q};
  wanted.trust = true;
  VfSettings original = original_values(wanted, sample_state());
  ASSERT_TRUE(original.vlan);
  EXPECT_EQ(original.vlan->qos, 0);
  EXPECT_EQ(original.trust, false);
  EXPECT_FALSE(original.mac);
  EXPECT_FALSE(original.spoofchk);
  EXPECT_FALSE(original.rates);
}

TEST(VfRestore, DifferingDropsWhatIsAlreadySo) {
  VfSettings wanted;
  wanted.vlan = Vlan{120, 0, VlanProtocol::dot1q};  // as it is
  wanted.spoofchk = true;                           // as it is
  wanted.trust = true;                              // differs
  wanted.rates = VfSettings::Rates{0, 100};         // differs
  VfSettings diff = differing(wanted, sample_state());
  EXPECT_FALSE(diff.vlan);
  EXPECT_FALSE(diff.spoofchk);
  EXPECT_EQ(diff.trust, true);
  ASSERT_TRUE(diff.rates);
  EXPECT_EQ(diff.rates->max_tx, 100u);
}

TEST(VfRestore, TrustUnknownToTheDriverIsSentWhenWanted) {
  VfState state = sample_state();
  state.trust.reset();
  VfSettings wanted;
  wanted.trust = false;
  EXPECT_EQ(differing(wanted, state).trust, false);
  EXPECT_FALSE(original_values(wanted, state).trust);  // nothing to put back
}

TEST(VfRestore, IdleMacIsUnicastLocallyAdministeredAndPerVf) {
  MacAddress a = idle_mac_for(*PciAddress::parse("0000:01:10.2"));
  MacAddress b = idle_mac_for(*PciAddress::parse("0000:01:10.4"));
  EXPECT_FALSE(a.is_multicast());
  EXPECT_FALSE(a.is_zero());
  EXPECT_EQ(a.bytes[0] & 0x02, 0x02);
  EXPECT_NE(a, b);
}

TEST(VfRestore, IdleMacTellsPciDomainsApart) {
  const PciAddress a = *PciAddress::parse("0000:01:10.2");
  EXPECT_NE(idle_mac_for(a), idle_mac_for(*PciAddress::parse("0001:01:10.2")));
  // Domains that differ only in their high byte (hosts with many PCI segments).
  EXPECT_NE(idle_mac_for(a), idle_mac_for(*PciAddress::parse("0100:01:10.2")));
  EXPECT_NE(idle_mac_for(*PciAddress::parse("0001:01:10.2")),
            idle_mac_for(*PciAddress::parse("0101:01:10.2")));
}

TEST(VfRestore, IdleMacIsStableAndStaysLocallyAdministeredUnicast) {
  const PciAddress vf = *PciAddress::parse("abcd:ef:1f.7");
  const MacAddress first = idle_mac_for(vf);
  EXPECT_EQ(idle_mac_for(vf), first);
  // The same VF gets the same MAC in every vfhook version that uses this scheme: a release
  // after an upgrade must not make up another one.
  EXPECT_EQ(first.to_string(), "02:76:ab:cd:ef:ff");
  for (const char* text : {"0000:00:00.0", "ffff:ff:1f.7", "8000:80:10.4"}) {
    const MacAddress mac = idle_mac_for(*PciAddress::parse(text));
    EXPECT_FALSE(mac.is_multicast()) << text;
    EXPECT_FALSE(mac.is_zero()) << text;
    EXPECT_EQ(mac.bytes[0] & 0x03, 0x02) << text;
  }
}

TEST(UndoStack, UnwindsInReverseOrderAndKeepsGoingAfterAFailure) {
  MemoryLogger log;
  std::vector<int> order;
  {
    UndoStack undo(log);
    undo.push("one", [&] {
      order.push_back(1);
      return ok();
    });
    undo.push("two", [&]() -> Status {
      order.push_back(2);
      return fail(ErrorKind::os, "device gone");
    });
    undo.push("three", [&] {
      order.push_back(3);
      return ok();
    });
  }
  EXPECT_EQ(order, (std::vector<int>{3, 2, 1}));
  ASSERT_EQ(log.entries.size(), 3u);
  EXPECT_NE(log.entries[1].message.find("two failed: device gone"), std::string::npos);
}

TEST(UndoStack, CommitKeepsEverything) {
  MemoryLogger log;
  int undone = 0;
  {
    UndoStack undo(log);
    undo.push("one", [&] {
      ++undone;
      return ok();
    });
    undo.commit();
  }
  EXPECT_EQ(undone, 0);
}

}  // namespace
}  // namespace vfhook
