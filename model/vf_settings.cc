#include "model/vf_settings.h"

namespace vfhook {

std::optional<VlanProtocol> parse_vlan_protocol(std::string_view text) {
  for (VlanProtocol protocol : {VlanProtocol::dot1q, VlanProtocol::dot1ad})
    if (text == to_string(protocol)) return protocol;
  return std::nullopt;
}

std::optional<LinkState> parse_link_state(std::string_view text) {
  for (LinkState state : {LinkState::automatic, LinkState::enable, LinkState::disable})
    if (text == to_string(state)) return state;
  return std::nullopt;
}

}  // namespace vfhook
