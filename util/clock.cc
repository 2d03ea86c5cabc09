#include "util/clock.h"

#include <thread>

namespace vfhook {

void SystemClock::sleep_for(Duration duration) {
  std::this_thread::sleep_for(duration);
}

}  // namespace vfhook
