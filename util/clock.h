// Clock: the only way vfhook reads time or sleeps, so bounded waits (and expiry dates) are
// testable.
#pragma once

#include <chrono>

namespace vfhook {

class Clock {
 public:
  using Duration = std::chrono::nanoseconds;
  using TimePoint = std::chrono::steady_clock::time_point;
  using WallTime = std::chrono::system_clock::time_point;

  virtual ~Clock() = default;
  // For deadlines and durations: never jumps.
  virtual TimePoint now() = 0;
  // The calendar time, for dates that other hosts write (a cold-move marker's expiry in unix
  // seconds); it may jump, so never measure a wait with it.
  virtual WallTime wall_now() = 0;
  virtual void sleep_for(Duration duration) = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() override { return std::chrono::steady_clock::now(); }
  WallTime wall_now() override { return std::chrono::system_clock::now(); }
  void sleep_for(Duration duration) override;
};

}  // namespace vfhook
