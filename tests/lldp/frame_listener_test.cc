// Listening for LLDP frames: sequences of frames on several PFs over a fake clock (stop once
// every PF heard one, or at the deadline; updates and shutdowns; junk; a PF that cannot be
// opened; sockets that break), then the real AF_PACKET sockets on the loopback.
#include "lldp/frame_listener.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/fake_clock.h"
#include "testing/fake_lldp.h"
#include "tests/lldp/frames.h"

namespace vfhook {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Bytes = std::vector<uint8_t>;

template <size_t N>
Bytes bytes(const uint8_t (&array)[N]) {
  return Bytes(array, array + N);
}
// The Cisco frame with another system name, or a TTL of 0 (the switch port shutting down).
Bytes cisco_renamed() {
  auto tlvs = *split_lldp_tlvs(std::span(testing::kCiscoFrame).subspan(14));
  static const std::string kName = "sw-core-2";
  for (LldpTlv& t : tlvs)
    if (t.type == 5)
      t.value = std::span(reinterpret_cast<const uint8_t*>(kName.data()), kName.size());
  Bytes frame(testing::kCiscoFrame, testing::kCiscoFrame + 14);
  Bytes lldpdu = encode_lldp_tlvs(tlvs);
  frame.insert(frame.end(), lldpdu.begin(), lldpdu.end());
  return frame;
}
Bytes cisco_leaving() {
  Bytes frame = bytes(testing::kCiscoFrame);
  // The TTL TLV follows the 14-byte header, the 9-byte chassis ID and the 11-byte port ID.
  EXPECT_EQ(frame[14 + 9 + 11], 0x06);
  frame[14 + 9 + 11 + 2] = 0;
  frame[14 + 9 + 11 + 3] = 0;
  return frame;
}

struct Bed {
  FakeClock clock;
  testing::ScriptedLldpFrameSockets sockets{clock};
  Clock::TimePoint start = clock.now();
  Clock::Duration elapsed() { return clock.now() - start; }
};

TEST(FrameListener, StopsOnceEveryPfHeardANeighbour) {
  Bed bed;
  bed.sockets.arrive(5s, "enp1s0", bytes(testing::kCiscoFrame));
  bed.sockets.arrive(12s, "enp2s0", bytes(testing::kJuniperFrame));
  bed.sockets.arrive(20s, "enp2s0", bytes(testing::kLldpdFrame));
  auto heard = HeardLldpNeighbors::listen(bed.sockets, bed.clock, {"enp1s0", "enp2s0"}, 30s);
  EXPECT_THAT(bed.sockets.opened, ElementsAre("enp1s0", "enp2s0"));
  EXPECT_EQ(bed.elapsed(), 12s);  // the 20 s frame was never waited for
  auto one = heard->neighbors_of("enp1s0");
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].system_name, "sw-core-1.example.net");
  auto two = heard->neighbors_of("enp2s0");
  ASSERT_TRUE(two);
  ASSERT_EQ(two->size(), 1u);
  EXPECT_EQ((*two)[0].system_name, "ex4300-a");
  EXPECT_EQ(heard->frames_heard(), 2);
}

TEST(FrameListener, APfThatHearsNothingKeepsItListeningUntilTheDeadline) {
  Bed bed;
  bed.sockets.arrive(1s, "enp1s0", bytes(testing::kCiscoFrame));
  auto heard = HeardLldpNeighbors::listen(bed.sockets, bed.clock, {"enp1s0", "enp2s0"}, 30s);
  EXPECT_EQ(bed.elapsed(), 30s);
  // Every wait asked for what was left of the 30 s, never more.
  for (auto wait : bed.sockets.waits) EXPECT_LE(wait, 30s);
  EXPECT_EQ(bed.sockets.waits.back(), 29s);
  ASSERT_TRUE(heard->neighbors_of("enp2s0"));
  EXPECT_THAT(*heard->neighbors_of("enp2s0"), IsEmpty());
  EXPECT_EQ(heard->neighbors_of("enp1s0")->size(), 1u);
}

TEST(FrameListener, ANeighbourIsUpdatedByItsNextFrameAndRemovedByItsShutdown) {
  Bed bed;
  bed.sockets.arrive(1s, "enp1s0", bytes(testing::kCiscoFrame));
  bed.sockets.arrive(2s, "enp1s0", cisco_renamed());
  bed.sockets.arrive(3s, "enp1s0", bytes(testing::kJuniperFrame));  // a second neighbour
  bed.sockets.arrive(4s, "enp1s0", cisco_leaving());
  // enp2s0 hears its first frame only at 10 s: enp1s0 hears all of the above by then.
  bed.sockets.arrive(10s, "enp2s0", bytes(testing::kLldpdFrame));
  auto heard = HeardLldpNeighbors::listen(bed.sockets, bed.clock, {"enp1s0", "enp2s0"}, 30s);
  auto one = heard->neighbors_of("enp1s0");
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 1u);  // the Cisco port left; the Juniper one stays
  EXPECT_EQ((*one)[0].system_name, "ex4300-a");
  EXPECT_EQ(heard->frames_heard(), 5);

  Bed renamed;
  renamed.sockets.arrive(1s, "enp1s0", bytes(testing::kCiscoFrame));
  renamed.sockets.arrive(2s, "enp1s0", cisco_renamed());
  renamed.sockets.arrive(10s, "enp2s0", bytes(testing::kLldpdFrame));
  auto again =
      HeardLldpNeighbors::listen(renamed.sockets, renamed.clock, {"enp1s0", "enp2s0"}, 30s);
  ASSERT_EQ(again->neighbors_of("enp1s0")->size(), 1u);  // the same chassis and port: replaced
  EXPECT_EQ((*again->neighbors_of("enp1s0"))[0].system_name, "sw-core-2");
}

