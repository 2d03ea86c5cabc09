// FileVfNetlink: a VfNetlink whose state and request log live in a JSON file, so black-box
// tests can run the real hook binary (config [test] netlink_fake = "<path>") and check
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
#pragma once

#include <filesystem>
#include <string>

#include "vfio/fake_vf_netlink.h"

namespace vfhook {

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
