// Recording fakes of VfNetlink (FileVfNetlink below keeps the same state in a JSON file).
//
// RecordingVfNetlink: an in-memory VfNetlink for tests. It holds PFs and their VFs' admin
// state, applies each request to that state, and records every setter call (refused ones
// too) as one readable line, e.g.
//   set_mac enp1s0 0 52:54:00:12:34:56
//   set_vlan enp1s0 0 10 qos 3 proto 802.1ad
//   set_spoofchk enp1s0 0 on          set_trust enp1s0 3 off
//   set_link_state enp1s0 0 enable    set_rates enp1s0 0 min 10 max 100
// Reads (read_pf) are not recorded.
//
// Like the kernel, it refuses a VF index outside the PF's VFs, a VLAN above 4095, a QoS
// above 7 and a multicast MAC (EINVAL). Faults can be injected per attribute, optionally for
// one PF or one VF: refuse with an errno, or accept and silently not apply ("does not
// stick", as some drivers do), to test the caller's verification.
//
// Errors name the attribute and value the way LibnlVfNetlink does: "trust on: <reason>".
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/pci_address.h"
#include "vfio/sysfs.h"
#include "vfio/vf_netlink.h"

namespace vfhook {

enum class VfAttribute { mac, vlan, spoofchk, trust, link_state, rates };
std::string_view to_string(VfAttribute attribute);  // "mac", "vlan", ..., "link_state", "rates"
std::optional<VfAttribute> parse_vf_attribute(std::string_view text);

struct VfFault {
  VfAttribute attribute = VfAttribute::mac;
  std::optional<std::string> pf;  // nullopt = every PF
  std::optional<int> vf;          // nullopt = every VF
  int error = 0;                  // errno to refuse with; 0 = accept but do not apply
};

class RecordingVfNetlink : public VfNetlink {
 public:
  // A PF with `num_vfs` VFs in their default state (zero MAC, no VLAN, spoofchk on, trust
  // off, link auto, no rates). Replaces a PF of the same name.
  void add_pf(std::string name, int ifindex, bool admin_up, int num_vfs);
  // The stored state of a PF, for tests to arrange or inspect; nullptr when unknown.
  PfLink* pf(std::string_view name);
  // Makes the PF's VF list follow its sriov_numvfs in `sysfs`, as the kernel's does: when the
  // count differs from the list, the list becomes that many VFs in their default state (the
  // kernel destroys and re-creates every VF on a count change).
  void follow_vf_count(std::string name, Sysfs& sysfs, PciAddress pf);
  [[nodiscard]] const std::map<std::string, PfLink, std::less<>>& pfs() const { return pfs_; }

  void refuse(VfAttribute attribute, int error, std::optional<std::string> pf = std::nullopt,
              std::optional<int> vf = std::nullopt);
  void ignore(VfAttribute attribute, std::optional<std::string> pf = std::nullopt,
              std::optional<int> vf = std::nullopt);
  [[nodiscard]] const std::vector<VfFault>& faults() const { return faults_; }
  void add_fault(VfFault fault) { faults_.push_back(std::move(fault)); }

  [[nodiscard]] const std::vector<std::string>& requests() const { return requests_; }
  void set_requests(std::vector<std::string> requests) { requests_ = std::move(requests); }

  Result<PfLink> read_pf(std::string_view pf_name) override;
  Status set_mac(std::string_view pf_name, int vf, const MacAddress& mac) override;
  Status set_vlan(std::string_view pf_name, int vf, const Vlan& vlan) override;
  Status set_spoofchk(std::string_view pf_name, int vf, bool on) override;
  Status set_trust(std::string_view pf_name, int vf, bool on) override;
  Status set_link_state(std::string_view pf_name, int vf, LinkState state) override;
  Status set_rates(std::string_view pf_name, int vf, uint32_t min_tx_mbps,
                   uint32_t max_tx_mbps) override;

 private:
  template <class Apply>
  Status request(VfAttribute attribute, std::string_view pf_name, int vf, const std::string& value,
                 int invalid_errno, Apply apply);

