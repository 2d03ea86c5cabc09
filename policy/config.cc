// Strict TOML reading of the host config. toml++ reports syntax errors by exception; they are
// caught here and never leave this file.
#include "policy/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <toml++/toml.h>
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>
#include <set>

#include "model/names.h"
#include "model/pci_address.h"
#include "util/fd.h"

namespace vfhook {

bool Pool::allows_vlan(uint16_t vlan) const {
  if (flat || vlan == 0) return false;
  return std::any_of(vlans.begin(), vlans.end(),
                     [&](const VlanRange& r) { return r.contains(vlan); });
}

bool Pool::includes_vf_index(int index) const {
  if (index < 0) return false;
  return !vf_range || (index >= vf_range->first && index <= vf_range->second);
}

std::string Pool::vf_range_text() const {
  if (!vf_range) return "";
  return std::to_string(vf_range->first) + "-" + std::to_string(vf_range->second);
}

const Pool* HostConfig::find_pool(std::string_view name) const {
  for (const Pool& pool : pools) {
    if (pool.name == name) return &pool;
  }
  return nullptr;
}

bool HostConfig::is_host_bridge_vlan(uint16_t vlan) const {
  return std::any_of(host_bridge_vlans.begin(), host_bridge_vlans.end(),
                     [&](const VlanRange& r) { return r.contains(vlan); });
}

namespace {

// Strict unsigned decimal: digits only, no sign, no spaces, no leading '+'.
bool parse_uint(std::string_view text, int max, int& out) {
  if (text.empty() || text.size() > 6) return false;
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out <= max;
}

std::string range_text(const VlanRange& r) {
  return r.first == r.last ? std::to_string(r.first)
                           : std::to_string(r.first) + "-" + std::to_string(r.last);
}

bool overlaps(const VlanRange& a, const VlanRange& b) {
  return a.first <= b.last && b.first <= a.last;
}

bool is_clean_absolute_path(const std::string& path) {
  if (path.empty() || path.front() != '/' || path.find('\0') != std::string::npos) return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (path.compare(start, end - start, "..") == 0) return false;
    start = end + 1;
  }
  return true;
}

const char* type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date or time";
  }
}

class ConfigReader {
 public:
  explicit ConfigReader(std::string_view source) : source_(source) {}

  Result<HostConfig> read(const toml::table& root) {
    HostConfig config;
    for (const auto& [key, node] : root) {
      const std::string_view k = key.str();
      if (k == "state_dir") {
        VF_ASSIGN(dir, absolute_path(node, "state_dir"));
        config.state_dir = dir;
      } else if (k == "host_bridge_vlans") {
        VF_ASSIGN(ranges, vlan_list(node, "host_bridge_vlans"));
        config.host_bridge_vlans = ranges;
      } else if (k == "pool") {
        // Read below, after host_bridge_vlans is known.
      } else {
        return unknown_key(key, "", "state_dir, host_bridge_vlans, [[pool]]");
      }
    }
    if (const toml::node* pools = root.get("pool")) {
      const toml::array* array = pools->as_array();
      if (!array) return error(*pools, "pool: expected [[pool]] tables");
      std::map<std::string, std::string> pf_owner;  // canonical PF ref -> pool name
      for (const toml::node& entry : *array) {
        const toml::table* table = entry.as_table();
        if (!table) return error(entry, "pool: expected [[pool]] tables");
        VF_ASSIGN(pool, read_pool(*table, config));
        for (const PoolPf& pf : pool.pfs) {
          auto [it, inserted] = pf_owner.emplace(canonical_pf(pf.ref), pool.name);
          if (!inserted) {
            return error(*table, "pool '" + pool.name + "': pfs: PF '" + pf.ref +
                                     "' is already in pool '" + it->second +
                                     "' (a PF belongs to one pool)");
          }
        }
        config.pools.push_back(std::move(pool));
      }
    }
    return config;
  }

 private:
  static std::string canonical_pf(const std::string& ref) {
    auto address = PciAddress::parse(ref);
    return address ? address->to_string() : ref;
  }

