#include "util/log.h"

#include <syslog.h>

#include <algorithm>

namespace vfhook {

LogEntry& LogEntry::with(std::string_view name, std::string value) {
  fields.push_back({std::string(name), std::move(value)});
  return *this;
}

LogEntry& LogEntry::with(std::string_view name, const std::optional<std::string>& value) {
  if (value) with(name, *value);
  return *this;
}

LogEntry& LogEntry::with(std::string_view name, int value) {
  return with(name, std::to_string(value));
}

std::optional<std::string> LogEntry::field(std::string_view name) const {
  for (const LogField& f : fields)
    if (f.name == name) return f.value;
  return std::nullopt;
}

void ContextLogger::log(LogLevel level, std::string_view message) {
  record(LogEntry{level, std::string(message), {}});
}

void ContextLogger::record(const LogEntry& entry) {
  LogEntry combined = entry;
  for (const LogField& field : context_)
    if (!entry.field(field.name)) combined.fields.push_back(field);
  inner_.record(combined);
}

void ContextLogger::set(std::string_view name, std::string value) {
  auto it = std::find_if(context_.begin(), context_.end(),
                         [&](const LogField& f) { return f.name == name; });
  if (it != context_.end())
    it->value = std::move(value);
  else
    context_.push_back({std::string(name), std::move(value)});
}

SyslogLogger::SyslogLogger(const char* identity) {
  openlog(identity, LOG_PID, LOG_DAEMON);
}

SyslogLogger::~SyslogLogger() {
  closelog();
}

void SyslogLogger::log(LogLevel level, std::string_view message) {
  int priority = LOG_INFO;
  switch (level) {
    case LogLevel::debug:
      priority = LOG_DEBUG;
      break;
    case LogLevel::info:
      priority = LOG_INFO;
      break;
    case LogLevel::warning:
      priority = LOG_WARNING;
      break;
    case LogLevel::error:
      priority = LOG_ERR;
      break;
  }
  syslog(priority, "%.*s", static_cast<int>(message.size()), message.data());
}

}  // namespace vfhook
