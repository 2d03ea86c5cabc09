// FakeClock: a Clock for tests. Time moves only when the code under test sleeps.
#pragma once

#include "util/clock.h"

namespace vfhook {

// Records the total slept. The wall clock starts at kFakeWallStart (a test may set it) and
// moves with the sleeps.
class FakeClock final : public Clock {
 public:
  // 2026-01-01T00:00:00Z: after any date a test writes as "past", before any "future" one.
  static constexpr std::chrono::seconds kFakeWallStart{1767225600};

  TimePoint now() override { return now_; }
  WallTime wall_now() override { return wall_; }
  void sleep_for(Duration duration) override {
    now_ += duration;
    wall_ += std::chrono::duration_cast<WallTime::duration>(duration);
    slept_ += duration;
  }
  [[nodiscard]] Duration slept() const { return slept_; }
  void set_wall(std::chrono::seconds since_epoch) { wall_ = WallTime(since_epoch); }

 private:
  TimePoint now_{};
  WallTime wall_{kFakeWallStart};
  Duration slept_{};
};

}  // namespace vfhook
