// HostConfig: the host's pools and policy, read from /etc/vfhook/vfhook.toml (TOML, toml++).
//
//   state_dir = "/var/lib/vfhook"          # claims database, snapshots
//   host_bridge_vlans = ["1-99"]           # VLANs the host's own bridges use: never a guest's
//
//   [[pool]]
//   name = "provider"
//   pfs = ["enp1s0", "0000:02:00.0"]        # by interface name or PCI address
//   vf_range = "0-5"                        # optional: only these VF indexes of each PF
//   vlans = ["100-199", "300"]              # allowed VLANs; or flat = true (untagged only)
//   allow_trust = false                     # may a port ask for trust on
//   allow_spoofchk_off = false              # may a port ask for spoofchk off
//   spoofchk = true                         # defaults for ports that do not say
//   trust = false
//   link_state = "auto"
//   keep_idle_on_vfio = true                # idle VFs stay bound to vfio-pci
//   mode = "vf"                             # or "pf": the listed PFs are given whole
//   failover = false                        # may ports migrate live with virtio failover
//
// Validation is strict because a typo in policy must not silently widen it: unknown keys,
// wrong types, malformed VLAN ranges, a pool VLAN range overlapping host_bridge_vlans,
// a PF in two pools, keys that make no sense for the pool's mode, a default (trust = true,
// spoofchk = false) the pool itself does not allow (allow_trust, allow_spoofchk_off) are all
// refused. Every error
// names the file and line: "vfhook.toml:12: pool 'provider': vlans: '4095' is not a VLAN ID
// (1-4094)". VLAN lists accept strings ("100", "100-199") and plain integers (100).
//
// load_config() follows symlinks (a config-managed /etc file is often one) but checks the file
// it actually opened (fstat on the descriptor, so no check/use race): it must be a regular
// file, owned by root or the current euid, not group- or world-writable, at most 1 MiB. The
// permissions of the directories on the way are the administrator's business.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/vf_settings.h"
#include "util/result.h"

namespace vfhook {

struct VlanRange {
  uint16_t first = 0;
  uint16_t last = 0;
  [[nodiscard]] bool contains(uint16_t vlan) const { return vlan >= first && vlan <= last; }
  bool operator==(const VlanRange&) const = default;
};

enum class PoolMode { vf, pf };

struct PoolPf {
  std::string ref;  // interface name as written, or PCI address in canonical lower case
  bool operator==(const PoolPf&) const = default;
};

// The most VFs a PF offers in PCI (a function number is 8 bits below a bus; sriov_totalvfs
// caps it further per device).
inline constexpr int kMaxNumVfs = 256;

struct Pool {
  std::string name;
  PoolMode mode = PoolMode::vf;
  std::vector<PoolPf> pfs;
  std::optional<std::pair<int, int>> vf_range;  // inclusive VF index range
  bool flat = false;
  std::vector<VlanRange> vlans;
  bool allow_trust = false;
  bool allow_spoofchk_off = false;
  bool spoofchk = true;
  bool trust = false;
  LinkState link_state = LinkState::automatic;
  bool keep_idle_on_vfio = false;
  // VFs `vfctl vfs apply` creates on each PF of the pool (sriov_numvfs); nullopt: the PF's
  // count is left as it is.
  std::optional<int> num_vfs;
  // Ports of this pool may migrate LIVE with virtio-net failover (a VF interface with
  // <teaming type='transient'> paired with a virtio interface): the destination's migrate hook
  // accepts such a port only when its pool there says so, or when the domain carries an
  // unexpired cold-move marker (xml/move_marker.h). It governs arrival only: a teamed port of a
  // pool with failover = false still starts. Not allowed in a mode = "pf" pool.
  bool failover = false;

  // A tagged VLAN ID (1..4094) inside one of `vlans`; always false for a flat pool and for 0.
  [[nodiscard]] bool allows_vlan(uint16_t vlan) const;
  // True when the pool has no vf_range or `index` falls inside it.
  [[nodiscard]] bool includes_vf_index(int index) const;
  // vf_range as the config writes it ("0-5"); "" when the pool has none.
  [[nodiscard]] std::string vf_range_text() const;
};

struct HostConfig {
  std::string state_dir = "/var/lib/vfhook";
  std::vector<VlanRange> host_bridge_vlans;
  std::vector<Pool> pools;

  [[nodiscard]] const Pool* find_pool(std::string_view name) const;
  [[nodiscard]] bool is_host_bridge_vlan(uint16_t vlan) const;
};

// `source_name` is used only in error messages (usually the path).
Result<HostConfig> parse_config(std::string_view text, std::string_view source_name);
Result<HostConfig> load_config(const std::string& path);

}  // namespace vfhook
