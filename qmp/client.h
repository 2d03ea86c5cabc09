// QmpClient: a QMP client for a QEMU that libvirt does not manage (vfhook talks to it
// directly; never to a libvirt-managed QEMU, whose monitor libvirt owns).
//
// Contract:
// - connect() reads the greeting and negotiates capabilities (`qmp_capabilities`, no
//   out-of-band): until then QEMU answers every other command with CommandNotFound and sends
//   no events. QEMU's monitor serves one client at a time; a second client gets no greeting.
// - execute() sends one command with the next integer id and returns the reply carrying
//   that id. Events that arrive meanwhile are queued (at most kMaxQueuedEvents; beyond that
//   the oldest go and dropped_events() counts them); replies with any other id, or none, are
//   dropped (a command that timed out may still be answered later).
// - Every wait ends at a deadline read on the Clock: timeout names what was awaited.
// - The stream is untrusted (qmp/message_reader.h): protocol garbage is invalid_input, a
//   closed connection or a socket error is os. Either leaves the client broken: every later
//   call fails at once with an error that says why. A timeout does not break it.
// - A QMP error reply becomes an Error whose message holds the command, the error class and
//   QEMU's description; its kind follows the class (qmp_error_kind()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qmp/json.h"
#include "qmp/message_reader.h"
#include "qmp/transport.h"
#include "util/clock.h"
#include "util/result.h"

namespace vfhook {

struct QemuVersion {
  int64_t major = 0;
  int64_t minor = 0;
  int64_t micro = 0;
  std::string package;  // distribution build string, may be empty
};

struct QmpEvent {
  std::string name;      // "DEVICE_DELETED"
  JsonPtr data;          // always an object: empty when QEMU sent no "data"
  int64_t seconds = -1;  // "timestamp", -1 when QEMU sent none
  int64_t microseconds = -1;
};

// QEMU's "error" member: {"class": "DeviceNotFound", "desc": "Device 'x' not found"}.
struct QmpErrorReply {
  std::string error_class;
  std::string desc;
};

// The answer to one command: the "return" value, or QEMU's error.
struct QmpResponse {
  JsonPtr value;  // "return" (any JSON type: the caller checks it); null when error is set
  std::optional<QmpErrorReply> error;
};

// The ErrorKind an error class maps to: DeviceNotFound and CommandNotFound -> not_found,
// DeviceNotActive -> conflict, KVMMissingCap -> os (the host lacks it), GenericError and
// any other class -> conflict (QEMU refused in its current state).
ErrorKind qmp_error_kind(std::string_view error_class);

class QmpClient {
 public:
  using EventFilter = std::function<bool(const QmpEvent&)>;

  static constexpr size_t kMaxQueuedEvents = 256;

  // Connects to QEMU's QMP unix socket and completes the handshake within `timeout`.
  static Result<QmpClient> connect(const std::string& socket_path, Clock& clock,
                                   Clock::Duration timeout);
  // The handshake over a transport already connected to QEMU; `peer` names it in errors.
  static Result<QmpClient> start(std::unique_ptr<QmpTransport> transport, std::string peer,
                                 Clock& clock, Clock::Duration timeout);

  QmpClient(QmpClient&&) = default;
  QmpClient& operator=(QmpClient&&) = default;
  ~QmpClient();

  // Runs `command` with `arguments` (an object, or null for none) and returns the reply,
  // an error reply included. Fails only when no reply came: timeout, closed, garbage.
  Result<QmpResponse> execute_raw(std::string_view command, JsonPtr arguments,
                                  Clock::Duration timeout);
  // As execute_raw, and an error reply becomes an Error:
  // "QEMU refused device_add: GenericError: <desc>".
  Result<JsonPtr> execute(std::string_view command, JsonPtr arguments, Clock::Duration timeout);

  // The first event named `name` that `matches` accepts (any, when `matches` is empty):
  // from the queue if one is there (it is removed), else the first to arrive before the
  // timeout. Events it passes over stay queued.
  Result<QmpEvent> wait_for_event(std::string_view name, const EventFilter& matches,
                                  Clock::Duration timeout);
  // Drops queued events named `name` that `matches` accepts (stale ones, before an action
  // whose own event the caller will wait for).
  void discard_events(std::string_view name, const EventFilter& matches);

  [[nodiscard]] const QemuVersion& qemu_version() const { return version_; }
  // The Clock every deadline of this client is read on.
  [[nodiscard]] Clock& clock() const { return *clock_; }
  [[nodiscard]] size_t queued_events() const { return events_.size(); }
  [[nodiscard]] size_t dropped_events() const { return dropped_events_; }
  [[nodiscard]] size_t dropped_replies() const { return dropped_replies_; }

 private:
  // What a wait is for, to name it in errors: "reply to device_add", "QMP greeting".
  struct Wait {
    std::string what;
    Clock::TimePoint deadline;
    Clock::Duration timeout;
  };

  QmpClient(std::unique_ptr<QmpTransport> transport, std::string peer, Clock& clock);

  Status read_greeting(const Wait& wait);
  Result<JsonPtr> next_message(const Wait& wait);
  // Marks the connection unusable with `error` and returns it.
  tl::unexpected<Error> break_connection(Error error);
  void queue_event(QmpEvent event);
  Result<QmpEvent> parse_event(json_object* message);

  std::unique_ptr<QmpTransport> transport_;
  // Where received bytes land before the reader frames them: one buffer per client, not a
  // 64 KiB array on the stack of every read (costly under ASan's fake stack, and a client may
  // read many small chunks).
  std::vector<char> read_buffer_;
  std::string peer_;
  Clock* clock_;
  QmpMessageReader reader_;
  std::deque<JsonPtr> unread_messages_;  // parsed, not yet looked at
  std::deque<QmpEvent> events_;
  std::optional<Error> broken_;
  bool broken_reported_ = false;  // whether a call has returned broken_ itself yet
  QemuVersion version_;
  int64_t next_id_ = 1;
  size_t dropped_events_ = 0;
  size_t dropped_replies_ = 0;
};

// "5 s", "0.25 s": a duration as messages show it.
std::string format_seconds(Clock::Duration duration);

}  // namespace vfhook
