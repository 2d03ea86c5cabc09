#include "qmp/client.h"

#include <array>
#include <cstdint>
#include <cstdio>
#include <utility>

#include "util/printable.h"

namespace vfhook {
namespace {

constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kQuoteBytes = 200;  // how much of a bad message an error quotes

std::string quote(json_object* message) {
  return printable(json_text(message), kQuoteBytes);
}

bool has_member(json_object* message, const char* key) {
  return json_object_object_get_ex(message, key, nullptr);
}

}  // namespace

std::string format_seconds(Clock::Duration duration) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g s", std::chrono::duration<double>(duration).count());
  return text;
}

ErrorKind qmp_error_kind(std::string_view error_class) {
  if (error_class == "DeviceNotFound" || error_class == "CommandNotFound") {
    return ErrorKind::not_found;
  }
  if (error_class == "KVMMissingCap") return ErrorKind::os;
  return ErrorKind::conflict;
}

QmpClient::QmpClient(std::unique_ptr<QmpTransport> transport, std::string peer, Clock& clock)
    : transport_(std::move(transport)), peer_(std::move(peer)), clock_(&clock) {}

QmpClient::~QmpClient() = default;

Result<QmpClient> QmpClient::connect(const std::string& socket_path, Clock& clock,
                                     Clock::Duration timeout) {
  Clock::TimePoint deadline = clock.now() + timeout;
  VF_ASSIGN(transport, UnixSocketTransport::connect(socket_path, clock, deadline));
  return start(std::move(transport), socket_path, clock, deadline - clock.now());
}

Result<QmpClient> QmpClient::start(std::unique_ptr<QmpTransport> transport, std::string peer,
                                   Clock& clock, Clock::Duration timeout) {
  QmpClient client(std::move(transport), std::move(peer), clock);
  Wait greeting{"QMP greeting", clock.now() + timeout, timeout};
  VF_TRY(client.read_greeting(greeting));
  VF_ASSIGN(reply, client.execute("qmp_capabilities", nullptr, greeting.deadline - clock.now()));
  if (!json_object_is_type(reply.get(), json_type_object)) {
    return fail(ErrorKind::invalid_input,
                "QMP " + client.peer_ + ": qmp_capabilities returned " +
                    std::string(json_type_phrase(json_object_get_type(reply.get()))) +
                    ", not an object");
  }
  return client;
}

Status QmpClient::read_greeting(const Wait& wait) {
  auto message = next_message(wait);
  if (!message) {
    Error error = message.error();
    // QEMU serves one monitor client at a time: the next one is accepted by the kernel but
    // gets no greeting until the first leaves.
    if (error.kind == ErrorKind::timeout) {
      error.message +=
          " (QEMU's monitor serves one client at a time: is another one, such "
          "as libvirt, connected to it?)";
    }
    return fail(std::move(error));
  }
  std::string where = "QMP " + peer_ + ": greeting";
  json_object* qmp = nullptr;
  if (!json_object_object_get_ex(message->get(), "QMP", &qmp)) {
    return break_connection(
        Error{ErrorKind::invalid_input,
              where + ": expected {\"QMP\": ...} first, got " + quote(message->get()), 0});
  }
  VF_ASSIGN(body, json_member(message->get(), "QMP", json_type_object, where, true));
  VF_TRY(json_member(body, "capabilities", json_type_array, where + ".QMP", true));
  VF_ASSIGN(version, json_member(body, "version", json_type_object, where + ".QMP", false));
  if (version) {
    std::string version_where = where + ".QMP.version";
    VF_ASSIGN(qemu, json_member(version, "qemu", json_type_object, version_where, true));
    std::string qemu_where = version_where + ".qemu";
    VF_ASSIGN(major, json_int_member(qemu, "major", qemu_where, 0, INT32_MAX));
    VF_ASSIGN(minor, json_int_member(qemu, "minor", qemu_where, 0, INT32_MAX));
    VF_ASSIGN(micro, json_int_member(qemu, "micro", qemu_where, 0, INT32_MAX));
    version_ = QemuVersion{major, minor, micro, ""};
    VF_ASSIGN(package, json_member(version, "package", json_type_string, version_where, false));
    if (package) version_.package = json_object_get_string(package);
  }
  return ok();
}

