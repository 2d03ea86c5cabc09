// Fuzz target: the host config reader (parse_config, TOML through toml++).
//
// Invariants: a refusal is invalid_input and names the file and a line ("fuzz.toml:N: ...");
// an accepted config satisfies everything config.h promises: pool names safe and unique,
// every pool has PFs (interface names or PCI addresses, no PF in two pools), VLAN ranges
// inside 1..4094, ordered and clear of host_bridge_vlans, flat pools without VLANs, trust
// only where allowed, pf-mode pools without VF keys, paths absolute without "..".
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "model/names.h"
#include "model/pci_address.h"
#include "policy/config.h"

namespace vfhook {
namespace {

void check_ranges(const std::vector<VlanRange>& ranges, const char* what) {
  for (const VlanRange& r : ranges)
    FUZZ_CHECK(r.first >= 1 && r.first <= r.last && r.last <= 4094, "%s: range %u-%u", what,
               unsigned(r.first), unsigned(r.last));
}

void check_path(const std::optional<std::string>& path, const char* what) {
  if (!path) return;
  FUZZ_CHECK(!path->empty() && path->front() == '/', "%s '%s' is not absolute", what,
             path->c_str());
  FUZZ_CHECK(path->find("/../") == std::string::npos &&
                 !(path->size() >= 3 && path->compare(path->size() - 3, 3, "/..") == 0),
             "%s '%s' has '..'", what, path->c_str());
  FUZZ_CHECK(path->find('\0') == std::string::npos, "%s has a NUL", what);
}

void check_config(const HostConfig& config) {
  check_path(config.state_dir, "state_dir");
  check_ranges(config.host_bridge_vlans, "host_bridge_vlans");
  std::set<std::string> names, pfs;
  for (const Pool& pool : config.pools) {
    const char* name = pool.name.c_str();
    FUZZ_CHECK(is_safe_name(pool.name), "pool name '%s'", name);
    FUZZ_CHECK(names.insert(pool.name).second, "two pools named '%s'", name);
    FUZZ_CHECK(config.find_pool(pool.name) != nullptr, "find_pool('%s') misses it", name);
    FUZZ_CHECK(!pool.pfs.empty(), "pool '%s' without PFs", name);
    for (const PoolPf& pf : pool.pfs) {
      auto address = PciAddress::parse(pf.ref);
      FUZZ_CHECK(address || is_interface_name(pf.ref), "pool '%s': PF '%s'", name, pf.ref.c_str());
      const std::string canonical = address ? address->to_string() : pf.ref;
      FUZZ_CHECK(pfs.insert(canonical).second, "PF '%s' listed twice", pf.ref.c_str());
    }
    check_ranges(pool.vlans, name);
    for (const VlanRange& r : pool.vlans)
      for (const VlanRange& h : config.host_bridge_vlans)
        FUZZ_CHECK(r.last < h.first || h.last < r.first,
                   "pool '%s' range %u-%u overlaps host bridge range %u-%u", name,
                   unsigned(r.first), unsigned(r.last), unsigned(h.first), unsigned(h.last));
    FUZZ_CHECK(!(pool.flat && !pool.vlans.empty()), "flat pool '%s' with VLANs", name);
    FUZZ_CHECK(!pool.trust || pool.allow_trust, "pool '%s': trust without allow_trust", name);
    if (pool.vf_range)
      FUZZ_CHECK(pool.vf_range->first >= 0 && pool.vf_range->first <= pool.vf_range->second &&
                     pool.vf_range->second <= 255,
                 "vf_range %d-%d", pool.vf_range->first, pool.vf_range->second);
    if (pool.mode == PoolMode::pf)
      FUZZ_CHECK(!pool.vf_range && pool.vlans.empty(), "pf-mode pool '%s' with VF keys", name);
    // What the policy code derives from a pool must agree with its ranges.
    for (uint16_t vlan :
         {uint16_t(0), uint16_t(1), uint16_t(100), uint16_t(4094), uint16_t(4095)}) {
      bool in_range = false;
      for (const VlanRange& r : pool.vlans) in_range = in_range || r.contains(vlan);
      FUZZ_CHECK(pool.allows_vlan(vlan) == (!pool.flat && vlan != 0 && in_range),
                 "allows_vlan(%u) of pool '%s'", unsigned(vlan), name);
      if (pool.allows_vlan(vlan))
        FUZZ_CHECK(!config.is_host_bridge_vlan(vlan), "pool '%s' allows host VLAN %u", name,
                   unsigned(vlan));
    }
  }
}

}  // namespace
}  // namespace vfhook

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vfhook;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = parse_config(text, "fuzz.toml");
  if (!config) {
    const Error& e = config.error();
    FUZZ_CHECK(e.kind == ErrorKind::invalid_input, "refusal of kind %s: %s",
               std::string(to_string(e.kind)).c_str(), e.message.c_str());
    FUZZ_CHECK(e.message.rfind("fuzz.toml:", 0) == 0, "refusal without the file name: %s",
               e.message.c_str());
    return 0;
  }
  check_config(*config);
  return 0;
}
