#include "vfio/netlink_libnl.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/route/link.h>
#include <netlink/route/link/sriov.h>
#include <netlink/socket.h>

#include <string>

#include "vfio/netlink_error.h"
#include "vfio/sysfs.h"

namespace vfhook {
namespace {

struct LinkPut {
  void operator()(rtnl_link* link) const { rtnl_link_put(link); }
};
using LinkPtr = std::unique_ptr<rtnl_link, LinkPut>;

struct VfPut {
  void operator()(rtnl_link_vf* vf) const { rtnl_link_vf_put(vf); }
};
using VfPtr = std::unique_ptr<rtnl_link_vf, VfPut>;

struct AddrPut {
  void operator()(nl_addr* addr) const { nl_addr_put(addr); }
};

Status check_name(std::string_view pf_name) {
  // IFNAMSIZ includes the terminating NUL.
  if (!is_safe_name(pf_name) || pf_name.size() >= IFNAMSIZ) {
    return fail(ErrorKind::invalid_input,
                "invalid interface name '" + std::string(pf_name.substr(0, 64)) + "'");
  }
  return ok();
}

Result<LinkPtr> get_link(nl_sock* sock, std::string_view pf_name) {
  VF_TRY(check_name(pf_name));
  rtnl_link* link = nullptr;
  const std::string name(pf_name);
  int err = rtnl_link_get_kernel(sock, 0, name.c_str(), &link);
  if (err < 0) return fail(netlink_error(err, "read link " + name));
  if (!link) return fail(ErrorKind::not_found, "no network interface named '" + name + "'");
  return LinkPtr(link);
}

uint32_t vf_count(rtnl_link* link) {
  uint32_t count = 0;
  if (rtnl_link_get_num_vf(link, &count) < 0) return 0;
  // rtnl_link_vf_get() walks the list without checking it exists.
  if (!rtnl_link_has_vf_list(link)) return 0;
  return count;
}

Result<VfState> read_vf_state(rtnl_link_vf* vf, uint32_t index, const std::string& pf) {
  VfState state;
  state.index = static_cast<int>(index);
  const std::string where = "PF " + pf + " VF " + std::to_string(index);

  nl_addr* addr = nullptr;
  if (rtnl_link_vf_get_addr(vf, &addr) == 0 && addr) {
    // The kernel pads the MAC field to 32 bytes; libnl keeps the first 6.
    if (nl_addr_get_len(addr) < 6) return fail(ErrorKind::invalid_input, where + ": short MAC");
    const auto* bytes = static_cast<const uint8_t*>(nl_addr_get_binary_addr(addr));
    for (size_t i = 0; i < 6; ++i) state.mac.bytes[i] = bytes[i];
  }

  nl_vf_vlans_t* vlans = nullptr;
  if (rtnl_link_vf_get_vlans(vf, &vlans) == 0 && vlans) {
    if (vlans->size >= 1) {
      const nl_vf_vlan_info_t& info = vlans->vlans[0];
      if (info.vf_vlan > 4095 || info.vf_vlan_qos > 7) {
        rtnl_link_vf_vlan_put(vlans);
        return fail(ErrorKind::invalid_input, where + ": driver reports an invalid VLAN");
      }
      state.vlan.id = static_cast<uint16_t>(info.vf_vlan);
      state.vlan.qos = static_cast<uint8_t>(info.vf_vlan_qos);
      // libnl converts to host order when reading; accept the swapped form too in case a
      // version stores it as it sends it.
      state.vlan.protocol =
          (info.vf_vlan_proto == ETH_P_8021AD || info.vf_vlan_proto == htons(ETH_P_8021AD))
              ? VlanProtocol::dot1ad
              : VlanProtocol::dot1q;
    }
    rtnl_link_vf_vlan_put(vlans);
  }

  uint32_t value = 0;
  if (rtnl_link_vf_get_spoofchk(vf, &value) == 0) state.spoofchk = value != 0;
  if (rtnl_link_vf_get_trust(vf, &value) == 0) {
    state.trust = value != 0;
  } else {
    state.trust = std::nullopt;
  }
  if (rtnl_link_vf_get_linkstate(vf, &value) == 0) {
    switch (value) {
      case IFLA_VF_LINK_STATE_AUTO:
        state.link_state = LinkState::automatic;
        break;
      case IFLA_VF_LINK_STATE_ENABLE:
        state.link_state = LinkState::enable;
        break;
      case IFLA_VF_LINK_STATE_DISABLE:
        state.link_state = LinkState::disable;
        break;
      default:
        return fail(ErrorKind::invalid_input,
                    where + ": driver reports unknown link state " + std::to_string(value));
    }
  }
  nl_vf_rate rate{};
  if (rtnl_link_vf_get_rate(vf, &rate) == 0) {
    if (rate.api == RTNL_LINK_VF_RATE_API_OLD) {
      state.max_tx_rate = rate.rate;
    } else {
      state.min_tx_rate = rate.min_tx_rate;
      state.max_tx_rate = rate.max_tx_rate;
    }
  }
  return state;
}

}  // namespace

Result<std::unique_ptr<LibnlVfNetlink>> LibnlVfNetlink::open() {
  nl_sock* sock = nl_socket_alloc();
  if (!sock) return fail(netlink_error(-NLE_NOMEM, "allocate netlink socket"));
  int err = nl_connect(sock, NETLINK_ROUTE);
  if (err < 0) {
    nl_socket_free(sock);
    return fail(netlink_error(err, "connect rtnetlink socket"));
  }
  return std::unique_ptr<LibnlVfNetlink>(new LibnlVfNetlink(sock));
}

LibnlVfNetlink::~LibnlVfNetlink() {
  nl_socket_free(sock_);
}

Result<PfLink> LibnlVfNetlink::read_pf(std::string_view pf_name) {
  VF_ASSIGN(link, get_link(sock_, pf_name));
  PfLink pf;
  pf.name = std::string(pf_name);
  pf.ifindex = rtnl_link_get_ifindex(link.get());
  pf.admin_up = (rtnl_link_get_flags(link.get()) & IFF_UP) != 0;
  const uint32_t count = vf_count(link.get());
  for (uint32_t i = 0; i < count; ++i) {
    VfPtr vf(rtnl_link_vf_get(link.get(), i));
    if (!vf) {
      return fail(ErrorKind::invalid_input, "PF " + pf.name + " reports " + std::to_string(count) +
                                                " VFs but no VF " + std::to_string(i));
    }
    VF_ASSIGN(state, read_vf_state(vf.get(), i, pf.name));
    pf.vfs.push_back(state);
  }
  return pf;
}

template <class Fill>
Status LibnlVfNetlink::change_vf(std::string_view pf_name, int vf, const std::string& what,
                                 Fill fill) {
  VF_ASSIGN(orig, get_link(sock_, pf_name));
  const uint32_t count = vf_count(orig.get());
  if (vf < 0 || static_cast<uint32_t>(vf) >= count) {
    return fail(ErrorKind::not_found, what + ": PF " + std::string(pf_name) + " has no VF " +
                                          std::to_string(vf) + " (" + std::to_string(count) +
                                          " enabled)");
  }
  LinkPtr change(rtnl_link_alloc());
  VfPtr vf_object(rtnl_link_vf_alloc());
  if (!change || !vf_object) return fail(netlink_error(-NLE_NOMEM, what));
  rtnl_link_set_ifindex(change.get(), rtnl_link_get_ifindex(orig.get()));
  rtnl_link_vf_set_index(vf_object.get(), static_cast<uint32_t>(vf));
  int err = fill(vf_object.get());
  if (err < 0) return fail(netlink_error(err, what));
  // rtnl_link_vf_add takes its own reference; ours is dropped by VfPtr.
  err = rtnl_link_vf_add(change.get(), vf_object.get());
  if (err < 0) return fail(netlink_error(err, what));
  err = rtnl_link_change(sock_, orig.get(), change.get(), 0);
  if (err < 0) return fail(netlink_error(err, what));
  return ok();
}

Status LibnlVfNetlink::set_mac(std::string_view pf_name, int vf, const MacAddress& mac) {
  return change_vf(pf_name, vf, "mac " + mac.to_string(), [&](rtnl_link_vf* object) {
    std::unique_ptr<nl_addr, AddrPut> addr(
        nl_addr_build(AF_LLC, const_cast<uint8_t*>(mac.bytes.data()), mac.bytes.size()));
    if (!addr) return -NLE_NOMEM;
    rtnl_link_vf_set_addr(object, addr.get());  // takes its own reference
    return 0;
  });
}

Status LibnlVfNetlink::set_vlan(std::string_view pf_name, int vf, const Vlan& vlan) {
  const std::string what = "vlan " + std::to_string(vlan.id) + " qos " + std::to_string(vlan.qos) +
                           " proto " + std::string(to_string(vlan.protocol));
  return change_vf(pf_name, vf, what, [&](rtnl_link_vf* object) {
    nl_vf_vlans_t* vlans = nullptr;
    int err = rtnl_link_vf_vlan_alloc(&vlans, 1);
    if (err < 0) return err;
    vlans->vlans[0].vf_vlan = vlan.id;
    vlans->vlans[0].vf_vlan_qos = vlan.qos;
    // 802.1Q in host order selects libnl's plain IFLA_VF_VLAN; 802.1ad goes into
    // IFLA_VF_VLAN_LIST's big-endian field unswapped, so swap it here.
    vlans->vlans[0].vf_vlan_proto =
        vlan.protocol == VlanProtocol::dot1ad ? htons(ETH_P_8021AD) : ETH_P_8021Q;
    rtnl_link_vf_set_vlans(object, vlans);  // takes its own reference
    rtnl_link_vf_vlan_put(vlans);
    return 0;
  });
}

Status LibnlVfNetlink::set_spoofchk(std::string_view pf_name, int vf, bool on) {
  return change_vf(pf_name, vf, std::string("spoofchk ") + (on ? "on" : "off"),
                   [&](rtnl_link_vf* object) {
                     rtnl_link_vf_set_spoofchk(object, on ? 1 : 0);
                     return 0;
                   });
}

Status LibnlVfNetlink::set_trust(std::string_view pf_name, int vf, bool on) {
  return change_vf(pf_name, vf, std::string("trust ") + (on ? "on" : "off"),
                   [&](rtnl_link_vf* object) {
                     rtnl_link_vf_set_trust(object, on ? 1 : 0);
                     return 0;
                   });
}

Status LibnlVfNetlink::set_link_state(std::string_view pf_name, int vf, LinkState state) {
  return change_vf(pf_name, vf, "link_state " + std::string(to_string(state)),
                   [&](rtnl_link_vf* object) {
                     uint32_t value = IFLA_VF_LINK_STATE_AUTO;
                     if (state == LinkState::enable) value = IFLA_VF_LINK_STATE_ENABLE;
                     if (state == LinkState::disable) value = IFLA_VF_LINK_STATE_DISABLE;
                     rtnl_link_vf_set_linkstate(object, value);
                     return 0;
                   });
}

Status LibnlVfNetlink::set_rates(std::string_view pf_name, int vf, uint32_t min_tx_mbps,
                                 uint32_t max_tx_mbps) {
  const std::string what =
      "rates min " + std::to_string(min_tx_mbps) + " max " + std::to_string(max_tx_mbps);
  return change_vf(pf_name, vf, what, [&](rtnl_link_vf* object) {
    nl_vf_rate rate{};
    rate.api = RTNL_LINK_VF_RATE_API_NEW;  // IFLA_VF_RATE with both values
    rate.min_tx_rate = min_tx_mbps;
    rate.max_tx_rate = max_tx_mbps;
    rtnl_link_vf_set_rate(object, &rate);
    return 0;
  });
}

}  // namespace vfhook