tl::unexpected<Error> QmpClient::break_connection(Error error) {
  broken_ = error;
  broken_reported_ = true;
  return fail(std::move(error));
}

Result<JsonPtr> QmpClient::next_message(const Wait& wait) {
  if (read_buffer_.empty()) read_buffer_.resize(kReadChunk);
  for (;;) {
    if (!unread_messages_.empty()) {
      JsonPtr message = std::move(unread_messages_.front());
      unread_messages_.pop_front();
      return message;
    }
    if (broken_) {
      // The first time, the failure itself; then why the connection is unusable.
      if (!broken_reported_) {
        broken_reported_ = true;
        return fail(*broken_);
      }
      return fail(broken_->kind,
                  "the QMP connection to " + peer_ + " is no longer usable: " + broken_->message);
    }
    auto received = transport_->receive_some(read_buffer_, wait.deadline);
    if (!received) {
      Error error = received.error();
      if (error.kind == ErrorKind::timeout) {
        return fail(ErrorKind::timeout, "QMP " + peer_ + ": no " + wait.what + " within " +
                                            format_seconds(wait.timeout));
      }
      return break_connection(
          error.with_context("QMP " + peer_ + ": waiting for the " + wait.what));
    }
    if (*received == 0) {
      return break_connection(
          Error{ErrorKind::os,
                "QEMU closed the QMP connection " + peer_ +
                    (reader_.inside_message() ? " in the middle of a message" : "") +
                    " while waiting for the " + wait.what,
                0});
    }
    auto fed = reader_.feed(std::string_view(read_buffer_.data(), *received), unread_messages_);
    // Messages completed before the garbage are still handled; the failure is met (and
    // reported) when they run out.
    if (!fed) {
      broken_ = fed.error().with_context("QMP " + peer_ + ": waiting for the " + wait.what);
      broken_reported_ = false;
    }
  }
}

Result<QmpEvent> QmpClient::parse_event(json_object* message) {
  std::string where = "QMP " + peer_ + ": event";
  QmpEvent event;
  VF_ASSIGN(name, json_string_member(message, "event", where));
  event.name = std::move(name);
  where += " " + printable(event.name);
  VF_ASSIGN(data, json_member(message, "data", json_type_object, where, false));
  event.data = data ? json_ref(data) : JsonPtr(json_object_new_object());
  VF_ASSIGN(timestamp, json_member(message, "timestamp", json_type_object, where, false));
  if (timestamp) {
    VF_ASSIGN(seconds, json_int_member(timestamp, "seconds", where + ".timestamp", -1, INT64_MAX));
    VF_ASSIGN(microseconds,
              json_int_member(timestamp, "microseconds", where + ".timestamp", -1, 999999));
    event.seconds = seconds;
    event.microseconds = microseconds;
  }
  return event;
}

void QmpClient::queue_event(QmpEvent event) {
  events_.push_back(std::move(event));
  // A guest can make QEMU send events without end (RTC_CHANGE, BALLOON_CHANGE): the queue
  // keeps the newest.
  while (events_.size() > kMaxQueuedEvents) {
    events_.pop_front();
    ++dropped_events_;
  }
}

