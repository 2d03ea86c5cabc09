// VfNetlink: the VF admin calls vfhook makes on a PF, and nothing else (sriov-cni's narrow
// netlink interface). The real implementation speaks rtnetlink through libnl-route-3; the
// recording fake keeps state in memory (or in a JSON file, so the hook binary can be tested
// across processes) and records every request.
//
// Each setter sends exactly one VF attribute in one RTM_SETLINK request: the kernel stops at
// the first attribute a driver refuses, so one-per-request is how we know which one failed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "model/vf_settings.h"
#include "util/result.h"

namespace vfhook {

struct PfLink {
  std::string name;
  int ifindex = 0;
  bool admin_up = false;     // IFF_UP
  std::vector<VfState> vfs;  // by VF index; empty when the PF has no VFs enabled
};

class VfNetlink {
 public:
  virtual ~VfNetlink() = default;

  virtual Result<PfLink> read_pf(std::string_view pf_name) = 0;

  virtual Status set_mac(std::string_view pf_name, int vf, const MacAddress& mac) = 0;
  virtual Status set_vlan(std::string_view pf_name, int vf, const Vlan& vlan) = 0;
  virtual Status set_spoofchk(std::string_view pf_name, int vf, bool on) = 0;
  virtual Status set_trust(std::string_view pf_name, int vf, bool on) = 0;
  virtual Status set_link_state(std::string_view pf_name, int vf, LinkState state) = 0;
  virtual Status set_rates(std::string_view pf_name, int vf, uint32_t min_tx_mbps,
                           uint32_t max_tx_mbps) = 0;
};

}  // namespace vfhook
