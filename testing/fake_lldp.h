// Fakes of lldp/: FakeLldpNeighbors (an LldpNeighbors answering from a table the test fills,
// recording what it was asked) and ScriptedLldpFrameSockets (LLDP frames that "arrive" at
// times the test chooses, on a FakeClock that moves only when the listener waits).
#pragma once

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lldp/frame_listener.h"
#include "lldp/neighbors.h"
#include "testing/fake_clock.h"

namespace vfhook::testing {

class FakeLldpNeighbors final : public LldpNeighbors {
 public:
  // What neighbors_of(netdev) answers; a netdev with no entry gets `otherwise`.
  std::map<std::string, Result<std::vector<LldpNeighbor>>> answers;
  Result<std::vector<LldpNeighbor>> otherwise = std::vector<LldpNeighbor>{};
  std::vector<std::string> asked;

  Result<std::vector<LldpNeighbor>> neighbors_of(const std::string& netdev) override {
    asked.push_back(netdev);
    auto found = answers.find(netdev);
    return found == answers.end() ? otherwise : found->second;
  }
};

class ScriptedLldpFrameSockets final : public LldpFrameSockets {
 public:
  explicit ScriptedLldpFrameSockets(FakeClock& clock) : clock_(&clock), start_(clock.now()) {}

  // A frame that arrives on `netdev` `at` after the sockets were made (frames are delivered
  // in the order of their times; one on a netdev that was not opened is never delivered).
  void arrive(Clock::Duration at, std::string netdev, std::vector<uint8_t> bytes) {
    frames_.push_back({start_ + at, CapturedFrame{std::move(netdev), std::move(bytes)}});
    std::stable_sort(frames_.begin(), frames_.end(),
                     [](const Timed& a, const Timed& b) { return a.at < b.at; });
  }
  // open(netdev) fails with `error`.
  std::map<std::string, Error> refuse_open;
  // receive() fails with this error once the clock reaches `at` (a broken socket).
  std::optional<std::pair<Clock::Duration, Error>> break_at;

  std::vector<std::string> opened;
  std::vector<Clock::Duration> waits;  // the timeout of every receive()

  Status open(const std::string& netdev) override {
    if (auto refused = refuse_open.find(netdev); refused != refuse_open.end())
      return fail(refused->second);
    opened.push_back(netdev);
    return ok();
  }

  Result<std::optional<CapturedFrame>> receive(Clock::Duration timeout) override {
    waits.push_back(timeout);
    const Clock::TimePoint until = clock_->now() + timeout;
    while (!frames_.empty() && frames_.front().at <= until) {
      Timed next = std::move(frames_.front());
      frames_.pop_front();
      if (std::find(opened.begin(), opened.end(), next.frame.netdev) == opened.end()) continue;
      if (broken_before(next.at)) return broken();
      if (next.at > clock_->now()) clock_->sleep_for(next.at - clock_->now());
      return std::optional<CapturedFrame>(std::move(next.frame));
    }
    if (broken_before(until)) return broken();
    clock_->sleep_for(timeout);
    return std::optional<CapturedFrame>{};
  }

 private:
  struct Timed {
    Clock::TimePoint at;
    CapturedFrame frame;
  };
  bool broken_before(Clock::TimePoint t) const { return break_at && start_ + break_at->first <= t; }
  Result<std::optional<CapturedFrame>> broken() {
    if (start_ + break_at->first > clock_->now())
      clock_->sleep_for(start_ + break_at->first - clock_->now());
    return fail(break_at->second);
  }

  FakeClock* clock_;
  Clock::TimePoint start_;
  std::deque<Timed> frames_;
};

}  // namespace vfhook::testing
