#include "model/names.h"

#include <string>

#include "util/printable.h"

namespace vfhook {
namespace {

bool is_control(char ch) {
  auto u = static_cast<unsigned char>(ch);
  return u < 0x20 || u == 0x7f;
}

bool is_plain_name(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  for (char ch : name)
    if (ch == '/' || is_control(ch)) return false;
  return true;
}

bool is_alnum(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

bool is_hex(char ch) {
  return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

}  // namespace

Status check_domain_name(std::string_view name) {
  if (!is_plain_name(name))
    return fail(ErrorKind::invalid_input,
                "domain name '" + printable(name) +
                    "' refused: it must be 1..255 bytes without '/' or control characters");
  return ok();
}

Status check_uuid(std::string_view uuid) {
  bool good = uuid.size() == 36;
  for (size_t i = 0; good && i < uuid.size(); ++i) {
    bool dash_here = i == 8 || i == 13 || i == 18 || i == 23;
    good = dash_here ? uuid[i] == '-' : is_hex(uuid[i]);
  }
  if (!good)
    return fail(ErrorKind::invalid_input,
                "domain uuid '" + printable(uuid) +
                    "' refused: expected the form c7a5fdbd-cdaf-9455-926a-d65c16db1809");
  return ok();
}

bool is_valid_alias(std::string_view alias) {
  if (alias.empty() || alias.size() > 64) return false;
  for (char ch : alias)
    if (!is_alnum(ch) && ch != '_' && ch != '-') return false;
  return true;
}

bool is_valid_user_alias(std::string_view alias) {
  return alias.size() > 3 && alias.substr(0, 3) == "ua-" && is_valid_alias(alias);
}

bool is_safe_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name == "." || name == "..") return false;
  for (char ch : name)
    if (!is_alnum(ch) && ch != '_' && ch != '.' && ch != ':' && ch != '-') return false;
  return true;
}

bool is_interface_name(std::string_view name) {
  return name.size() <= 15 && is_safe_name(name) && name.find(':') == std::string_view::npos;
}

bool is_valid_network_name(std::string_view name) {
  return is_plain_name(name);
}

}  // namespace vfhook
