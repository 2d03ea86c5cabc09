// SteppingClock: the fuzz targets' Clock. Time moves only when the code under test sleeps, so
// every wait on a deadline ends after the input has run out, however slow the machine.
#pragma once

#include "util/clock.h"

namespace vfhook {

class SteppingClock final : public Clock {
 public:
  TimePoint now() override { return now_; }
  WallTime wall_now() override { return WallTime{}; }  // the epoch: any marker date is ahead
  void sleep_for(Duration duration) override { now_ += duration; }

 private:
  TimePoint now_{};
};

}  // namespace vfhook
