// A JournalSink that keeps what it was asked to send, and fails when told to.
#pragma once

#include <string>
#include <vector>

#include "util/journal_log.h"

namespace vfhook::testing {

class RecordingJournalSink final : public JournalSink {
 public:
  // Shared with the test after the logger took ownership of the sink.
  struct Record {
    std::vector<std::vector<std::string>> sent;  // every entry, as its fields
    int result = 0;                              // what send() returns
  };
  explicit RecordingJournalSink(Record& record) : record_(record) {}
  int send(const std::vector<std::string>& fields) override {
    record_.sent.push_back(fields);
    return record_.result;
  }

 private:
  Record& record_;
};

}  // namespace vfhook::testing
