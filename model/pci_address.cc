#include "model/pci_address.h"

#include <cstdio>

namespace vfhook {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Parses exactly `digits` hex digits (no sign, no prefix).
bool parse_fixed_hex(std::string_view text, size_t digits, unsigned& out) {
  if (text.size() != digits) return false;
  out = 0;
  for (char c : text) {
    int d = hex_digit(c);
    if (d < 0) return false;
    out = out * 16 + static_cast<unsigned>(d);
  }
  return true;
}

// Parses a libvirt XML attribute: "0x" followed by 1..max_digits hex digits.
bool parse_xml_hex(std::string_view text, size_t max_digits, unsigned& out) {
  if (text.size() < 3 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) return false;
  text.remove_prefix(2);
  if (text.size() > max_digits) return false;
  return parse_fixed_hex(text, text.size(), out);
}

}  // namespace

Result<PciAddress> PciAddress::parse(std::string_view text) {
  auto bad = [&] {
    std::string shown(text.substr(0, 64));
    return fail(ErrorKind::invalid_input,
                "invalid PCI address '" + shown + "' (expected the form 0000:03:10.1)");
  };
  // dddd:bb:ss.f is exactly 12 characters.
  if (text.size() != 12 || text[4] != ':' || text[7] != ':' || text[10] != '.') return bad();
  unsigned domain, bus, slot, function;
  if (!parse_fixed_hex(text.substr(0, 4), 4, domain) ||
      !parse_fixed_hex(text.substr(5, 2), 2, bus) || !parse_fixed_hex(text.substr(8, 2), 2, slot) ||
      !parse_fixed_hex(text.substr(11, 1), 1, function) || slot > 0x1f || function > 7) {
    return bad();
  }
  return PciAddress{static_cast<uint16_t>(domain), static_cast<uint8_t>(bus),
                    static_cast<uint8_t>(slot), static_cast<uint8_t>(function)};
}

Result<PciAddress> PciAddress::from_xml_parts(std::string_view domain, std::string_view bus,
                                              std::string_view slot, std::string_view function) {
  unsigned d, b, s, f;
  if (!parse_xml_hex(domain, 4, d) || !parse_xml_hex(bus, 2, b) || !parse_xml_hex(slot, 2, s) ||
      !parse_xml_hex(function, 1, f) || s > 0x1f || f > 7) {
    auto cut = [](std::string_view v) { return std::string(v.substr(0, 16)); };
    return fail(ErrorKind::invalid_input, "invalid PCI address domain='" + cut(domain) + "' bus='" +
                                              cut(bus) + "' slot='" + cut(slot) + "' function='" +
                                              cut(function) + "'");
  }
  return PciAddress{static_cast<uint16_t>(d), static_cast<uint8_t>(b), static_cast<uint8_t>(s),
                    static_cast<uint8_t>(f)};
}

std::string PciAddress::to_string() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04x:%02x:%02x.%x", domain, bus, slot, function);
  return buf;
}

}  // namespace vfhook
