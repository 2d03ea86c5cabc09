#include "model/mac_address.h"

#include <cstdio>

namespace vfhook {

Result<MacAddress> MacAddress::parse(std::string_view text) {
  MacAddress mac;
  auto bad = [&] {
    return fail(ErrorKind::invalid_input, "invalid MAC address '" +
                                              std::string(text.substr(0, 32)) +
                                              "' (expected the form 52:54:00:12:34:56)");
  };
  if (text.size() != 17) return bad();
  for (size_t i = 0; i < 6; ++i) {
    unsigned value = 0;
    for (size_t j = 0; j < 2; ++j) {
      char c = text[i * 3 + j];
      int d = (c >= '0' && c <= '9')   ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                       : -1;
      if (d < 0) return bad();
      value = value * 16 + static_cast<unsigned>(d);
    }
    if (i < 5 && text[i * 3 + 2] != ':') return bad();
    mac.bytes[i] = static_cast<uint8_t>(value);
  }
  return mac;
}

Result<MacAddress> MacAddress::parse_unicast(std::string_view text) {
  VF_ASSIGN(mac, parse(text));
  if (mac.is_multicast())
    return fail(ErrorKind::invalid_input,
                "MAC address " + mac.to_string() + " is a multicast address; a VF needs unicast");
  if (mac.is_zero())
    return fail(ErrorKind::invalid_input, "MAC address 00:00:00:00:00:00 is not usable");
  return mac;
}

bool MacAddress::is_zero() const {
  for (uint8_t b : bytes)
    if (b != 0) return false;
  return true;
}

std::string MacAddress::to_string() const {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2],
                bytes[3], bytes[4], bytes[5]);
  return buf;
}

}  // namespace vfhook
