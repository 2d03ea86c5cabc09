// LibnlVfNetlink: the real VfNetlink, rtnetlink through libnl-route-3 (3.7).
//
// Reading: rtnl_link_get_kernel() — libnl 3.7's rtnl_link_build_get_request() already puts
// IFLA_EXT_MASK = RTEXT_FILTER_VF in the RTM_GETLINK request (checked against the installed
// library), so the reply carries IFLA_NUM_VF and IFLA_VFINFO_LIST. rtnl_link_vf_get() is only
// called when rtnl_link_get_num_vf() reports VFs and rtnl_link_has_vf_list() is true (it
// dereferences the list unchecked).
//
// Writing: every setter sends one VF attribute in one request — a fresh change link with only
// the ifindex set, one rtnl_link_vf with the index and that attribute, rtnl_link_vf_add,
// rtnl_link_change — so a refusal names its attribute. Two libnl quirks are handled here:
// an 802.1ad VLAN goes into the IFLA_VF_VLAN_LIST protocol field without byte swapping, so
// it is stored pre-swapped (htons(ETH_P_8021AD)); and rates use the new API with both min and
// max, because sending max alone resets min.
//
// Errors are netlink_error()s reading "<attribute> <value>: <libnl reason>". One netlink
// socket per object; not thread safe.
#pragma once

#include <memory>

#include "vfio/vf_netlink.h"

struct nl_sock;
struct rtnl_link;
struct rtnl_link_vf;

namespace vfhook {

class LibnlVfNetlink : public VfNetlink {
 public:
  // Opens and connects a NETLINK_ROUTE socket.
  static Result<std::unique_ptr<LibnlVfNetlink>> open();
  ~LibnlVfNetlink() override;
  LibnlVfNetlink(const LibnlVfNetlink&) = delete;
  LibnlVfNetlink& operator=(const LibnlVfNetlink&) = delete;

  Result<PfLink> read_pf(std::string_view pf_name) override;
  Status set_mac(std::string_view pf_name, int vf, const MacAddress& mac) override;
  Status set_vlan(std::string_view pf_name, int vf, const Vlan& vlan) override;
  Status set_spoofchk(std::string_view pf_name, int vf, bool on) override;
  Status set_trust(std::string_view pf_name, int vf, bool on) override;
  Status set_link_state(std::string_view pf_name, int vf, LinkState state) override;
  Status set_rates(std::string_view pf_name, int vf, uint32_t min_tx_mbps,
                   uint32_t max_tx_mbps) override;

 private:
  explicit LibnlVfNetlink(nl_sock* sock) : sock_(sock) {}

  // Sends one change request for VF `vf` of `pf_name`; `fill` sets exactly one attribute on
  // the VF object and returns 0 or a negative libnl error. `what` names it for errors.
  template <class Fill>
  Status change_vf(std::string_view pf_name, int vf, const std::string& what, Fill fill);

  nl_sock* sock_;
};

}  // namespace vfhook
