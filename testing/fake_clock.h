// FakeClock: a Clock for tests. Time moves only when the code under test sleeps.
#pragma once

#include "util/clock.h"

namespace vfhook {

// Records the total slept.
class FakeClock final : public Clock {
 public:
  TimePoint now() override { return now_; }
  void sleep_for(Duration duration) override {
    now_ += duration;
    slept_ += duration;
  }
  [[nodiscard]] Duration slept() const { return slept_; }

 private:
  TimePoint now_{};
  Duration slept_{};
};

}  // namespace vfhook
