// Clock: the only way vfhook reads time or sleeps, so bounded waits are testable.
#pragma once

#include <chrono>

namespace vfhook {

class Clock {
 public:
  using Duration = std::chrono::nanoseconds;
  using TimePoint = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;
  virtual TimePoint now() = 0;
  virtual void sleep_for(Duration duration) = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() override { return std::chrono::steady_clock::now(); }
  void sleep_for(Duration duration) override;
};

}  // namespace vfhook
