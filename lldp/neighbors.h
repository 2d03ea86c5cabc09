// LldpNeighbors: what a PF's netdev is cabled to, as LLDP tells it: the switch (or host) at
// the other end of the cable and its port. vfctl's status asks it once per PF. Sources:
// lldpd through liblldpctl loaded at run time (lldp/lldpctl_neighbors.h), LLDP frames heard
// on the PFs for a while (lldp/frame_listener.h), and testing/fake_lldp_neighbors.h.
#pragma once

#include <string>
#include <vector>

#include "lldp/lldpdu.h"
#include "util/result.h"

namespace vfhook {

class LldpNeighbors {
 public:
  virtual ~LldpNeighbors() = default;

  // The neighbours known on `netdev`: usually one (the switch port it is cabled to), none
  // when nothing was heard, several behind a hub or a bridge that forwards LLDP. An error
  // says why this source has no data for the netdev (no lldpd running, liblldpctl not
  // installed, lldpd does not watch it, no CAP_NET_RAW to listen): a reason to show the
  // operator, never a reason to fail the command asking. Its message names the netdev.
  virtual Result<std::vector<LldpNeighbor>> neighbors_of(const std::string& netdev) = 0;
};

}  // namespace vfhook
