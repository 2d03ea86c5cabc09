// The host most black-box tests start from: one igb PF (enp1s0, 0000:01:00.0) with four VFs on
// igbvf (admin MACs 02:00:00:00:01:0N, but VF 2's all-zero), and a pool "provider" on it.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/test_bed.h"

namespace vfhook::blackbox {

inline const char* const kProviderConfig = R"(host_bridge_vlans = ["1-99"]

[[pool]]
name = "provider"
pfs = ["enp1s0"]
vlans = ["100-199"]
allow_trust = true
allow_spoofchk_off = true
)";

inline testing::PfSpec standard_pf(const std::string& address, const std::string& name,
                                   int num_vfs) {
  testing::PfSpec spec;
  spec.address = pci(address);
  spec.netdev = name;
  spec.driver = "igb";
  spec.total_vfs = 7;
  spec.num_vfs = num_vfs;
  spec.vf_driver = "igbvf";
  return spec;
}

// vm1: two managed='no' hostdev interfaces on VF 0 (VLAN 110, trust on) and VF 1 (VLAN 120
// with QoS 3, spoofchk off, rates 10/100).
inline std::string two_port_domain(const std::vector<PciAddress>& vfs) {
  return domain_xml(
      "vm1",
      interface_hostdev_xml({mac("52:54:00:aa:00:01"), vfs[0], false, 110, ""}) +
          interface_hostdev_xml({mac("52:54:00:aa:00:02"), vfs[1], false, 120, ""}),
      port_record_xml(R"(mac="52:54:00:aa:00:01" pool="provider" vlan="110" trust="on")") +
          port_record_xml(R"(mac="52:54:00:aa:00:02" pool="provider" vlan="120" qos="3" )"
                          R"(spoofchk="off" min-tx-rate="10" max-tx-rate="100")"));
}

// A one-port domain: a managed='no' hostdev interface with <vlan><tag id=TAG> (when TAG is
// set) and a port record with the given attributes (after mac=).
inline std::string one_port_domain(const std::string& name, const PciAddress& vf,
                                   std::optional<int> tag, const std::string& record) {
  return domain_xml(name, interface_hostdev_xml({mac("52:54:00:ee:00:01"), vf, false, tag, ""}),
                    port_record_xml(R"(mac="52:54:00:ee:00:01" )" + record));
}

class HookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    vfs = bed.add_pf(standard_pf("0000:01:00.0", "enp1s0", 4), 2);
    // VFs 0, 1 and 3 carry an admin MAC, so that exact restores are visible; VF 2 keeps the
    // kernel's all-zero default for the never-zero rule.
    for (int vf : {0, 1, 3})
      bed.netlink_model().pf("enp1s0")->vfs[static_cast<size_t>(vf)].mac =
          mac("02:00:00:00:01:0" + std::to_string(vf));
    bed.save_netlink();
    bed.write_config(kProviderConfig);
  }

  // The exit status and, on mismatch, everything the hook said.
  static std::string explain(const HookResult& r) {
    return "exit " + std::to_string(r.exit_code) + " signal " + std::to_string(r.term_signal) +
           "\nstderr: " + r.err + "\nstdout: " + r.out;
  }

  // The request lines logged since `from` requests.
  std::vector<std::string> requests_since(size_t from) {
    auto all = bed.requests();
    return from < all.size()
               ? std::vector<std::string>(all.begin() + static_cast<long>(from), all.end())
               : std::vector<std::string>{};
  }

  TestBed bed;
  std::vector<PciAddress> vfs;  // 0000:01:10.0, :10.2, :10.4, :10.6
};

}  // namespace vfhook::blackbox
