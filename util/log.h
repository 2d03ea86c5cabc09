// Logger: where vfhook writes what it did, for the journal. Messages carry their own context
// ("domain vm1: PF enp1s0 VF 3 (0000:01:10.2): ..."), built by the caller.
#pragma once

#include <string>
#include <string_view>

namespace vfhook {

enum class LogLevel { debug, info, warning, error };

class Logger {
 public:
  virtual ~Logger() = default;
  virtual void log(LogLevel level, std::string_view message) = 0;

  void info(std::string_view message) { log(LogLevel::info, message); }
  void warning(std::string_view message) { log(LogLevel::warning, message); }
  void error(std::string_view message) { log(LogLevel::error, message); }
};

// Writes to syslog (the journal on systemd hosts) under the given identifier.
class SyslogLogger final : public Logger {
 public:
  explicit SyslogLogger(const char* identity);
  ~SyslogLogger() override;
  SyslogLogger(const SyslogLogger&) = delete;
  SyslogLogger& operator=(const SyslogLogger&) = delete;
  void log(LogLevel level, std::string_view message) override;
};

}  // namespace vfhook
