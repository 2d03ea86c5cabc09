// PciAddress: a PCI function address (domain:bus:slot.function), parsed strictly.
//
// Every address that reaches vfhook (domain XML, config, sysfs link targets, QMP) is
// untrusted: parse() accepts only the canonical "dddd:bb:ss.f" hex form (case-insensitive),
// so a parsed address is always safe to join into a sysfs path. from_xml_parts() takes the
// separate attributes libvirt writes (domain='0x0000' bus='0x03' slot='0x10' function='0x1').
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.h"

namespace vfhook {

struct PciAddress {
  uint16_t domain = 0;
  uint8_t bus = 0;
  uint8_t slot = 0;      // 0..0x1f
  uint8_t function = 0;  // 0..7

  static Result<PciAddress> parse(std::string_view text);
  static Result<PciAddress> from_xml_parts(std::string_view domain, std::string_view bus,
                                           std::string_view slot, std::string_view function);

  // Canonical lower-case "0000:03:10.1", as sysfs names devices.
  [[nodiscard]] std::string to_string() const;

  auto operator<=>(const PciAddress&) const = default;
};

}  // namespace vfhook
