// Fuzz target: an Ethernet frame heard on a PF (lldp/lldpdu, lldp/frame_listener), the input
// being the whole frame as an AF_PACKET socket returns it.
//
// Invariants:
// - parse_lldp_frame is parse_lldpdu of the bytes after a 0x88cc Ethernet header, and refuses
//   anything else; a refusal is invalid_input with a printable message.
// - Every string of an accepted neighbour is printable ASCII and bounded; at most
//   kMaxManagementAddresses addresses; a Port VLAN ID is 1..65535 (0 means none).
// - split_lldp_tlvs and encode_lldp_tlvs are inverses: the TLVs re-encoded are the LLDPDU up to
//   and including its End TLV (one is added when it had none), split again they are the same,
//   and parsed again the same neighbour.
// - An accepted LLDPDU cut inside its mandatory TLVs is refused.
// - The listener keeps exactly the parsed neighbour of a frame with a TTL, none for a TTL of 0,
//   and counts a refused frame as refused; it stops listening at once when it heard one.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "fuzz/stepping_clock.h"
#include "lldp/frame_listener.h"
#include "lldp/lldpdu.h"

namespace vfhook {
namespace {

using namespace std::chrono_literals;

// Delivers one frame on "pf0" after a second, then nothing.
class OneFrameSockets final : public LldpFrameSockets {
 public:
  OneFrameSockets(std::span<const uint8_t> frame, Clock& clock)
      : frame_(frame.begin(), frame.end()), clock_(&clock) {}
  Status open(const std::string&) override { return ok(); }
  Result<std::optional<CapturedFrame>> receive(Clock::Duration timeout) override {
    ++receives;
    if (delivered_) {
      clock_->sleep_for(timeout);
      return std::optional<CapturedFrame>{};
    }
    delivered_ = true;
    clock_->sleep_for(1s);
    return std::optional<CapturedFrame>(CapturedFrame{"pf0", frame_});
  }
  int receives = 0;

 private:
  std::vector<uint8_t> frame_;
  Clock* clock_;
  bool delivered_ = false;
};

bool is_printable(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](char ch) {
    return static_cast<unsigned char>(ch) >= 0x20 && static_cast<unsigned char>(ch) < 0x7f;
  });
}

// printable() of at most 511 bytes: 4 characters a byte, and "..." (never reached).
constexpr size_t kMaxShown = 511 * 4 + 3;

void check_text(const std::string& text, const char* what) {
  FUZZ_CHECK(is_printable(text), "%s is not printable", what);
  FUZZ_CHECK(text.size() <= kMaxShown, "%s of %zu characters", what, text.size());
}

void check_neighbor(const LldpNeighbor& n) {
  check_text(n.chassis.value, "chassis ID");
  check_text(n.port.value, "port ID");
  FUZZ_CHECK(!n.chassis.value.empty() && !n.port.value.empty(), "an empty chassis or port ID");
  check_text(n.port_description, "port description");
  check_text(n.system_name, "system name");
  check_text(n.system_description, "system description");
  FUZZ_CHECK(n.management_addresses.size() <= LldpNeighbor::kMaxManagementAddresses,
             "%zu management addresses", n.management_addresses.size());
  for (const std::string& address : n.management_addresses) check_text(address, "address");
  FUZZ_CHECK(!n.port_vlan_id || *n.port_vlan_id != 0, "a Port VLAN ID of 0");
  FUZZ_CHECK(n.skipped_tlvs >= 0, "skipped %d", n.skipped_tlvs);
  check_text(neighbor_switch_text(n), "switch text");
  check_text(neighbor_port_text(n), "port text");
}

void check_refusal(const Error& error, const char* what) {
  FUZZ_CHECK(error.kind == ErrorKind::invalid_input, "%s: kind %d: %s", what,
             static_cast<int>(error.kind), error.message.c_str());
  FUZZ_CHECK(!error.message.empty() && is_printable(error.message), "%s: message '%s'", what,
             error.message.c_str());
}