  tl::unexpected<Error> error(uint32_t line, const std::string& message) const {
    return fail(ErrorKind::invalid_input,
                std::string(source_) + ":" + std::to_string(line) + ": " + message);
  }
  tl::unexpected<Error> error(const toml::node& node, const std::string& message) const {
    return error(node.source().begin.line, message);
  }
  tl::unexpected<Error> unknown_key(const toml::key& key, const std::string& where,
                                    const std::string& allowed) const {
    std::string shown(key.str().substr(0, 64));
    return error(key.source().begin.line,
                 where + "unknown key '" + shown + "' (allowed: " + allowed + ")");
  }

  Result<std::string> string_value(const toml::node& node, const std::string& what) const {
    const auto* value = node.as_string();
    if (!value) return error(node, what + ": expected a string, got " + type_name(node));
    return value->get();
  }
  Result<bool> bool_value(const toml::node& node, const std::string& what) const {
    const auto* value = node.as_boolean();
    if (!value) return error(node, what + ": expected true or false, got " + type_name(node));
    return value->get();
  }
  Result<std::string> absolute_path(const toml::node& node, const std::string& what) const {
    // Read the string in place: GCC 12 warns (falsely) about a moved-from expected<string>.
    const auto* value = node.as_string();
    if (!value) return error(node, what + ": expected a string, got " + type_name(node));
    const std::string& path = value->get();
    if (!is_clean_absolute_path(path)) {
      return error(node,
                   what + ": '" + path.substr(0, 200) + "' is not an absolute path without '..'");
    }
    return path;
  }

  Result<VlanRange> vlan_range(const toml::node& node, const std::string& what) const {
    std::string text;
    if (const auto* integer = node.as_integer()) {
      text = std::to_string(integer->get());
    } else if (const auto* string = node.as_string()) {
      text = string->get();
    } else {
      return error(node, what + ": expected \"N\" or \"A-B\", got " + type_name(node));
    }
    const std::string shown = text.substr(0, 64);
    const size_t dash = text.find('-');
    const std::string_view whole(text);
    const std::string_view first_text = whole.substr(0, dash);
    const std::string_view last_text =
        dash == std::string::npos ? first_text : whole.substr(dash + 1);
    int first = 0, last = 0;
    auto check = [&](std::string_view part, int& out) -> Status {
      if (!parse_uint(part, 999999, out)) {
        return error(node, what + ": '" + shown + "' is not a VLAN ID or range (\"N\" or \"A-B\")");
      }
      if (out < 1 || out > 4094) {
        return error(node, what + ": '" + std::string(part) + "' is not a VLAN ID (1-4094)");
      }
      return ok();
    };
    VF_TRY(check(first_text, first));
    VF_TRY(check(last_text, last));
    if (first > last) return error(node, what + ": '" + shown + "' is an empty range");
    return VlanRange{static_cast<uint16_t>(first), static_cast<uint16_t>(last)};
  }

  Result<std::vector<VlanRange>> vlan_list(const toml::node& node, const std::string& what) const {
    const toml::array* array = node.as_array();
    if (!array) return error(node, what + ": expected an array like [\"100-199\", \"300\"]");
    std::vector<VlanRange> ranges;
    for (const toml::node& entry : *array) {
      VF_ASSIGN(range, vlan_range(entry, what));
      ranges.push_back(range);
    }
    return ranges;
  }

