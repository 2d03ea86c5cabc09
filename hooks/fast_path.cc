#include "hooks/fast_path.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "model/domain_marker_name.h"
#include "model/port_record.h"
#include "util/fd.h"
#include "xml/utf8_document.h"

namespace vfhook {

HookOp parse_hook_op(std::string_view op) {
  if (op == "prepare") return HookOp::prepare;
  if (op == "start") return HookOp::start;
  if (op == "started") return HookOp::started;
  if (op == "stopped") return HookOp::stopped;
  if (op == "release") return HookOp::release;
  if (op == "migrate") return HookOp::migrate;
  if (op == "restore") return HookOp::restore;
  if (op == "reconnect") return HookOp::reconnect;
  return HookOp::other;
}

std::string_view to_string(HookOp op) {
  switch (op) {
    case HookOp::prepare:
      return "prepare";
    case HookOp::start:
      return "start";
    case HookOp::started:
      return "started";
    case HookOp::stopped:
      return "stopped";
    case HookOp::release:
      return "release";
    case HookOp::migrate:
      return "migrate";
    case HookOp::restore:
      return "restore";
    case HookOp::reconnect:
      return "reconnect";
    case HookOp::other:
      return "other";
  }
  return "other";
}

bool parse_hook_call(int argc, const char* const* argv, HookCall& call) {
  int first = 1;
  call.config_path = {};
  if (argc >= 3 && std::strcmp(argv[1], "--config") == 0) {
    call.config_path = argv[2];
    if (call.config_path.empty()) return false;
    first = 3;
  }
  if (argc - first != 4) return false;
  call.domain = argv[first];
  call.op = parse_hook_op(argv[first + 1]);
  call.subop = argv[first + 2];
  call.extra = argv[first + 3];
  return !call.domain.empty();
}

int failure_exit_status(HookOp op) {
  switch (op) {
    case HookOp::prepare:
    case HookOp::start:
    case HookOp::migrate:
    case HookOp::restore:
      return 1;
    default:
      return 0;
  }
}

namespace {

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

bool is_toml_space(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\r';
}

bool is_bare_key_char(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         ch == '_' || ch == '-';
}

size_t skip_toml_space(std::string_view line, size_t at) {
  while (at < line.size() && is_toml_space(line[at])) ++at;
  return at;
}

// Follows a TOML value from `at` to the end of its line: strings, comments, and the depth of
// open arrays and inline tables (which may continue on the next lines). False on what it does
// not follow: a multi-line string, a string not closed on its line, a stray closing bracket.
bool scan_toml_value(std::string_view line, size_t at, int& depth) {
  while (at < line.size()) {
    char ch = line[at];
    if (ch == '#') return true;
    if (ch == '"' || ch == '\'') {
      if (line.substr(at, 3) == (ch == '"' ? "\"\"\"" : "'''")) return false;
      size_t i = at + 1;
      while (i < line.size() && line[i] != ch) i += (ch == '"' && line[i] == '\\') ? 2 : 1;
      if (i >= line.size()) return false;
      at = i + 1;
      continue;
    }
    if (ch == '[' || ch == '{') ++depth;
    if ((ch == ']' || ch == '}') && --depth < 0) return false;
    ++at;
  }
  return true;
}

// An absolute path without "." or ".." components, empty components or control characters:
// what the core accepts as state_dir, and a little less.
bool is_clean_absolute_path(std::string_view path) {
  if (path.empty() || path[0] != '/' || path.size() > 1024) return false;
  for (char ch : path)
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) return false;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part == "." || part == ".." || (part.empty() && end != path.size())) return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

bool is_plain_xml(std::string_view xml) {
  if (why_not_utf8_xml(xml) != nullptr || !starts_with_markup(xml)) return false;
  // A character reference spells any name: type='&#104;ostdev'.
  if (contains(xml, "&#")) return false;
  // A DTD's entities spell anything, anywhere (the core refuses any DTD).
  for (size_t at = 0; (at = xml.find("<!", at)) != std::string_view::npos; at += 2) {
    std::string_view rest = xml.substr(at + 2);
    if (rest.substr(0, 7) == "DOCTYPE" || rest.substr(0, 6) == "ENTITY") return false;
  }
  return true;
}

Work decide_work(HookOp op, std::string_view domain_xml) {
  bool mentions_vf = !is_plain_xml(domain_xml) || contains(domain_xml, "hostdev") ||
                     contains(domain_xml, kPortNamespace);
  switch (op) {
    case HookOp::prepare:
    case HookOp::start:
    case HookOp::migrate:
    case HookOp::restore:
      return mentions_vf ? Work::full : Work::none;
    case HookOp::reconnect:
    case HookOp::release:
      return mentions_vf ? Work::full : Work::claims;
    case HookOp::started:
    case HookOp::stopped:
    case HookOp::other:
      return Work::none;
  }
  return Work::none;
}

bool find_state_dir(std::string_view config, std::string_view& state_dir) {
  if (contains(config, std::string_view("\0", 1))) return false;
  std::string_view found;
  bool seen = false;
  int depth = 0;  // open arrays and inline tables, across lines
  size_t next = 0;
  while (next < config.size()) {
    size_t end = config.find('\n', next);
    if (end == std::string_view::npos) end = config.size();
    std::string_view line = config.substr(next, end - next);
    next = end + 1;
    if (depth > 0) {
      if (!scan_toml_value(line, 0, depth)) return false;
      continue;
    }
    size_t at = skip_toml_space(line, 0);
    if (at == line.size() || line[at] == '#') continue;
    if (line[at] == '[') break;  // the first table header: no top-level key comes after it
    size_t key_end = at;
    while (key_end < line.size() && is_bare_key_char(line[key_end])) ++key_end;
    size_t equals = skip_toml_space(line, key_end);
    if (key_end == at || equals == line.size() || line[equals] != '=') return false;
    size_t value = skip_toml_space(line, equals + 1);
    if (line.substr(at, key_end - at) != "state_dir") {
      if (!scan_toml_value(line, value, depth)) return false;
      continue;
    }
    if (seen || value == line.size()) return false;
    char quote = line[value];
    if (quote != '"' && quote != '\'') return false;
    size_t close = line.find(quote, value + 1);
    if (close == std::string_view::npos) return false;
    found = line.substr(value + 1, close - value - 1);
    if (quote == '"' && contains(found, "\\")) return false;
    size_t rest = skip_toml_space(line, close + 1);
    if (rest < line.size() && line[rest] != '#') return false;
    seen = true;
  }
  if (depth != 0) return false;
  if (!seen) found = kDefaultStateDir;
  if (!is_clean_absolute_path(found)) return false;
  state_dir = found;
  return true;
}

Work decide_by_claims(const char* config_path, std::string_view domain) {
  char config[kMaxFrontEndConfigBytes];
  const Fd file(::open(config_path, O_RDONLY | O_CLOEXEC));
  if (!file) return Work::full;
  const int fd = file.get();
  // The core's own rules for its config (policy/config.h), so that no one but its owner can
  // point the front end at another state directory.
  struct stat st {};
  bool trusted = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
                 (st.st_mode & (S_IWGRP | S_IWOTH)) == 0 &&
                 (st.st_uid == 0 || st.st_uid == ::geteuid());
  size_t length = 0;
  while (trusted && length < sizeof config) {
    ssize_t n = ::read(fd, config + length, sizeof config - length);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) trusted = false;
    if (n <= 0) break;
    length += static_cast<size_t>(n);
  }
  std::string_view state_dir;
  if (!trusted || length == sizeof config ||
      !find_state_dir(std::string_view(config, length), state_dir))
    return Work::full;

  char path[PATH_MAX];
  if (domain_marker_path(state_dir, domain, path, sizeof path) == 0) return Work::full;
  if (::stat(path, &st) == 0 || errno != ENOENT) return Work::full;
  // No marker. It means "no claims" only where markers are kept: the core creates their
  // directory together with a marker for every claim it holds.
  if (domain_marker_dir(state_dir, path, sizeof path) == 0) return Work::full;
  return ::stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? Work::none : Work::full;
}

}  // namespace vfhook
