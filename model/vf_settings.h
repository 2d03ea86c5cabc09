// The admin settings of one VF as its PF holds them (what `ip link show PF` lists per VF),
// and a partial set of them to apply.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "model/mac_address.h"

namespace vfhook {

enum class VlanProtocol { dot1q, dot1ad };  // 802.1Q (0x8100) or 802.1ad (0x88a8)
enum class LinkState { automatic, enable, disable };

// The words `ip link`, vfhook's port records, config and store use.
constexpr std::string_view to_string(VlanProtocol protocol) {
  return protocol == VlanProtocol::dot1ad ? "802.1ad" : "802.1Q";
}
constexpr std::string_view to_string(LinkState state) {
  switch (state) {
    case LinkState::automatic:
      return "auto";
    case LinkState::enable:
      return "enable";
    case LinkState::disable:
      return "disable";
  }
  return "auto";
}

// The inverse of to_string: the exact words above, nothing else.
std::optional<VlanProtocol> parse_vlan_protocol(std::string_view text);
std::optional<LinkState> parse_link_state(std::string_view text);

struct Vlan {
  uint16_t id = 0;  // 0 = untagged; 1..4094 tagged
  uint8_t qos = 0;  // 802.1p priority 0..7
  VlanProtocol protocol = VlanProtocol::dot1q;
  bool operator==(const Vlan&) const = default;
};

// A VF's full admin state, as read back from the PF.
struct VfState {
  int index = 0;
  MacAddress mac;
  Vlan vlan;
  bool spoofchk = true;
  std::optional<bool> trust;  // absent where the driver does not report it
  LinkState link_state = LinkState::automatic;
  uint32_t min_tx_rate = 0;  // Mbit/s, 0 = none
  uint32_t max_tx_rate = 0;  // Mbit/s, 0 = none
  bool operator==(const VfState&) const = default;
};

// What to change on a VF: only the fields that are set are sent, one attribute per request.
struct VfSettings {
  std::optional<MacAddress> mac;
  std::optional<Vlan> vlan;
  std::optional<bool> spoofchk;
  std::optional<bool> trust;
  std::optional<LinkState> link_state;
  // Rates go together: the kernel resets min when only max is set.
  struct Rates {
    uint32_t min_tx = 0;
    uint32_t max_tx = 0;
    bool operator==(const Rates&) const = default;
  };
  std::optional<Rates> rates;

  [[nodiscard]] bool empty() const {
    return !mac && !vlan && !spoofchk && !trust && !link_state && !rates;
  }
  bool operator==(const VfSettings&) const = default;
};

}  // namespace vfhook
