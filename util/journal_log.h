// The journal logger: every entry goes to systemd's journal with SYSLOG_IDENTIFIER, PRIORITY,
// MESSAGE and the entry's own fields (util/log.h's log_field), through sd_journal_sendv. Only
// the hook's core and vfctl link it (library vfhook_journal, libsystemd): the hook's front end
// never loads libsystemd, so a domain without VF ports costs what it did.
//
// Field values are untrusted bytes (a domain name may hold a newline or a NUL): each field is
// one "NAME=value" buffer of its own, which the journal stores as it is; no value can start a
// field of its own, and nothing is ever a format string. A field whose name the journal would
// reject, or that would override one this logger sets, is left out (the message still names
// what it names).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/log.h"

namespace vfhook {

// The one call into libsystemd, behind an interface so the field building is tested without a
// journal (testing/recording_journal_sink.h).
class JournalSink {
 public:
  virtual ~JournalSink() = default;
  // Sends one entry: each element is one field, "NAME=" followed by the value's bytes.
  // Returns 0, or a negative errno when the journal did not take it.
  virtual int send(const std::vector<std::string>& fields) = 0;
};

// sd_journal_sendv.
class SdJournalSink final : public JournalSink {
 public:
  int send(const std::vector<std::string>& fields) override;
};

// [A-Z0-9_], 1 to 64 characters, not starting with '_' (fields only journald may set) or a digit.
bool valid_journal_field_name(std::string_view name);

// What JournalLogger sends for `entry`: MESSAGE, PRIORITY (syslog numbering),
// SYSLOG_IDENTIFIER, then each of the entry's fields whose name is valid and not one of those
// three, in order.
std::vector<std::string> journal_fields(std::string_view identifier, const LogEntry& entry);

class JournalLogger final : public Logger {
 public:
  // `fallback` (may be null) gets an entry the journal refused, so a journald restart does not
  // lose the line.
  JournalLogger(std::string identifier, std::unique_ptr<JournalSink> sink,
                std::unique_ptr<Logger> fallback);
  void log(LogLevel level, std::string_view message) override;
  void record(const LogEntry& entry) override;

 private:
  std::string identifier_;
  std::unique_ptr<JournalSink> sink_;
  std::unique_ptr<Logger> fallback_;
};

// <root>/run/systemd/journal/socket is a socket: the host runs journald.
bool journal_socket_present(const std::string& root);

// The logger of a vfhook process: the journal when `root` has journald's socket, else
// syslog with today's text. `identifier` is a literal ("vfhook", "vfctl"): syslog keeps it.
std::unique_ptr<Logger> open_system_logger(const char* identifier, const std::string& root = "/");

}  // namespace vfhook
