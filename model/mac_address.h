// MacAddress: an Ethernet address parsed strictly from "52:54:00:12:34:56".
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.h"

namespace vfhook {

struct MacAddress {
  std::array<uint8_t, 6> bytes{};

  static Result<MacAddress> parse(std::string_view text);
  // A VF's admin MAC must be a unicast address that is not all zero.
  static Result<MacAddress> parse_unicast(std::string_view text);

  [[nodiscard]] bool is_zero() const;
  [[nodiscard]] bool is_multicast() const { return (bytes[0] & 0x01) != 0; }
  [[nodiscard]] std::string to_string() const;  // lower case, colon separated

  auto operator<=>(const MacAddress&) const = default;
};

}  // namespace vfhook
