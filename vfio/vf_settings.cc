#include "vfio/vf_settings.h"

namespace vfhook {

std::string_view to_string(VlanProtocol protocol) {
  return protocol == VlanProtocol::dot1ad ? "802.1ad" : "802.1Q";
}

std::string_view to_string(LinkState state) {
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

}  // namespace vfhook
