// pci() and mac(): addresses from literals in tests. A malformed literal is a broken test, so it
// throws (GoogleTest reports the exception) instead of returning a Result.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "model/mac_address.h"
#include "model/pci_address.h"

namespace vfhook::testing {

inline PciAddress pci(std::string_view text) {
  auto address = PciAddress::parse(text);
  if (!address) throw std::invalid_argument("test literal: " + address.error().message);
  return *address;
}

inline MacAddress mac(std::string_view text) {
  auto address = MacAddress::parse(text);
  if (!address) throw std::invalid_argument("test literal: " + address.error().message);
  return *address;
}

}  // namespace vfhook::testing
