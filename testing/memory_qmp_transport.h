// MemoryQmpTransport: a QmpTransport over strings, for tests of deadlines on a FakeClock
// (ScriptedQmpServer runs the real socket transport on real time).
//
// Each receive_some() hands out the next queued chunk (up to the buffer's size). With no
// chunk left it either reports the end of the stream (after close_input()) or behaves as a
// stalled peer: it sleeps on the clock until the deadline and fails with timeout. Everything
// sent is kept in sent().
#pragma once

#include <algorithm>
#include <cstring>
#include <deque>
#include <string>

#include "qmp/transport.h"

namespace vfhook {

class MemoryQmpTransport final : public QmpTransport {
 public:
  explicit MemoryQmpTransport(Clock& clock) : clock_(&clock) {}

  void add_input(std::string chunk) { input_.push_back(std::move(chunk)); }
  void close_input() { closed_ = true; }
  [[nodiscard]] const std::string& sent() const { return sent_; }

  Status send_all(std::string_view bytes, Clock::TimePoint) override {
    sent_.append(bytes);
    return ok();
  }

  Result<size_t> receive_some(std::span<char> buffer, Clock::TimePoint deadline) override {
    if (!input_.empty()) {
      std::string& chunk = input_.front();
      size_t n = std::min(chunk.size(), buffer.size());
      std::memcpy(buffer.data(), chunk.data(), n);
      chunk.erase(0, n);
      if (chunk.empty()) input_.pop_front();
      return n;
    }
    if (closed_) return size_t{0};
    if (clock_->now() < deadline) clock_->sleep_for(deadline - clock_->now());
    return fail(ErrorKind::timeout, "memory transport: nothing more to read");
  }

 private:
  Clock* clock_;
  std::deque<std::string> input_;
  bool closed_ = false;
  std::string sent_;
};

}  // namespace vfhook
