// A Logger that keeps every message, for tests that check what was logged.
#pragma once

#include <string>
#include <vector>

#include "util/log.h"

namespace vfhook {

// Keeps every message.
class MemoryLogger final : public Logger {
 public:
  struct Entry {
    LogLevel level;
    std::string message;
  };
  void log(LogLevel level, std::string_view message) override {
    entries.push_back({level, std::string(message)});
  }
  std::vector<Entry> entries;
};

}  // namespace vfhook
