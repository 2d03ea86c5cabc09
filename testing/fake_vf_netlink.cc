#include "testing/fake_vf_netlink.h"

#include <cerrno>

#include "vfio/vf_count.h"

namespace vfhook {

std::string_view to_string(VfAttribute attribute) {
  switch (attribute) {
    case VfAttribute::mac:
      return "mac";
    case VfAttribute::vlan:
      return "vlan";
    case VfAttribute::spoofchk:
      return "spoofchk";
    case VfAttribute::trust:
      return "trust";
    case VfAttribute::link_state:
      return "link_state";
    case VfAttribute::rates:
      return "rates";
  }
  return "mac";
}

std::optional<VfAttribute> parse_vf_attribute(std::string_view text) {
  for (auto attribute : {VfAttribute::mac, VfAttribute::vlan, VfAttribute::spoofchk,
                         VfAttribute::trust, VfAttribute::link_state, VfAttribute::rates}) {
    if (to_string(attribute) == text) return attribute;
  }
  return std::nullopt;
}

std::string describe(const Vlan& vlan) {
  return std::to_string(vlan.id) + " qos " + std::to_string(vlan.qos) + " proto " +
         std::string(to_string(vlan.protocol));
}

void RecordingVfNetlink::add_pf(std::string name, int ifindex, bool admin_up, int num_vfs) {
  PfLink link;
  link.name = name;
  link.ifindex = ifindex;
  link.admin_up = admin_up;
  for (int i = 0; i < num_vfs; ++i) {
    VfState vf;
    vf.index = i;
    vf.trust = false;
    link.vfs.push_back(vf);
  }
  pfs_[std::move(name)] = std::move(link);
}

PfLink* RecordingVfNetlink::pf(std::string_view name) {
  auto it = pfs_.find(name);
  return it == pfs_.end() ? nullptr : &it->second;
}

void RecordingVfNetlink::refuse(VfAttribute attribute, int error, std::optional<std::string> pf,
                                std::optional<int> vf) {
  faults_.push_back(VfFault{attribute, std::move(pf), vf, error});
}

void RecordingVfNetlink::ignore(VfAttribute attribute, std::optional<std::string> pf,
                                std::optional<int> vf) {
  faults_.push_back(VfFault{attribute, std::move(pf), vf, 0});
}

void RecordingVfNetlink::follow_vf_count(std::string name, Sysfs& sysfs, PciAddress pf) {
  followed_[std::move(name)] = {&sysfs, pf};
}

void RecordingVfNetlink::sync_vf_count(std::string_view name) {
  auto followed = followed_.find(name);
  auto link = pfs_.find(name);
  if (followed == followed_.end() || link == pfs_.end()) return;
  auto count = vf_count(*followed->second.first, followed->second.second);
  if (!count || static_cast<size_t>(*count) == link->second.vfs.size()) return;
  add_pf(link->first, link->second.ifindex, link->second.admin_up, *count);
}

Result<PfLink> RecordingVfNetlink::read_pf(std::string_view pf_name) {
  sync_vf_count(pf_name);
  auto it = pfs_.find(pf_name);
  if (it == pfs_.end()) {
    return fail(ErrorKind::not_found, "no network interface named '" + std::string(pf_name) + "'");
  }
  return it->second;
}

template <class Apply>
Status RecordingVfNetlink::request(VfAttribute attribute, std::string_view pf_name, int vf,
                                   const std::string& value, int invalid_errno, Apply apply) {
  sync_vf_count(pf_name);
  requests_.push_back("set_" + std::string(to_string(attribute)) + " " + std::string(pf_name) +
                      " " + std::to_string(vf) + " " + value);
  const std::string what = std::string(to_string(attribute)) + " " + value;
  auto refused = [&](int err) {
    Error error = errno_error(err, what);
    error.kind = ErrorKind::netlink;  // the driver refused, as rtnetlink would report it
    return fail(std::move(error));
  };
  auto it = pfs_.find(pf_name);
  if (it == pfs_.end()) {
    return fail(ErrorKind::not_found,
                what + ": no network interface named '" + std::string(pf_name) + "'");
  }
  PfLink& link = it->second;
  if (vf < 0 || static_cast<size_t>(vf) >= link.vfs.size()) return refused(EINVAL);
  if (invalid_errno != 0) return refused(invalid_errno);
  for (const auto& fault : faults_) {
    if (fault.attribute != attribute || (fault.pf && *fault.pf != pf_name) ||
        (fault.vf && *fault.vf != vf)) {
      continue;
    }
    if (fault.error != 0) return refused(fault.error);
    return ok();  // accepted, not applied
  }
  apply(link.vfs[static_cast<size_t>(vf)]);
  return ok();
}

Status RecordingVfNetlink::set_mac(std::string_view pf_name, int vf, const MacAddress& mac) {
  return request(VfAttribute::mac, pf_name, vf, mac.to_string(), mac.is_multicast() ? EINVAL : 0,
                 [&](VfState& state) { state.mac = mac; });
}

Status RecordingVfNetlink::set_vlan(std::string_view pf_name, int vf, const Vlan& vlan) {
  int invalid = (vlan.id > 4095 || vlan.qos > 7) ? EINVAL : 0;
  return request(VfAttribute::vlan, pf_name, vf, describe(vlan), invalid,
                 [&](VfState& state) { state.vlan = vlan; });
}

Status RecordingVfNetlink::set_spoofchk(std::string_view pf_name, int vf, bool on) {
  return request(VfAttribute::spoofchk, pf_name, vf, on ? "on" : "off", 0,
                 [&](VfState& state) { state.spoofchk = on; });
}

Status RecordingVfNetlink::set_trust(std::string_view pf_name, int vf, bool on) {
  return request(VfAttribute::trust, pf_name, vf, on ? "on" : "off", 0,
                 [&](VfState& state) { state.trust = on; });
}

Status RecordingVfNetlink::set_link_state(std::string_view pf_name, int vf, LinkState state) {
  return request(VfAttribute::link_state, pf_name, vf, std::string(to_string(state)), 0,
                 [&](VfState& vf_state) { vf_state.link_state = state; });
}

Status RecordingVfNetlink::set_rates(std::string_view pf_name, int vf, uint32_t min_tx_mbps,
                                     uint32_t max_tx_mbps) {
  return request(VfAttribute::rates, pf_name, vf,
                 "min " + std::to_string(min_tx_mbps) + " max " + std::to_string(max_tx_mbps), 0,
                 [&](VfState& state) {
                   state.min_tx_rate = min_tx_mbps;
                   state.max_tx_rate = max_tx_mbps;
                 });
}

}  // namespace vfhook
