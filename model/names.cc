#include "model/names.h"

#include <cstdint>
#include <string>

#include "util/printable.h"

namespace vfhook {
namespace {

// Decodes one UTF-8 character at text[at]; returns its length, 0 when it is not valid UTF-8
// (overlong forms, surrogates and code points over U+10FFFF are not).
size_t utf8_char(std::string_view text, size_t at, uint32_t& code) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(at);
  size_t length = lead < 0x80           ? 1
                  : (lead >> 5) == 0x6  ? 2
                  : (lead >> 4) == 0xe  ? 3
                  : (lead >> 3) == 0x1e ? 4
                                        : 0;
  if (length == 0 || at + length > text.size()) return 0;
  code = length == 1 ? lead : lead & (0x7f >> length);
  for (size_t i = 1; i < length; ++i) {
    if ((byte(at + i) & 0xc0) != 0x80) return 0;
    code = (code << 6) | (byte(at + i) & 0x3f);
  }
  static constexpr uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code < kMinimum[length] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return 0;
  return length;
}

// Why a name is not one vfhook stores (claims database, log lines, marker files), or nullptr.
const char* why_not_plain_name(std::string_view name) {
  if (name.empty()) return "it is empty";
  if (name.size() > 255) return "it is longer than 255 bytes";
  for (size_t at = 0; at < name.size();) {
    uint32_t code = 0;
    size_t length = utf8_char(name, at, code);
    if (length == 0) return "it is not UTF-8";
    if (code == '/') return "it contains '/'";
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return "it contains a control character";
    at += length;
  }
  return nullptr;
}

bool is_plain_name(std::string_view name) {
  return why_not_plain_name(name) == nullptr;
}

bool is_alnum(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

bool is_hex(char ch) {
  return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

}  // namespace

Status check_domain_name(std::string_view name) {
  if (const char* why = why_not_plain_name(name))
    return fail(ErrorKind::invalid_input,
                "domain name '" + printable(name) + "' (" + std::to_string(name.size()) +
                    " bytes) refused: " + why +
                    "; vfhook takes names of 1..255 bytes of UTF-8 without '/' or control "
                    "characters");
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