  Result<Pool> read_pool(const toml::table& table, const HostConfig& config) const {
    Pool pool;
    const toml::node* name = table.get("name");
    if (!name) return error(table, "pool: missing 'name'");
    VF_ASSIGN(pool_name, string_value(*name, "pool: name"));
    if (!is_safe_name(pool_name)) {
      return error(*name, "pool: name '" + pool_name.substr(0, 64) +
                              "' must be 1-64 of A-Z a-z 0-9 _ . : -");
    }
    if (config.find_pool(pool_name)) {
      return error(*name, "pool '" + pool_name + "': name used by an earlier pool");
    }
    pool.name = pool_name;
    const std::string prefix = "pool '" + pool.name + "': ";

    if (const toml::node* mode = table.get("mode")) {
      VF_ASSIGN(text, string_value(*mode, prefix + "mode"));
      if (text == "vf") {
        pool.mode = PoolMode::vf;
      } else if (text == "pf") {
        pool.mode = PoolMode::pf;
      } else {
        return error(*mode, prefix + "mode: '" + text.substr(0, 64) + "' is not \"vf\" or \"pf\"");
      }
    }

    bool has_vlans = false;
    for (const auto& [key, value] : table) {
      const std::string_view k = key.str();
      const std::string what = prefix + std::string(k);
      if (pool.mode == PoolMode::pf &&
          (k == "vf_range" || k == "vlans" || k == "num_vfs" || k == "failover")) {
        return error(key.source().begin.line,
                     what + ": not allowed in a mode = \"pf\" pool (its PFs are given whole)");
      }
      if (k == "name" || k == "mode") {
        continue;
      } else if (k == "pfs") {
        VF_TRY(read_pfs(value, what, pool));
      } else if (k == "vf_range") {
        VF_ASSIGN(text, string_value(value, what));
        const size_t dash = text.find('-');
        int first = 0, last = 0;
        if (dash == std::string::npos || !parse_uint(text.substr(0, dash), 255, first) ||
            !parse_uint(text.substr(dash + 1), 255, last) || first > last) {
          return error(value, what + ": '" + text.substr(0, 64) +
                                  "' is not a VF index range \"A-B\" with 0 <= A <= B <= 255");
        }
        pool.vf_range = std::pair{first, last};
      } else if (k == "vlans") {
        VF_ASSIGN(ranges, vlan_list(value, what));
        for (const VlanRange& range : ranges) {
          for (const VlanRange& host : config.host_bridge_vlans) {
            if (overlaps(range, host)) {
              return error(value, what + ": '" + range_text(range) +
                                      "' overlaps host_bridge_vlans '" + range_text(host) +
                                      "': a guest could join a host bridge VLAN");
            }
          }
        }
        pool.vlans = ranges;
        has_vlans = true;
      } else if (k == "flat") {
        VF_ASSIGN(flag, bool_value(value, what));
        pool.flat = flag;
      } else if (k == "allow_trust") {
        VF_ASSIGN(flag, bool_value(value, what));
        pool.allow_trust = flag;
      } else if (k == "allow_spoofchk_off") {
        VF_ASSIGN(flag, bool_value(value, what));
        pool.allow_spoofchk_off = flag;
      } else if (k == "spoofchk") {
        VF_ASSIGN(flag, bool_value(value, what));
        pool.spoofchk = flag;
      } else if (k == "trust") {
        VF_ASSIGN(flag, bool_value(value, what));
        pool.trust = flag;
      } else if (k == "num_vfs") {
        const auto* count = value.as_integer();
        if (!count || count->get() < 0 || count->get() > kMaxNumVfs)
          return error(value, what + ": expected a VF count 0-" + std::to_string(kMaxNumVfs) +
                                  ", got " +
                                  (count ? std::to_string(count->get()) : type_name(value)));
        pool.num_vfs = static_cast<int>(count->get());
      } else if (k == "keep_idle_on_vfio") {
        VF_ASSIGN(flag, bool_value(value, what));
        pool.keep_idle_on_vfio = flag;
      } else if (k == "failover") {
        VF_ASSIGN(flag, bool_value(value, what));
        pool.failover = flag;
      } else if (k == "link_state") {
        VF_ASSIGN(text, string_value(value, what));
        auto state = parse_link_state(text);
        if (!state)
          return error(value, what + ": '" + text.substr(0, 64) +
                                  "' is not \"auto\", \"enable\" or \"disable\"");
        pool.link_state = *state;
      } else {
        return unknown_key(key, prefix,
                           "name, mode, pfs, vf_range, vlans, flat, allow_trust, "
                           "allow_spoofchk_off, spoofchk, trust, link_state, keep_idle_on_vfio, "
                           "num_vfs, failover");
      }
    }
    if (pool.pfs.empty()) return error(table, prefix + "missing 'pfs' (the PFs of the pool)");
    if (pool.flat && has_vlans) {
      return error(*table.get("flat"),
                   prefix + "flat = true and vlans exclude each other (flat is untagged only)");
    }
    if (pool.trust && !pool.allow_trust) {
      return error(*table.get("trust"),
                   prefix + "trust = true as a default needs allow_trust = true");
    }
    // Like trust: a default that would make every port of the pool refused is a config error,
    // reported once with its line, rather than a refusal of every start.
    if (!pool.spoofchk && !pool.allow_spoofchk_off) {
      return error(*table.get("spoofchk"),
                   prefix +
                       "spoofchk = false as a default needs allow_spoofchk_off = true (a VF "
                       "without spoof checking may send frames with any source MAC)");
    }
    return pool;
  }

