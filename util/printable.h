// Untrusted text (a domain name from argv, a value from the XML, a name read back from the
// claims database) made safe to put in a message or a log line: every byte outside printable
// ASCII (0x20..0x7e) becomes \xNN and a backslash becomes \\, so the text cannot end a line,
// start a terminal escape sequence or pass for other text, and the original bytes can be read
// back. libvirt runs hooks with LC_ALL=C, where nothing but ASCII is printable anyway, so a
// UTF-8 name shows its bytes: caf\xc3\xa9.
//
// Header-only; escape_printable() allocates nothing, for the hook's libc-only front end.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

namespace vfhook {

// Writes the escaped form of at most `max_input` bytes of `text` to out[0..cap), followed by
// "..." when `text` is longer, and a NUL. Stops early (before a partial escape) when `cap` is
// too small. Returns the length written.
inline size_t escape_printable(std::string_view text, char* out, size_t cap,
                               size_t max_input = 255) {
  static constexpr char kHex[] = "0123456789abcdef";
  if (cap == 0) return 0;
  size_t length = 0;
  auto put = [&](std::string_view piece) {
    if (length + piece.size() + 1 > cap) return false;
    for (char ch : piece) out[length++] = ch;
    return true;
  };
  bool complete = true;
  for (size_t i = 0; i < text.size() && i < max_input && complete; ++i) {
    auto byte = static_cast<unsigned char>(text[i]);
    if (byte == '\\') {
      complete = put("\\\\");
    } else if (byte >= 0x20 && byte < 0x7f) {
      char plain[1] = {static_cast<char>(byte)};
      complete = put(std::string_view(plain, 1));
    } else {
      char escaped[4] = {'\\', 'x', kHex[byte >> 4], kHex[byte & 0xf]};
      complete = put(std::string_view(escaped, 4));
    }
  }
  if (complete && text.size() > max_input) put("...");
  out[length] = '\0';
  return length;
}

// The escaped form as a string (see escape_printable).
inline std::string printable(std::string_view text, size_t max_input = 255) {
  std::string shown(4 * std::min(text.size(), max_input) + 4, '\0');
  shown.resize(escape_printable(text, shown.data(), shown.size(), max_input));
  return shown;
}

}  // namespace vfhook
