#include "util/printable.h"

namespace vfhook {

std::string printable(std::string_view text, size_t max) {
  std::string shown;
  for (char ch : text.substr(0, max)) {
    auto u = static_cast<unsigned char>(ch);
    shown += (u < 0x20 || u == 0x7f) ? '?' : ch;
  }
  if (text.size() > max) shown += "...";
  return shown;
}

}  // namespace vfhook