TEST(FrameListener, JunkIsCountedAndIgnored) {
  Bed bed;
  Bytes truncated = bytes(testing::kCiscoFrame);
  truncated.resize(30);
  Bytes not_lldp = bytes(testing::kCiscoFrame);
  not_lldp[13] = 0xcd;
  bed.sockets.arrive(1s, "enp1s0", truncated);
  bed.sockets.arrive(2s, "enp1s0", not_lldp);
  bed.sockets.arrive(3s, "enp1s0", {});
  bed.sockets.arrive(4s, "enp1s0", bytes(testing::kCiscoFrame));
  auto heard = HeardLldpNeighbors::listen(bed.sockets, bed.clock, {"enp1s0"}, 30s);
  EXPECT_EQ(heard->frames_refused(), 3);
  EXPECT_EQ(heard->frames_heard(), 1);
  EXPECT_EQ(bed.elapsed(), 4s);
  EXPECT_EQ(heard->neighbors_of("enp1s0")->size(), 1u);
}

TEST(FrameListener, APfThatCannotBeOpenedSaysWhyAndTheOthersListen) {
  Bed bed;
  bed.sockets.refuse_open.emplace("enp2s0",
                                  Error{ErrorKind::os,
                                        "listening for LLDP on enp2s0: socket(AF_PACKET): "
                                        "Operation not permitted (EPERM)",
                                        EPERM});
  bed.sockets.arrive(3s, "enp1s0", bytes(testing::kCiscoFrame));
  auto heard = HeardLldpNeighbors::listen(bed.sockets, bed.clock, {"enp1s0", "enp2s0"}, 30s);
  EXPECT_THAT(bed.sockets.opened, ElementsAre("enp1s0"));
  EXPECT_EQ(bed.elapsed(), 3s);  // the PF that could not be opened is not waited for
  auto two = heard->neighbors_of("enp2s0");
  ASSERT_FALSE(two);
  EXPECT_THAT(two.error().message, HasSubstr("enp2s0"));
  EXPECT_TRUE(heard->neighbors_of("enp1s0"));
}

TEST(FrameListener, NoPfOpensMeansNoWait) {
  Bed bed;
  bed.sockets.refuse_open.emplace("enp1s0", Error{ErrorKind::os, "no", EPERM});
  auto heard = HeardLldpNeighbors::listen(bed.sockets, bed.clock, {"enp1s0"}, 30s);
  EXPECT_THAT(bed.sockets.waits, IsEmpty());
  EXPECT_FALSE(heard->neighbors_of("enp1s0"));
  auto unknown = heard->neighbors_of("enp7s0");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().kind, ErrorKind::not_found);
}

TEST(FrameListener, BrokenSocketsEndTheListeningAndSayWhyWhereNothingWasHeard) {
  Bed bed;
  bed.sockets.arrive(1s, "enp1s0", bytes(testing::kCiscoFrame));
  bed.sockets.break_at.emplace(5s, Error{ErrorKind::os, "listening for LLDP: poll: boom", EIO});
  auto heard = HeardLldpNeighbors::listen(bed.sockets, bed.clock, {"enp1s0", "enp2s0"}, 30s);
  EXPECT_EQ(bed.elapsed(), 5s);
  EXPECT_TRUE(heard->neighbors_of("enp1s0"));
  auto two = heard->neighbors_of("enp2s0");
  ASSERT_FALSE(two);
  EXPECT_THAT(two.error().message, HasSubstr("boom"));
}

TEST(AfPacketLldpSockets, AnUnknownNetdevIsNamed) {
  AfPacketLldpSockets sockets;
  auto opened = sockets.open("vfhook-none0");
  ASSERT_FALSE(opened);
  EXPECT_THAT(opened.error().message, HasSubstr("vfhook-none0: no such netdev"));
}

// The real sockets on the loopback: a frame sent to the LLDP group on lo comes back to the
// listener as a received frame (the sent copy, PACKET_OUTGOING, is dropped), so exactly one
// frame is heard. Needs CAP_NET_RAW; skipped without it.
TEST(AfPacketLldpSockets, HearsAnLldpFrameOnTheLoopbackOnce) {
  AfPacketLldpSockets sockets;
  auto opened = sockets.open("lo");
  if (!opened) {
    ASSERT_THAT(opened.error().message, HasSubstr("CAP_NET_RAW"));
    GTEST_SKIP() << opened.error().message;
  }
  Fd sender(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(sender);
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(kLldpEthertype);
  to.sll_ifindex = static_cast<int>(if_nametoindex("lo"));
  to.sll_halen = 6;
  const Bytes frame = bytes(testing::kCiscoFrame);
  std::copy(frame.begin(), frame.begin() + 6, to.sll_addr);
  ASSERT_EQ(sendto(sender.get(), frame.data(), frame.size(), 0,
                   reinterpret_cast<const sockaddr*>(&to), sizeof to),
            static_cast<ssize_t>(frame.size()));
  std::vector<CapturedFrame> received;
  for (int i = 0; i < 20; ++i) {
    auto got = sockets.receive(50ms);
    ASSERT_TRUE(got) << got.error().message;
    if (*got) received.push_back(std::move(**got));
  }
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].netdev, "lo");
  EXPECT_EQ(received[0].bytes, frame);
}

}  // namespace
}  // namespace vfhook
