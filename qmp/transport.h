// QmpTransport: the byte stream under a QMP client, the one place qmp/ reaches the OS.
//
// UnixSocketTransport is the real one: a connected AF_UNIX stream socket (QEMU's
// `-qmp unix:PATH,server`), nonblocking, every wait a poll() bounded by a deadline read on the
// Clock it was given, EINTR retried, and no SIGPIPE (send with MSG_NOSIGNAL). Tests use it
// against testing/scripted_qmp_server.h and an in-memory transport from testing/ for
// deadlines on a FakeClock.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "util/clock.h"
#include "util/fd.h"
#include "util/result.h"

namespace vfhook {

class QmpTransport {
 public:
  virtual ~QmpTransport() = default;

  // Sends every byte of `bytes` or fails: timeout when the peer does not take them before
  // `deadline`, os on a socket error (a peer that closed gives EPIPE, not a signal). After a
  // failure some of the bytes may have been sent.
  virtual Status send_all(std::string_view bytes, Clock::TimePoint deadline) = 0;

  // Waits until the peer sends something, then stores up to buffer.size() bytes in `buffer`
  // and returns how many (at least 1); returns 0 when the peer closed the stream. Fails with
  // timeout when nothing arrives before `deadline` (a deadline already past still takes what
  // is already there), os on a socket error.
  virtual Result<size_t> receive_some(std::span<char> buffer, Clock::TimePoint deadline) = 0;
};

// Who is at the other end of a unix socket, as the kernel recorded it (SO_PEERCRED): for a
// socket connected to a listener, the process that called listen() (QEMU), with its user and
// group at that time. pid is 0 when that process is in a pid namespace this one cannot see.
struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

class UnixSocketTransport final : public QmpTransport {
 public:
  // Connects to the QMP socket at `socket_path`. not_found when nothing exists at the path,
  // os when the connection is refused (no QEMU listening) or fails otherwise, invalid_input
  // for a path longer than a socket address holds, timeout when QEMU does not accept before
  // `deadline`.
  static Result<std::unique_ptr<UnixSocketTransport>> connect(const std::string& socket_path,
                                                              Clock& clock,
                                                              Clock::TimePoint deadline);
  // Takes over a connected stream socket (one end of a socketpair(), a socket a caller
  // connected itself) and makes it nonblocking. `peer` names the other end in errors.
  static Result<std::unique_ptr<UnixSocketTransport>> adopt(Fd socket, std::string peer,
                                                            Clock& clock);

  Status send_all(std::string_view bytes, Clock::TimePoint deadline) override;
  Result<size_t> receive_some(std::span<char> buffer, Clock::TimePoint deadline) override;

  // The peer's credentials (getsockopt SO_PEERCRED); os when the kernel does not give them.
  [[nodiscard]] Result<PeerCredentials> peer_credentials() const;

 private:
  UnixSocketTransport(Fd socket, std::string peer, Clock& clock)
      : socket_(std::move(socket)), peer_(std::move(peer)), clock_(&clock) {}
  // Polls for `events` until `deadline`: true when ready, false at the deadline.
  Result<bool> wait_until_ready(short events, Clock::TimePoint deadline);

  Fd socket_;
  std::string peer_;
  Clock* clock_;
};

}  // namespace vfhook
