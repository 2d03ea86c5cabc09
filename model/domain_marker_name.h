// Where a domain's claim marker lives: <state_dir>/domains/<encoded domain name>. The core keeps
// the file while the domain holds any claim (engine/domain_marker.h); the hook's front end stats
// it to decide, without loading the core, whether a release has anything to do. Header-only and
// libc-only, because the front end links nothing else: both sides must encode alike.
//
// Encoding: a name of 1..255 bytes of [A-Za-z0-9_.+-] that starts with [A-Za-z0-9_] is used as
// is. Any other name is '%' (which a name used as is never starts with, so the two forms cannot
// meet) followed by the lowercase hex of each byte. A name whose encoding would be longer than
// a file name may be (255 bytes: hex names over 127 bytes) has no marker at all: the front end
// then always hands its release to the core, which is correct, only slower.
#pragma once

#include <cstddef>
#include <string_view>

namespace vfhook {

inline constexpr std::string_view kDomainMarkerDir = "domains";
inline constexpr size_t kMaxMarkerNameBytes = 255;  // NAME_MAX

namespace marker_detail {
inline bool is_plain(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         ch == '_' || ch == '.' || ch == '+' || ch == '-';
}
inline bool is_plain_start(char ch) {
  return is_plain(ch) && ch != '.' && ch != '+' && ch != '-';
}
}  // namespace marker_detail

// Writes the encoded name of `domain` and a NUL to out[0..cap). Returns its length, or 0 when the
// domain has no marker (empty name, encoding over kMaxMarkerNameBytes) or `cap` is too small.
inline size_t encode_domain_marker_name(std::string_view domain, char* out, size_t cap) {
  if (domain.empty()) return 0;
  bool plain = domain.size() <= kMaxMarkerNameBytes && marker_detail::is_plain_start(domain[0]);
  for (size_t i = 0; plain && i < domain.size(); ++i) plain = marker_detail::is_plain(domain[i]);
  size_t length = plain ? domain.size() : 1 + 2 * domain.size();
  if (length > kMaxMarkerNameBytes || length + 1 > cap) return 0;
  if (plain) {
    for (size_t i = 0; i < domain.size(); ++i) out[i] = domain[i];
  } else {
    static constexpr char kHex[] = "0123456789abcdef";
    out[0] = '%';
    for (size_t i = 0; i < domain.size(); ++i) {
      auto byte = static_cast<unsigned char>(domain[i]);
      out[1 + 2 * i] = kHex[byte >> 4];
      out[2 + 2 * i] = kHex[byte & 0xf];
    }
  }
  out[length] = '\0';
  return length;
}

namespace marker_detail {
// Appends `part` to out[0..cap), keeping a NUL after it; false (length unchanged) if it does not
// fit.
inline bool append(std::string_view part, char* out, size_t cap, size_t& length) {
  if (length + part.size() + 1 > cap) return false;
  for (char ch : part) out[length++] = ch;
  out[length] = '\0';
  return true;
}
}  // namespace marker_detail

// Writes "<state_dir>/domains" and a NUL to out[0..cap). Returns the length, 0 if it does not fit.
inline size_t domain_marker_dir(std::string_view state_dir, char* out, size_t cap) {
  size_t length = 0;
  if (!marker_detail::append(state_dir, out, cap, length) ||
      !marker_detail::append("/", out, cap, length) ||
      !marker_detail::append(kDomainMarkerDir, out, cap, length))
    return 0;
  return length;
}

// Writes "<state_dir>/domains/<encoded name>" and a NUL to out[0..cap). Returns the length, or 0
// when the domain has no marker or the path does not fit.
inline size_t domain_marker_path(std::string_view state_dir, std::string_view domain, char* out,
                                 size_t cap) {
  size_t length = domain_marker_dir(state_dir, out, cap);
  if (length == 0 || !marker_detail::append("/", out, cap, length)) return 0;
  size_t name = encode_domain_marker_name(domain, out + length, cap - length);
  return name == 0 ? 0 : length + name;
}

}  // namespace vfhook
