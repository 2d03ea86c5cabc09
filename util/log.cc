#include "util/log.h"

#include <syslog.h>

namespace vfhook {

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