  Status read_pfs(const toml::node& node, const std::string& what, Pool& pool) const {
    const toml::array* array = node.as_array();
    if (!array || array->empty()) {
      return error(node, what + ": expected a non-empty array of interface names or PCI addresses");
    }
    std::set<std::string> seen;
    for (const toml::node& entry : *array) {
      VF_ASSIGN(ref, string_value(entry, what));
      const bool looks_like_pci = ref.find(':') != std::string::npos;
      if (looks_like_pci ? !PciAddress::parse(ref) : !is_interface_name(ref)) {
        return error(entry, what + ": '" + ref.substr(0, 64) +
                                "' is neither an interface name (at most 15 of A-Z a-z 0-9 _ . "
                                "-) nor a PCI address (0000:03:00.0)");
      }
      // A PCI address is kept in its canonical lower-case form, the one sysfs uses and the
      // engine compares with; an interface name is kept as written (names are case-sensitive).
      const std::string canonical = canonical_pf(ref);
      if (!seen.insert(canonical).second) {
        return error(entry, what + ": '" + ref + "' is listed twice");
      }
      pool.pfs.push_back(PoolPf{canonical});
    }
    return ok();
  }

  std::string_view source_;
};

}  // namespace

Result<HostConfig> parse_config(std::string_view text, std::string_view source_name) {
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    return fail(ErrorKind::invalid_input, std::string(source_name) + ":" +
                                              std::to_string(e.source().begin.line) + ": " +
                                              std::string(e.description()));
  } catch (const std::exception& e) {
    return fail(ErrorKind::invalid_input, std::string(source_name) + ": " + e.what());
  }
  return ConfigReader(source_name).read(root);
}

Result<HostConfig> load_config(const std::string& path) {
  constexpr size_t max_size = 1 << 20;
  // O_NONBLOCK: opening a FIFO planted in place of the file must not hang the hook.
  const Fd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!file) return fail(errno_error(errno, "open config " + path));
  const int fd = file.get();

  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail(errno_error(errno, "stat config " + path));
  if (!S_ISREG(st.st_mode)) {
    return fail(ErrorKind::policy, path + " is not a regular file");
  }
  if (st.st_uid != 0 && st.st_uid != ::geteuid()) {
    return fail(ErrorKind::policy, path + " is owned by uid " + std::to_string(st.st_uid) +
                                       ", neither root nor uid " + std::to_string(::geteuid()) +
                                       ": that user could change VLAN policy; run chown root " +
                                       path);
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    const char* who = (st.st_mode & S_IWOTH) ? "anyone on this host" : "anyone in that group";
    return fail(ErrorKind::policy, path + " is writable by group/others (mode " + mode + "): " +
                                       who + " could change VLAN policy; run chmod go-w " + path);
  }
  if (static_cast<uint64_t>(st.st_size) > max_size) {
    return fail(ErrorKind::invalid_input, path + " is larger than 1 MiB");
  }

  std::string text;
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno_error(errno, "read config " + path));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > max_size)
      return fail(ErrorKind::invalid_input, path + " is larger than 1 MiB");
  }
  return parse_config(text, path);
}

}  // namespace vfhook
