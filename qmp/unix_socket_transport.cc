#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>

#include "qmp/transport.h"

namespace vfhook {
namespace {

Status set_nonblocking(int fd, const std::string& peer) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return fail(errno_error(errno, "make the QMP socket " + peer + " nonblocking"));
  }
  return ok();
}

// Milliseconds for poll() until `deadline`, rounded up so a poll never returns just before
// it; 0 when it has passed.
int poll_timeout_ms(Clock& clock, Clock::TimePoint deadline) {
  Clock::Duration left = deadline - clock.now();
  if (left <= Clock::Duration::zero()) return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::min<decltype(ms)>(ms, INT_MAX));
}

}  // namespace

Result<std::unique_ptr<UnixSocketTransport>> UnixSocketTransport::connect(
    const std::string& socket_path, Clock& clock, Clock::TimePoint deadline) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof(address.sun_path) ||
      socket_path.find('\0') != std::string::npos) {
    return fail(ErrorKind::invalid_input,
                "QMP socket path '" + socket_path.substr(0, 200) +
                    "' is empty, holds a NUL or is longer than a unix socket address allows (" +
                    std::to_string(sizeof(address.sun_path) - 1) + " bytes)");
  }
  std::memcpy(address.sun_path, socket_path.data(), socket_path.size());

  Fd socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!socket) return fail(errno_error(errno, "create a socket for QMP " + socket_path));
  auto transport = std::unique_ptr<UnixSocketTransport>(
      new UnixSocketTransport(std::move(socket), socket_path, clock));
  // A nonblocking AF_UNIX connect fails with EAGAIN while the listener's backlog is full
  // (QEMU has not accepted earlier clients yet): retry until the deadline.
  for (;;) {
    if (::connect(transport->socket_.get(), reinterpret_cast<const sockaddr*>(&address),
                  sizeof(address)) == 0) {
      return transport;
    }
    int err = errno;
    if (err == EINTR) continue;
    if (err == EINPROGRESS) {
      VF_ASSIGN(ready, transport->wait_until_ready(POLLOUT, deadline));
      if (!ready) break;
      int so_error = 0;
      socklen_t length = sizeof(so_error);
      if (::getsockopt(transport->socket_.get(), SOL_SOCKET, SO_ERROR, &so_error, &length) < 0) {
        return fail(errno_error(errno, "connect to QMP socket " + socket_path));
      }
      if (so_error == 0) return transport;
      err = so_error;
    }
    if (err == EAGAIN && clock.now() < deadline) {
      clock.sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    if (err == EAGAIN) break;
    Error error = errno_error(err, "connect to QMP socket " + socket_path);
    if (err == ENOENT) error.kind = ErrorKind::not_found;
    return fail(std::move(error));
  }
  return fail(ErrorKind::timeout,
              "QMP socket " + socket_path + " did not accept a connection before the deadline");
}

Result<std::unique_ptr<UnixSocketTransport>> UnixSocketTransport::adopt(Fd socket, std::string peer,
                                                                        Clock& clock) {
  if (!socket) return fail(ErrorKind::internal, "adopt: no socket for QMP " + peer);
  VF_TRY(set_nonblocking(socket.get(), peer));
  return std::unique_ptr<UnixSocketTransport>(
      new UnixSocketTransport(std::move(socket), std::move(peer), clock));
}

Result<PeerCredentials> UnixSocketTransport::peer_credentials() const {
  ucred credentials{};
  socklen_t length = sizeof(credentials);
  if (::getsockopt(socket_.get(), SOL_SOCKET, SO_PEERCRED, &credentials, &length) < 0)
    return fail(errno_error(errno, "read the peer credentials of QMP socket " + peer_));
  if (length != sizeof(credentials))
    return fail(ErrorKind::os, "QMP socket " + peer_ + ": SO_PEERCRED returned " +
                                   std::to_string(length) + " bytes");
  return PeerCredentials{credentials.pid, credentials.uid, credentials.gid};
}

Result<bool> UnixSocketTransport::wait_until_ready(short events, Clock::TimePoint deadline) {
  for (;;) {
    pollfd entry{socket_.get(), events, 0};
    int timeout_ms = poll_timeout_ms(*clock_, deadline);
    int n = ::poll(&entry, 1, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno_error(errno, "wait for QMP socket " + peer_));
    }
    // POLLHUP and POLLERR count as ready: the read or write that follows reports them.
    if (n > 0) return true;
    // The timeout was rounded up to whole milliseconds, so the deadline has passed (and a
    // FakeClock, which poll() cannot see, cannot make this loop forever).
    return false;
  }
}

Status UnixSocketTransport::send_all(std::string_view bytes, Clock::TimePoint deadline) {
  while (!bytes.empty()) {
    ssize_t n = ::send(socket_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      VF_ASSIGN(ready, wait_until_ready(POLLOUT, deadline));
      if (!ready) {
        return fail(ErrorKind::timeout,
                    "QMP socket " + peer_ + " took no more data before the deadline");
      }
      continue;
    }
    return fail(errno_error(n < 0 ? errno : EIO, "send to QMP socket " + peer_));
  }
  return ok();
}

Result<size_t> UnixSocketTransport::receive_some(std::span<char> buffer,
                                                 Clock::TimePoint deadline) {
  if (buffer.empty()) return fail(ErrorKind::internal, "receive_some: empty buffer");
  for (;;) {
    ssize_t n = ::recv(socket_.get(), buffer.data(), buffer.size(), 0);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return fail(errno_error(errno, "receive from QMP socket " + peer_));
    }
    VF_ASSIGN(ready, wait_until_ready(POLLIN, deadline));
    if (!ready) {
      return fail(ErrorKind::timeout,
                  "nothing arrived on QMP socket " + peer_ + " before the deadline");
    }
  }
}

}  // namespace vfhook
