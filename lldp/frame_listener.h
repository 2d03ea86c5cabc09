// Hearing LLDP frames on the PFs themselves (`vfctl status --lldp-listen SECONDS`), for a host
// that runs no lldpd. A switch sends its LLDPDU every 30 s or so, so the operator chooses how
// long to listen; vfctl listens on every PF at once and stops early once each PF heard one.
//
// LldpFrameSockets is the OS side (AF_PACKET sockets; testing/ has a scripted fake);
// HeardLldpNeighbors listens through it on a Clock and answers from what it heard.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lldp/neighbors.h"
#include "util/clock.h"
#include "util/fd.h"

namespace vfhook {

struct CapturedFrame {
  std::string netdev;          // where it arrived
  std::vector<uint8_t> bytes;  // the whole Ethernet frame, header included
};

class LldpFrameSockets {
 public:
  virtual ~LldpFrameSockets() = default;
  // Starts receiving the LLDP frames (ethertype 0x88cc, to the nearest-bridge group address
  // 01:80:c2:00:00:0e or any address the netdev already takes) that arrive on `netdev`; never
  // the frames this host sends. Errors name the netdev and say what to do.
  virtual Status open(const std::string& netdev) = 0;
  // Waits at most `timeout` for one frame on any netdev opened so far; nullopt when none came
  // (or the wait was interrupted: the caller looks at its clock and asks again).
  virtual Result<std::optional<CapturedFrame>> receive(Clock::Duration timeout) = 0;
};

// One AF_PACKET socket per netdev: SOCK_RAW bound to the netdev's ifindex and to ETH_P_LLDP
// (so nothing else is ever queued), PACKET_ADD_MEMBERSHIP for 01:80:c2:00:00:0e (a NIC drops
// that group otherwise), frames the host sends (PACKET_OUTGOING) dropped. Needs CAP_NET_RAW.
class AfPacketLldpSockets final : public LldpFrameSockets {
 public:
  Status open(const std::string& netdev) override;
  Result<std::optional<CapturedFrame>> receive(Clock::Duration timeout) override;

 private:
  struct Socket {
    std::string netdev;
    Fd fd;
  };
  std::vector<Socket> sockets_;
  size_t next_ = 0;  // where the next receive starts looking: no netdev starves the others
};

class HeardLldpNeighbors final : public LldpNeighbors {
 public:
  // Opens `netdevs` on `sockets` and receives until every netdev that opened has heard a
  // neighbour or `duration` has passed on `clock`. Each valid LLDPDU replaces what the same
  // neighbour (chassis and port ID) said before; one with TTL 0 (a neighbour shutting down)
  // removes it. Frames that are not valid LLDP are counted and ignored.
  static std::unique_ptr<HeardLldpNeighbors> listen(LldpFrameSockets& sockets, Clock& clock,
                                                    const std::vector<std::string>& netdevs,
                                                    Clock::Duration duration);

  // The neighbours heard on `netdev` (none: nothing was heard in time), or why it could not
  // listen there (the open failed, or the receive that ended the listening did).
  Result<std::vector<LldpNeighbor>> neighbors_of(const std::string& netdev) override;

  [[nodiscard]] int frames_heard() const { return frames_heard_; }
  [[nodiscard]] int frames_refused() const { return frames_refused_; }

 private:
  struct Heard {
    std::optional<Error> error;
    std::vector<LldpNeighbor> neighbors;
  };
  void take(const CapturedFrame& frame);

  std::map<std::string, Heard> by_netdev_;
  int frames_heard_ = 0;
  int frames_refused_ = 0;
};

}  // namespace vfhook