  void sync_vf_count(std::string_view name);

  std::map<std::string, PfLink, std::less<>> pfs_;
  std::map<std::string, std::pair<Sysfs*, PciAddress>, std::less<>> followed_;
  std::vector<VfFault> faults_;
  std::vector<std::string> requests_;
};

// How a VLAN reads in request lines and errors: "10 qos 3 proto 802.1ad".
std::string describe(const Vlan& vlan);

// ---------------------------------------------------------------------------------------
// FileVfNetlink: a VfNetlink whose state and request log live in a JSON file, so black-box
// tests can run the real hook binary (the test bed's core reads the path from the
// <config>.backends file beside the config) and check
// afterwards what it asked for. Every call takes an exclusive flock() on the file, loads it,
// applies the call exactly as RecordingVfNetlink does (same request lines, same faults), and
// rewrites the file in place before unlocking, so concurrent hook processes lose no update.
// (In place, not temp + rename: a rename would leave waiters locking the replaced inode.)
//
// The file is untrusted input: it is validated strictly (unknown keys, wrong types and out
// of range values are refused with the JSON path named) and capped at 8 MiB. The test must
// create it; FileVfNetlink never creates it.
//
// Format (keys marked ? are optional; VF keys default to the kernel's defaults):
// {
//   "pfs": {
//     "enp1s0": {                      name: 1..15 of [A-Za-z0-9_.:-]
//       "ifindex": 2,                  1..2^31-1
//       "up": true,                    IFF_UP
//       "refuse"?: {"trust": 95},      attribute -> errno the driver answers with (1..4095)
//       "ignore"?: ["spoofchk"],       attributes accepted but not applied ("does not stick")
//       "vfs": [                       by VF index, at most 256
//         {"mac"?: "52:54:00:00:00:01", "vlan"?: 0, "qos"?: 0, "proto"?: "802.1Q",
//          "spoofchk"?: true, "trust"?: false (or null: not reported),
//          "link_state"?: "auto", "min_tx_rate"?: 0, "max_tx_rate"?: 0}
//       ]
//     }
//   },
//   "requests"?: ["set_mac enp1s0 0 52:54:00:00:00:01", ...]   appended by every setter
// }
// Attribute names: mac vlan spoofchk trust link_state rates. proto: "802.1Q" / "802.1ad".
// link_state: "auto" / "enable" / "disable".

// The JSON text of a fake's state (PFs, faults limited to what the format can say:
// PF-wide refuse/ignore) and request log.
Result<std::string> fake_vf_state_to_json(const RecordingVfNetlink& state);
Result<RecordingVfNetlink> fake_vf_state_from_json(std::string_view json);

class FileVfNetlink : public VfNetlink {
 public:
  explicit FileVfNetlink(std::filesystem::path path) : path_(std::move(path)) {}

  // For tests: write the initial state / read back the final one (under the same lock).
  static Status save(const std::filesystem::path& path, const RecordingVfNetlink& state);
  static Result<RecordingVfNetlink> load(const std::filesystem::path& path);

  Result<PfLink> read_pf(std::string_view pf_name) override;
  Status set_mac(std::string_view pf_name, int vf, const MacAddress& mac) override;
  Status set_vlan(std::string_view pf_name, int vf, const Vlan& vlan) override;
  Status set_spoofchk(std::string_view pf_name, int vf, bool on) override;
  Status set_trust(std::string_view pf_name, int vf, bool on) override;
  Status set_link_state(std::string_view pf_name, int vf, LinkState state) override;
  Status set_rates(std::string_view pf_name, int vf, uint32_t min_tx_mbps,
                   uint32_t max_tx_mbps) override;

 private:
  // Runs `call` on the loaded state under the lock and saves the state afterwards
  // (also when the call failed: a refused request is still recorded).
  template <class Call>
  Status locked_call(Call call);

  std::filesystem::path path_;
};

}  // namespace vfhook
