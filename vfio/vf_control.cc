#include "vfio/vf_control.h"

#include <string>

namespace vfhook {
namespace {

std::string vf_label(std::string_view pf, int vf) {
  return "PF " + std::string(pf) + " VF " + std::to_string(vf);
}

std::string on_off(bool on) {
  return on ? "on" : "off";
}

std::string describe_vlan(const Vlan& vlan) {
  return std::to_string(vlan.id) + " qos " + std::to_string(vlan.qos) + " proto " +
         std::string(to_string(vlan.protocol));
}

std::string describe_rates(uint32_t min, uint32_t max) {
  return "min " + std::to_string(min) + " max " + std::to_string(max);
}

Status validate(const VfSettings& settings) {
  if (settings.mac && settings.mac->is_multicast()) {
    return fail(ErrorKind::invalid_input,
                "MAC " + settings.mac->to_string() + " is a multicast address");
  }
  if (settings.vlan) {
    const Vlan& vlan = *settings.vlan;
    if (vlan.id > 4094) {
      return fail(ErrorKind::invalid_input,
                  "VLAN " + std::to_string(vlan.id) + " is outside 0..4094");
    }
    if (vlan.qos > 7) {
      return fail(ErrorKind::invalid_input,
                  "VLAN QoS " + std::to_string(vlan.qos) + " is outside 0..7");
    }
    if (vlan.id == 0 && (vlan.qos != 0 || vlan.protocol != VlanProtocol::dot1q)) {
      return fail(ErrorKind::invalid_input, "VLAN QoS and 802.1ad need a VLAN id");
    }
  }
  if (settings.rates && settings.rates->max_tx != 0 &&
      settings.rates->min_tx > settings.rates->max_tx) {
    return fail(ErrorKind::invalid_input, "min tx rate " + std::to_string(settings.rates->min_tx) +
                                              " Mbit/s is above max tx rate " +
                                              std::to_string(settings.rates->max_tx));
  }
  return ok();
}

// A refused request: "driver refused <attribute value>: <reason>" when the kernel or driver
// said no; other failures (no such PF, socket errors) keep their own wording.
Error refused(Error error, std::string_view pf, int vf) {
  if (error.kind == ErrorKind::netlink) error.message = "driver refused " + error.message;
  return error.with_context(vf_label(pf, vf));
}

Error did_not_stick(std::string_view pf, int vf, const std::string& asked,
                    const std::string& reported) {
  return Error{ErrorKind::netlink,
               vf_label(pf, vf) + ": " + asked + " did not stick: the driver reports " + reported,
               0};
}

}  // namespace

Result<VfState> read_vf(VfNetlink& netlink, std::string_view pf, int vf) {
  auto link = netlink.read_pf(pf);
  if (!link) return fail(link.error().with_context("PF " + std::string(pf)));
  if (vf < 0 || static_cast<size_t>(vf) >= link->vfs.size()) {
    return fail(ErrorKind::not_found, vf_label(pf, vf) + ": no such VF (the PF has " +
                                          std::to_string(link->vfs.size()) + " VFs enabled)");
  }
  return link->vfs[static_cast<size_t>(vf)];
}

Status apply_vf_settings(VfNetlink& netlink, std::string_view pf, int vf,
                         const VfSettings& settings) {
  if (auto st = validate(settings); !st) return fail(st.error().with_context(vf_label(pf, vf)));
  if (settings.empty()) return ok();
  // Make sure the VF exists before changing anything: a bad index is not a driver refusal.
  VF_TRY(read_vf(netlink, pf, vf));

  auto send = [&](Status status) -> Status {
    if (!status) return fail(refused(status.error(), pf, vf));
    return ok();
  };
  if (settings.mac) VF_TRY(send(netlink.set_mac(pf, vf, *settings.mac)));
  if (settings.vlan) VF_TRY(send(netlink.set_vlan(pf, vf, *settings.vlan)));
  if (settings.spoofchk) VF_TRY(send(netlink.set_spoofchk(pf, vf, *settings.spoofchk)));
  if (settings.trust) VF_TRY(send(netlink.set_trust(pf, vf, *settings.trust)));
  if (settings.link_state) VF_TRY(send(netlink.set_link_state(pf, vf, *settings.link_state)));
  if (settings.rates) {
    VF_TRY(send(netlink.set_rates(pf, vf, settings.rates->min_tx, settings.rates->max_tx)));
  }

  VF_ASSIGN(state, read_vf(netlink, pf, vf));
  if (settings.mac && state.mac != *settings.mac) {
    return fail(did_not_stick(pf, vf, "mac " + settings.mac->to_string(), state.mac.to_string()));
  }
  if (settings.vlan) {
    const Vlan& want = *settings.vlan;
    // Without a tag the protocol means nothing; drivers report either.
    bool same = state.vlan.id == want.id && state.vlan.qos == want.qos &&
                (want.id == 0 || state.vlan.protocol == want.protocol);
    if (!same) {
      return fail(did_not_stick(pf, vf, "vlan " + describe_vlan(want), describe_vlan(state.vlan)));
    }
  }
  if (settings.spoofchk && state.spoofchk != *settings.spoofchk) {
    return fail(
        did_not_stick(pf, vf, "spoofchk " + on_off(*settings.spoofchk), on_off(state.spoofchk)));
  }
  if (settings.trust && state.trust != settings.trust) {
    return fail(did_not_stick(pf, vf, "trust " + on_off(*settings.trust),
                              state.trust ? on_off(*state.trust) : "nothing"));
  }
  if (settings.link_state && state.link_state != *settings.link_state) {
    return fail(did_not_stick(pf, vf, "link_state " + std::string(to_string(*settings.link_state)),
                              std::string(to_string(state.link_state))));
  }
  if (settings.rates && (state.min_tx_rate != settings.rates->min_tx ||
                         state.max_tx_rate != settings.rates->max_tx)) {
    return fail(did_not_stick(
        pf, vf, "rates " + describe_rates(settings.rates->min_tx, settings.rates->max_tx),
        describe_rates(state.min_tx_rate, state.max_tx_rate)));
  }
  return ok();
}

}  // namespace vfhook
