// Fuzz target: QEMU's side of a QMP connection (qmp/message_reader, qmp/client,
// qmp/commands), the input being every byte the server sends.
//
// Invariants:
// - The reader is blind to read boundaries: the stream fed whole, byte by byte and in
//   uneven chunks yields the same messages and the same verdict (refused or not).
// - Every message it hands out is a JSON object.
// - The client never fails with ErrorKind::internal, whatever the stream: a refusal is
//   invalid_input, a short or stalled stream os or timeout, a QMP error reply not_found,
//   conflict or os. Once broken, it stays broken.
// - Waits end: the stream runs out on a clock that only moves when the client sleeps.
// - A MIGRATION event's data (qmp/migration_status: the whole input, and each framed message)
//   is read as a status or refused as invalid_input, never anything else; a status read
//   reads the same again from its own spelling.
#include <json-c/json.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "fuzz/stepping_clock.h"
#include "qmp/client.h"
#include "qmp/commands.h"
#include "qmp/message_reader.h"
#include "qmp/migration_status.h"

namespace vfhook {
namespace {

using namespace std::chrono_literals;

// Serves the input in chunks of 1..97 bytes, then a timeout (a stalled QEMU).
class ChunkedTransport final : public QmpTransport {
 public:
  ChunkedTransport(std::string_view stream, Clock& clock) : stream_(stream), clock_(&clock) {}
  Status send_all(std::string_view, Clock::TimePoint) override { return ok(); }
  Result<size_t> receive_some(std::span<char> buffer, Clock::TimePoint deadline) override {
    if (stream_.empty()) {
      if (clock_->now() < deadline) clock_->sleep_for(deadline - clock_->now());
      return fail(ErrorKind::timeout, "fuzz: stream ran out");
    }
    size_t n = std::min({stream_.size(), buffer.size(), size_t{1} + (calls_++ * 31) % 97});
    std::memcpy(buffer.data(), stream_.data(), n);
    stream_.remove_prefix(n);
    return n;
  }

 private:
  std::string_view stream_;
  Clock* clock_;
  size_t calls_ = 0;
};

struct Framing {
  std::vector<std::string> messages;
  bool refused = false;
};

Framing frame(std::string_view stream, size_t chunk) {
  QmpMessageReader reader(4096);
  std::deque<JsonPtr> parsed;
  Framing result;
  while (!stream.empty() && !result.refused) {
    size_t n = std::min(chunk, stream.size());
    result.refused = !reader.feed(stream.substr(0, n), parsed);
    stream.remove_prefix(n);
  }
  for (const JsonPtr& message : parsed) {
    FUZZ_CHECK(json_object_is_type(message.get(), json_type_object), "a message that is %s",
               json_text(message.get()).c_str());
    result.messages.push_back(json_text(message.get()));
  }
  return result;
}

void check_error(const Error& error, const char* what) {
  FUZZ_CHECK(error.kind != ErrorKind::internal, "%s: internal error: %s", what,
             error.message.c_str());
  FUZZ_CHECK(!error.message.empty(), "%s: an error without a message", what);
}

void check_migration_event(std::string_view data) {
  auto status = parse_migration_event(data);
  if (!status) {
    FUZZ_CHECK(status.error().kind == ErrorKind::invalid_input, "MIGRATION data refused as %d",
               int(status.error().kind));
    FUZZ_CHECK(!status.error().message.empty(), "MIGRATION data refused without a message");
    return;
  }
  if (*status == QemuMigrationStatus::other) return;
  const std::string again = "{\"status\": \"" + std::string(to_string(*status)) + "\"}";
  auto reread = parse_migration_event(again);
  FUZZ_CHECK(reread && *reread == *status, "status %s does not read back",
             std::string(to_string(*status)).c_str());
}

}  // namespace
}  // namespace vfhook

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vfhook;
  const std::string_view stream(reinterpret_cast<const char*>(data), size);

  const Framing whole = frame(stream, stream.size() + 1);
  for (size_t chunk : {size_t{1}, size_t{7}}) {
    const Framing split = frame(stream, chunk);
    FUZZ_CHECK(split.refused == whole.refused, "chunks of %zu: refused %d, whole %d", chunk,
               int(split.refused), int(whole.refused));
    FUZZ_CHECK(split.messages == whole.messages, "chunks of %zu: %zu messages, whole %zu", chunk,
               split.messages.size(), whole.messages.size());
  }

  check_migration_event(stream);
  for (const std::string& message : whole.messages) check_migration_event(message);

  SteppingClock clock;
  auto client =
      QmpClient::start(std::make_unique<ChunkedTransport>(stream, clock), "fuzz", clock, 5s);
  if (!client) {
    check_error(client.error(), "start");
    return 0;
  }
  auto buses = query_pci(*client, 5s);
  if (buses) {
    (void)first_free_root_port(*buses);
  } else {
    check_error(buses.error(), "query_pci");
  }
  if (auto event = client->wait_for_event("DEVICE_DELETED", nullptr, 1s); event) {
    FUZZ_CHECK(json_object_is_type(event->data.get(), json_type_object), "event data %s",
               json_text(event->data.get()).c_str());
  } else {
    check_error(event.error(), "wait_for_event");
  }
  if (auto deleted = device_del_and_wait(*client, "vf0", 1s); !deleted) {
    check_error(deleted.error(), "device_del_and_wait");
  }
  FUZZ_CHECK(client->queued_events() <= QmpClient::kMaxQueuedEvents, "%zu queued events",
             client->queued_events());
  return 0;
}
