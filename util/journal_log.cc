#include "util/journal_log.h"

#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>

#include <systemd/sd-journal.h>

namespace vfhook {
namespace {

int syslog_priority(LogLevel level) {
  switch (level) {
    case LogLevel::debug:
      return LOG_DEBUG;
    case LogLevel::info:
      return LOG_INFO;
    case LogLevel::warning:
      return LOG_WARNING;
    case LogLevel::error:
      return LOG_ERR;
  }
  return LOG_INFO;
}

// The fields this logger sets itself; an entry's field may not replace them.
bool reserved_field(std::string_view name) {
  return name == "MESSAGE" || name == "PRIORITY" || name == "SYSLOG_IDENTIFIER";
}

std::string field(std::string_view name, std::string_view value) {
  std::string text;
  text.reserve(name.size() + 1 + value.size());
  text.append(name);
  text.push_back('=');
  text.append(value);
  return text;
}

}  // namespace

int SdJournalSink::send(const std::vector<std::string>& fields) {
  std::vector<iovec> iov;
  iov.reserve(fields.size());
  for (const std::string& f : fields) iov.push_back(iovec{const_cast<char*>(f.data()), f.size()});
  // The function, not sd-journal.h's macro of the same name: that adds CODE_FILE/CODE_LINE of
  // this line, the same for every entry and naming the build directory.
  return (sd_journal_sendv)(iov.data(), static_cast<int>(iov.size()));
}

bool valid_journal_field_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  if (name.front() == '_' || (name.front() >= '0' && name.front() <= '9')) return false;
  for (char c : name)
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

std::vector<std::string> journal_fields(std::string_view identifier, const LogEntry& entry) {
  std::vector<std::string> fields;
  fields.reserve(3 + entry.fields.size());
  fields.push_back(field("MESSAGE", entry.message));
  fields.push_back(field("PRIORITY", std::to_string(syslog_priority(entry.level))));
  fields.push_back(field("SYSLOG_IDENTIFIER", identifier));
  for (const LogField& f : entry.fields)
    if (valid_journal_field_name(f.name) && !reserved_field(f.name))
      fields.push_back(field(f.name, f.value));
  return fields;
}

JournalLogger::JournalLogger(std::string identifier, std::unique_ptr<JournalSink> sink,
                             std::unique_ptr<Logger> fallback)
    : identifier_(std::move(identifier)), sink_(std::move(sink)), fallback_(std::move(fallback)) {}

void JournalLogger::log(LogLevel level, std::string_view message) {
  record(LogEntry{level, std::string(message), {}});
}

void JournalLogger::record(const LogEntry& entry) {
  if (sink_->send(journal_fields(identifier_, entry)) < 0 && fallback_) fallback_->record(entry);
}

bool journal_socket_present(const std::string& root) {
  std::string path = root;
  if (path.empty() || path.back() != '/') path += '/';
  path += "run/systemd/journal/socket";
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

std::unique_ptr<Logger> open_system_logger(const char* identifier, const std::string& root) {
  if (!journal_socket_present(root)) return std::make_unique<SyslogLogger>(identifier);
  return std::make_unique<JournalLogger>(identifier, std::make_unique<SdJournalSink>(),
                                         std::make_unique<SyslogLogger>(identifier));
}

}  // namespace vfhook
