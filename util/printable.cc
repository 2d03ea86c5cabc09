#include "util/printable.h"

namespace vfhook {

std::string printable(std::string_view text, size_t max) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string shown;
  for (char ch : text.substr(0, max)) {
    auto byte = static_cast<unsigned char>(ch);
    if (byte == '\\') {
      shown += "\\\\";
    } else if (byte >= 0x20 && byte < 0x7f) {
      shown += ch;
    } else {
      shown += "\\x";
      shown += kHex[byte >> 4];
      shown += kHex[byte & 0xf];
    }
  }
  if (text.size() > max) shown += "...";
  return shown;
}

}  // namespace vfhook
