// Logger: where vfhook writes what it did, for the journal. Messages carry their own context
// ("domain vm1: PF enp1s0 VF 3 (0000:01:10.2): ..."), built by the caller, so a text-only
// logger (syslog, a terminal) loses nothing. An entry may also carry fields (NAME=value) that
// the journal logger (util/journal_log.h) stores as journal fields to select on; which fields
// vfhook writes is engine/decision_log.h's business.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vfhook {

enum class LogLevel { debug, info, warning, error };

// One field of a structured entry. `name` is [A-Z0-9_], not starting with '_' or a digit (the
// journal rejects anything else); `value` is arbitrary bytes, often untrusted (a domain name),
// and is never interpreted.
struct LogField {
  std::string name;
  std::string value;
  bool operator==(const LogField&) const = default;
};

struct LogEntry {
  LogLevel level = LogLevel::info;
  std::string message;  // complete on its own, as for Logger::log
  std::vector<LogField> fields;

  // Appends a field (a value that is absent adds nothing); returns *this for chaining.
  LogEntry& with(std::string_view name, std::string value);
  LogEntry& with(std::string_view name, const char* value) {
    return with(name, std::string(value));
  }
  LogEntry& with(std::string_view name, const std::optional<std::string>& value);
  LogEntry& with(std::string_view name, int value);
  // The value of the first field of this name, or nullopt.
  [[nodiscard]] std::optional<std::string> field(std::string_view name) const;
};

class Logger {
 public:
  virtual ~Logger() = default;
  virtual void log(LogLevel level, std::string_view message) = 0;
  // A structured entry. The default writes the message alone through log(): a text-only logger
  // keeps today's lines (the message already names the domain, device and outcome).
  virtual void record(const LogEntry& entry) { log(entry.level, entry.message); }

  void info(std::string_view message) { log(LogLevel::info, message); }
  void warning(std::string_view message) { log(LogLevel::warning, message); }
  void error(std::string_view message) { log(LogLevel::error, message); }
};

// Adds fields that hold for every entry of a run (the hook's DOMAIN and EVENT, vfctl's
// command) to what it passes on; an entry's own field of the same name wins. A plain log()
// becomes an entry with these fields.
class ContextLogger final : public Logger {
 public:
  ContextLogger(Logger& inner, std::vector<LogField> context)
      : inner_(inner), context_(std::move(context)) {}
  void log(LogLevel level, std::string_view message) override;
  void record(const LogEntry& entry) override;
  // Sets (or replaces) a context field, e.g. vfctl's EVENT once the command is known.
  void set(std::string_view name, std::string value);

 private:
  Logger& inner_;
  std::vector<LogField> context_;
};

// Writes to syslog under the given identifier (kept for the life of the process: a literal).
class SyslogLogger final : public Logger {
 public:
  explicit SyslogLogger(const char* identity);
  ~SyslogLogger() override;
  SyslogLogger(const SyslogLogger&) = delete;
  SyslogLogger& operator=(const SyslogLogger&) = delete;
  void log(LogLevel level, std::string_view message) override;
};

}  // namespace vfhook
