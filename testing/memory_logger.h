// A Logger that keeps every entry with its fields, for tests that check what was logged.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/log_fields.h"
#include "util/log.h"

namespace vfhook {

// Keeps every entry; a plain log() is an entry without fields.
class MemoryLogger final : public Logger {
 public:
  using Entry = LogEntry;
  void log(LogLevel level, std::string_view message) override {
    entries.push_back({level, std::string(message), {}});
  }
  void record(const LogEntry& entry) override { entries.push_back(entry); }

  // The entries whose OUTCOME field is `outcome`, in the order they were logged.
  [[nodiscard]] std::vector<LogEntry> with_outcome(std::string_view outcome) const {
    std::vector<LogEntry> found;
    for (const LogEntry& entry : entries)
      if (entry.field(log_field::outcome) == outcome) found.push_back(entry);
    return found;
  }

  std::vector<Entry> entries;
};

}  // namespace vfhook
