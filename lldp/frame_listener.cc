#include "lldp/frame_listener.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "util/printable.h"

namespace vfhook {
namespace {

// The nearest-bridge group address LLDP is sent to (802.1AB-2016 7.1).
constexpr uint8_t kNearestBridge[6] = {0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e};
// Room for a jumbo frame: an LLDPDU is under 1500 bytes, but a longer frame must not be cut
// into something that parses.
constexpr size_t kMaxFrame = 9216;

bool same_neighbor(const LldpNeighbor& a, const LldpNeighbor& b) {
  return a.chassis == b.chassis && a.port == b.port;
}

}  // namespace

Status AfPacketLldpSockets::open(const std::string& netdev) {
  const std::string where = "listening for LLDP on " + printable(netdev);
  const unsigned ifindex = if_nametoindex(netdev.c_str());
  if (ifindex == 0) return fail(errno_error(errno, where + ": no such netdev"));
  // Protocol 0 until bind: the socket queues nothing from other netdevs in between.
  Fd fd(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) {
    const int err = errno;
    Error error = errno_error(err, where + ": socket(AF_PACKET)");
    if (err == EPERM || err == EACCES)
      error.message += ": raw sockets need CAP_NET_RAW (run vfctl as root)";
    return fail(std::move(error));
  }
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(kLldpEthertype);
  address.sll_ifindex = static_cast<int>(ifindex);
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
    return fail(errno_error(errno, where + ": bind"));
  packet_mreq membership{};
  membership.mr_ifindex = static_cast<int>(ifindex);
  membership.mr_type = PACKET_MR_MULTICAST;
  membership.mr_alen = sizeof kNearestBridge;
  std::copy(std::begin(kNearestBridge), std::end(kNearestBridge), membership.mr_address);
  if (setsockopt(fd.get(), SOL_PACKET, PACKET_ADD_MEMBERSHIP, &membership, sizeof membership) != 0)
    return fail(errno_error(errno, where + ": join 01:80:c2:00:00:0e"));
  sockets_.push_back(Socket{netdev, std::move(fd)});
  return ok();
}

Result<std::optional<CapturedFrame>> AfPacketLldpSockets::receive(Clock::Duration timeout) {
  if (sockets_.empty()) return std::optional<CapturedFrame>{};
  std::vector<pollfd> polled;
  for (const Socket& socket : sockets_) polled.push_back(pollfd{socket.fd.get(), POLLIN, 0});
  // Rounded up, so a wait of 0.4 ms does not become a busy loop of poll(0).
  const auto ms =
      std::chrono::ceil<std::chrono::milliseconds>(std::max(timeout, Clock::Duration::zero()));
  const int ready = poll(polled.data(), polled.size(),
                         static_cast<int>(std::min<int64_t>(ms.count(), INT32_MAX)));
  if (ready < 0) {
    if (errno == EINTR) return std::optional<CapturedFrame>{};
    return fail(errno_error(errno, "listening for LLDP: poll"));
  }
  for (size_t n = 0; n < sockets_.size() && ready > 0; ++n) {
    const size_t i = (next_ + n) % sockets_.size();
    if (!(polled[i].revents & (POLLIN | POLLERR))) continue;
    next_ = i + 1;
    CapturedFrame frame{sockets_[i].netdev, std::vector<uint8_t>(kMaxFrame + 1)};
    sockaddr_ll from{};
    socklen_t from_length = sizeof from;
    const ssize_t got =
        recvfrom(sockets_[i].fd.get(), frame.bytes.data(), frame.bytes.size(),
                 MSG_DONTWAIT | MSG_TRUNC, reinterpret_cast<sockaddr*>(&from), &from_length);
    if (got < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return std::optional<CapturedFrame>{};
      return fail(errno_error(errno, "listening for LLDP on " + printable(sockets_[i].netdev)));
    }
    // Our own LLDP (an lldpd on this host) is looped back to packet sockets: not a neighbour.
    // A frame larger than the buffer is dropped whole rather than parsed cut.
    if (from.sll_pkttype == PACKET_OUTGOING || static_cast<size_t>(got) > kMaxFrame)
      return std::optional<CapturedFrame>{};
    frame.bytes.resize(static_cast<size_t>(got));
    return std::optional<CapturedFrame>(std::move(frame));
  }
  return std::optional<CapturedFrame>{};
}

std::unique_ptr<HeardLldpNeighbors> HeardLldpNeighbors::listen(
    LldpFrameSockets& sockets, Clock& clock, const std::vector<std::string>& netdevs,
    Clock::Duration duration) {
  auto heard = std::unique_ptr<HeardLldpNeighbors>(new HeardLldpNeighbors());
  int listening = 0;
  for (const std::string& netdev : netdevs) {
    if (heard->by_netdev_.count(netdev)) continue;
    Heard& entry = heard->by_netdev_[netdev];
    if (auto opened = sockets.open(netdev); !opened) {
      entry.error = opened.error();
    } else {
      ++listening;
    }
  }
  auto everyone_heard = [&] {
    return std::all_of(heard->by_netdev_.begin(), heard->by_netdev_.end(), [](const auto& entry) {
      return entry.second.error || !entry.second.neighbors.empty();
    });
  };
  const Clock::TimePoint deadline = clock.now() + duration;
  while (listening > 0 && !everyone_heard()) {
    const Clock::TimePoint now = clock.now();
    if (now >= deadline) break;
    auto frame = sockets.receive(deadline - now);
    if (!frame) {
      // The sockets are broken: every netdev that heard nothing says why.
      for (auto& [netdev, entry] : heard->by_netdev_)
        if (!entry.error && entry.neighbors.empty()) entry.error = frame.error();
      break;
    }
    if (*frame) heard->take(**frame);
  }
  return heard;
}

void HeardLldpNeighbors::take(const CapturedFrame& frame) {
  const auto entry = by_netdev_.find(frame.netdev);
  auto neighbor = parse_lldp_frame(frame.bytes);
  if (entry == by_netdev_.end() || !neighbor) {
    ++frames_refused_;
    return;
  }
  ++frames_heard_;
  std::vector<LldpNeighbor>& neighbors = entry->second.neighbors;
  auto known = std::find_if(neighbors.begin(), neighbors.end(),
                            [&](const LldpNeighbor& n) { return same_neighbor(n, *neighbor); });
  if (neighbor->ttl_seconds == 0) {
    if (known != neighbors.end()) neighbors.erase(known);
  } else if (known != neighbors.end()) {
    *known = std::move(*neighbor);
  } else {
    neighbors.push_back(std::move(*neighbor));
  }
}

Result<std::vector<LldpNeighbor>> HeardLldpNeighbors::neighbors_of(const std::string& netdev) {
  const auto entry = by_netdev_.find(netdev);
  if (entry == by_netdev_.end())
    return fail(ErrorKind::not_found, "vfctl did not listen for LLDP on " + printable(netdev));
  if (entry->second.error && entry->second.neighbors.empty()) return fail(*entry->second.error);
  return entry->second.neighbors;
}

}  // namespace vfhook