Result<QmpResponse> QmpClient::execute_raw(std::string_view command, JsonPtr arguments,
                                           Clock::Duration timeout) {
  Wait wait{"reply to " + printable(command), clock_->now() + timeout, timeout};
  std::string where = "QMP " + peer_ + ": " + printable(command);
  if (broken_ && !broken_reported_) {
    broken_reported_ = true;
    return fail(*broken_);
  }
  if (broken_) {
    return fail(broken_->kind, "QMP " + peer_ + ": cannot run " + printable(command) +
                                   ": the connection is no longer usable: " + broken_->message);
  }
  if (arguments && !json_object_is_type(arguments.get(), json_type_object)) {
    return fail(ErrorKind::internal, where + ": arguments must be a JSON object");
  }
  const int64_t id = next_id_++;
  JsonPtr request(json_object_new_object());
  json_object_object_add(
      request.get(), "execute",
      json_object_new_string_len(command.data(), static_cast<int>(command.size())));
  if (arguments) json_object_object_add(request.get(), "arguments", arguments.release());
  json_object_object_add(request.get(), "id", json_object_new_int64(id));
  std::string line = json_text(request.get());
  line += "\r\n";
  if (auto sent = transport_->send_all(line, wait.deadline); !sent) {
    // Part of the command may be in QEMU's buffer: the stream cannot be trusted any more.
    return break_connection(sent.error().with_context(where + ": sending the command"));
  }

  for (;;) {
    VF_ASSIGN(message, next_message(wait));
    json_object* object = message.get();
    if (has_member(object, "event")) {
      auto event = parse_event(object);
      if (!event) return break_connection(event.error());
      queue_event(std::move(*event));
      continue;
    }
    const bool is_return = has_member(object, "return");
    const bool is_error = has_member(object, "error");
    if (!is_return && !is_error) {
      return break_connection(
          Error{ErrorKind::invalid_input,
                where + ": a message that is neither a reply nor an event: " + quote(object), 0});
    }
    json_object* reply_id = nullptr;
    if (!json_object_object_get_ex(object, "id", &reply_id) ||
        !json_object_is_type(reply_id, json_type_int) || json_object_get_int64(reply_id) != id) {
      ++dropped_replies_;
      continue;
    }
    if (is_return && is_error) {
      return fail(ErrorKind::invalid_input,
                  where + ": a reply with both \"return\" and \"error\": " + quote(object));
    }
    QmpResponse response;
    if (is_return) {
      json_object* value = nullptr;
      json_object_object_get_ex(object, "return", &value);
      response.value = json_ref(value);
      return response;
    }
    VF_ASSIGN(error, json_member(object, "error", json_type_object, where, true));
    VF_ASSIGN(error_class, json_string_member(error, "class", where + ": error"));
    VF_ASSIGN(desc, json_string_member(error, "desc", where + ": error"));
    response.error = QmpErrorReply{std::move(error_class), std::move(desc)};
    return response;
  }
}

Result<JsonPtr> QmpClient::execute(std::string_view command, JsonPtr arguments,
                                   Clock::Duration timeout) {
  VF_ASSIGN(response, execute_raw(command, std::move(arguments), timeout));
  if (response.error) {
    return fail(qmp_error_kind(response.error->error_class),
                "QMP " + peer_ + ": QEMU refused " + printable(command) + ": " +
                    printable(response.error->error_class) + ": " +
                    printable(response.error->desc, 1000));
  }
  return std::move(response.value);
}

void QmpClient::discard_events(std::string_view name, const EventFilter& matches) {
  std::erase_if(events_, [&](const QmpEvent& event) {
    return event.name == name && (!matches || matches(event));
  });
}

Result<QmpEvent> QmpClient::wait_for_event(std::string_view name, const EventFilter& matches,
                                           Clock::Duration timeout) {
  auto wanted = [&](const QmpEvent& event) {
    return event.name == name && (!matches || matches(event));
  };
  for (auto it = events_.begin(); it != events_.end(); ++it) {
    if (wanted(*it)) {
      QmpEvent event = std::move(*it);
      events_.erase(it);
      return event;
    }
  }
  Wait wait{"matching " + printable(name) + " event", clock_->now() + timeout, timeout};
  for (;;) {
    VF_ASSIGN(message, next_message(wait));
    json_object* object = message.get();
    if (has_member(object, "event")) {
      auto event = parse_event(object);
      if (!event) return break_connection(event.error());
      if (wanted(*event)) return std::move(*event);
      queue_event(std::move(*event));
      continue;
    }
    if (has_member(object, "return") || has_member(object, "error")) {
      ++dropped_replies_;  // no command is waiting: a late reply to one that timed out
      continue;
    }
    return break_connection(
        Error{ErrorKind::invalid_input,
              "QMP " + peer_ + ": waiting for the " + wait.what +
                  ": a message that is neither a reply nor an event: " + quote(object),
              0});
  }
}

}  // namespace vfhook