std::vector<uint8_t> bytes_of(std::span<const uint8_t> span) {
  return {span.begin(), span.end()};
}

}  // namespace
}  // namespace vfhook

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vfhook;
  const std::span<const uint8_t> frame(data, size);
  const bool is_lldp = size >= 14 && data[12] == 0x88 && data[13] == 0xcc;
  const std::span<const uint8_t> lldpdu = is_lldp ? frame.subspan(14) : frame;

  auto from_frame = parse_lldp_frame(frame);
  if (!is_lldp) {
    FUZZ_CHECK(!from_frame, "a frame without the LLDP ethertype was accepted");
    check_refusal(from_frame.error(), "parse_lldp_frame");
  } else {
    auto direct = parse_lldpdu(lldpdu);
    FUZZ_CHECK(bool(from_frame) == bool(direct), "frame %d, LLDPDU %d", int(bool(from_frame)),
               int(bool(direct)));
    if (from_frame) FUZZ_CHECK(*from_frame == *direct, "frame and LLDPDU parse differently");
  }
  auto neighbor = parse_lldpdu(lldpdu);
  if (neighbor) {
    check_neighbor(*neighbor);
  } else {
    check_refusal(neighbor.error(), "parse_lldpdu");
  }

  auto tlvs = split_lldp_tlvs(lldpdu);
  if (tlvs) {
    const std::vector<uint8_t> encoded = encode_lldp_tlvs(*tlvs);
    const size_t body = encoded.size() - 2;  // without the End TLV encode adds
    FUZZ_CHECK(body <= lldpdu.size() &&
                   std::equal(encoded.begin(), encoded.begin() + static_cast<ptrdiff_t>(body),
                              lldpdu.begin()),
               "re-encoded TLVs differ from the LLDPDU");
    auto again = split_lldp_tlvs(encoded);
    FUZZ_CHECK(again && again->size() == tlvs->size(), "re-split %zu TLVs, first %zu",
               again ? again->size() : 0, tlvs->size());
    for (size_t i = 0; i < tlvs->size(); ++i)
      FUZZ_CHECK((*again)[i].type == (*tlvs)[i].type &&
                     bytes_of((*again)[i].value) == bytes_of((*tlvs)[i].value),
                 "TLV %zu differs after a round trip", i);
    auto reparsed = parse_lldpdu(encoded);
    FUZZ_CHECK(bool(reparsed) == bool(neighbor), "re-encoded: accepted %d, first %d",
               int(bool(reparsed)), int(bool(neighbor)));
    if (neighbor) {
      FUZZ_CHECK(*reparsed == *neighbor, "re-encoded LLDPDU parses to another neighbour");
      // Cut inside the TTL TLV (the last mandatory one): refused.
      const size_t mandatory =
          6 + (*tlvs)[0].value.size() + (*tlvs)[1].value.size() + (*tlvs)[2].value.size();
      auto cut = parse_lldpdu(std::span(encoded).first(mandatory - 1));
      FUZZ_CHECK(!cut, "an LLDPDU cut inside its TTL TLV was accepted");
    }
  } else {
    FUZZ_CHECK(!neighbor, "parse_lldpdu accepted what split_lldp_tlvs refused");
  }

  SteppingClock clock;
  OneFrameSockets sockets(frame, clock);
  auto heard = HeardLldpNeighbors::listen(sockets, clock, {"pf0"}, 30s);
  auto kept = heard->neighbors_of("pf0");
  FUZZ_CHECK(bool(kept), "the listener failed: %s", kept.error().message.c_str());
  if (from_frame && from_frame->ttl_seconds > 0) {
    FUZZ_CHECK(kept->size() == 1 && (*kept)[0] == *from_frame, "kept %zu neighbours", kept->size());
    FUZZ_CHECK(sockets.receives == 1, "listened on after hearing a neighbour (%d receives)",
               sockets.receives);
  } else {
    FUZZ_CHECK(kept->empty(), "kept %zu neighbours of a frame without one", kept->size());
    FUZZ_CHECK(heard->frames_refused() == (from_frame ? 0 : 1), "refused %d",
               heard->frames_refused());
  }
  return 0;
}
