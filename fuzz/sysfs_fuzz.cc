// Fuzz target: what vfhook parses from sysfs (vfio/pci_topology, vfio/driver_binding):
// integers (sriov_totalvfs, sriov_numvfs, numa_node, virtfnN), the 0x<hex> netdev flags,
// PCI addresses, and the link targets of physfn, virtfnN, driver, iommu_group, class/net/X/
// device, plus iommu_groups/N/devices and net/ listings.
//
// The input describes a sysfs tree in memory, one entry a line, then queries:
//   F <path> <content>     a file                  L <path> <target>   a symbolic link
//   D <path>               a directory (parents of any entry exist implicitly)
//   ? pf <name|address>    ? vf <address>    ? driver <address>   ? group <address>
//   ? devices <group>      ? up <ifname>     ? netdev <address>   ? numa <address>
//   ? viable <address>
//
// Invariants:
//  - vfhook never asks sysfs for an absolute path, or one with an empty, "." or ".."
//    component, whatever the tree holds (hostile contents must not steer paths);
//  - parse_sysfs_int agrees with a plain reference parser; PciAddress::parse accepts exactly
//    the canonical form and round-trips; netdev_admin_up agrees with strtoul on 0x<hex>;
//  - what PciTopology returns is well-formed: canonical addresses, safe driver and interface
//    names, IOMMU group >= 0, a PF's VFs sorted by index, pointing back at the PF, each once.
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include <net/if.h>

#include "fuzz/fuzz_check.h"
#include "model/pci_address.h"
#include "vfio/driver_binding.h"
#include "vfio/pci_topology.h"
#include "vfio/sysfs.h"

namespace vfhook {
namespace {

void check_path(std::string_view path) {
  FUZZ_CHECK(!path.empty() && path.front() != '/', "sysfs path '%.*s'", int(path.size()),
             path.data());
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    FUZZ_CHECK(
        !part.empty() && part != "." && part != ".." && part.find('\0') == std::string_view::npos,
        "sysfs path '%.*s' has a bad component", int(path.size()), path.data());
    start = end + 1;
  }
}

// A sysfs tree in memory; like DirSysfs, but every path vfhook asks for is checked first.
class MemorySysfs : public Sysfs {
 public:
  enum class Kind { file, link, dir };
  struct Node {
    Kind kind = Kind::dir;
    std::string value;
  };

  void add(std::string_view path, Kind kind, std::string value) {
    if (path.empty()) return;
    // Parents are directories (unless the input made them something else first).
    for (size_t slash = path.find('/'); slash != std::string_view::npos;
         slash = path.find('/', slash + 1))
      nodes_.emplace(std::string(path.substr(0, slash)), Node{Kind::dir, {}});
    nodes_[std::string(path)] = Node{kind, std::move(value)};
  }

  Result<std::string> read(std::string_view path) override {
    check_path(path);
    const Node* node = find(path);
    if (node == nullptr) return fail(errno_error(ENOENT, "read " + std::string(path)));
    if (node->kind != Kind::file) return fail(errno_error(EISDIR, "read " + std::string(path)));
    if (node->value.size() > 4096) return fail(ErrorKind::invalid_input, "too long");
    std::string out = node->value;
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  Status write(std::string_view path, std::string_view) override {
    check_path(path);
    FUZZ_CHECK(false, "a read-only query wrote %.*s", int(path.size()), path.data());
    return ok();
  }
  Result<std::string> read_link(std::string_view path) override {
    check_path(path);
    const Node* node = find(path);
    if (node == nullptr) return fail(errno_error(ENOENT, "readlink " + std::string(path)));
    if (node->kind != Kind::link) return fail(errno_error(EINVAL, "readlink " + std::string(path)));
    if (node->value.size() >= 4096) return fail(ErrorKind::invalid_input, "target too long");
    return node->value;
  }
  Result<std::vector<std::string>> list(std::string_view path) override {
    check_path(path);
    const Node* node = find(path);
    if (node == nullptr) return fail(errno_error(ENOENT, "list " + std::string(path)));
    if (node->kind != Kind::dir) return fail(errno_error(ENOTDIR, "list " + std::string(path)));
    const std::string prefix = std::string(path) + "/";
    std::vector<std::string> names;
    for (auto it = nodes_.lower_bound(prefix); it != nodes_.end(); ++it) {
      if (it->first.compare(0, prefix.size(), prefix) != 0) break;
      std::string_view rest = std::string_view(it->first).substr(prefix.size());
      if (!rest.empty() && rest.find('/') == std::string_view::npos) names.emplace_back(rest);
    }
    return names;  // std::map order: sorted, as DirSysfs sorts
  }
  bool exists(std::string_view path) override {
    check_path(path);
    return find(path) != nullptr;
  }

 private:
  const Node* find(std::string_view path) const {
    auto it = nodes_.find(std::string(path));
    return it == nodes_.end() ? nullptr : &it->second;
  }
  std::map<std::string, Node> nodes_;
};

// ---- reference parsers ---------------------------------------------------------------------

void check_sysfs_int(std::string_view text) {
  auto got = parse_sysfs_int(text, "fuzz");
  const bool negative = !text.empty() && text.front() == '-';
  const std::string_view digits = negative ? text.substr(1) : text;
  const bool valid =
      !digits.empty() && digits.size() <= 9 &&
      std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
  FUZZ_CHECK(bool(got) == valid, "parse_sysfs_int('%.*s') %s", int(text.size()), text.data(),
             got ? "accepted" : "refused");
  if (!got) {
    FUZZ_CHECK(got.error().kind == ErrorKind::invalid_input, "kind");
    return;
  }
  int want = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), want);
  if (negative) want = -want;
  FUZZ_CHECK(*got == want, "parse_sysfs_int('%.*s') = %d, want %d", int(text.size()), text.data(),
             *got, want);
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

void check_pci_address(std::string_view text) {
  auto got = PciAddress::parse(text);
  bool canonical = text.size() == 12 && text[4] == ':' && text[7] == ':' && text[10] == '.';
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9, 11}) canonical = canonical && is_hex(text[i]);
  if (canonical) {
    const unsigned slot =
        unsigned(std::strtoul(std::string(text.substr(8, 2)).c_str(), nullptr, 16));
    const unsigned function =
        unsigned(std::strtoul(std::string(text.substr(11, 1)).c_str(), nullptr, 16));
    canonical = slot <= 0x1f && function <= 7;
  }
  FUZZ_CHECK(bool(got) == canonical, "PciAddress::parse('%.*s') %s", int(text.size()), text.data(),
             got ? "accepted" : "refused");
  if (!got) return;
  std::string lower(text);
  for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  FUZZ_CHECK(got->to_string() == lower, "'%.*s' printed as %s", int(text.size()), text.data(),
             got->to_string().c_str());
  auto again = PciAddress::parse(got->to_string());
  FUZZ_CHECK(again && *again == *got, "round trip of %s", got->to_string().c_str());
}

std::string_view last_component(std::string_view target) {
  size_t slash = target.rfind('/');
  return slash == std::string_view::npos ? target : target.substr(slash + 1);
}

// ---- checks on PciTopology's answers -------------------------------------------------------

void check_address(const PciAddress& a) {
  auto again = PciAddress::parse(a.to_string());
  FUZZ_CHECK(again && *again == a && a.slot <= 0x1f && a.function <= 7, "address %s",
             a.to_string().c_str());
}

void check_vf(const VfInfo& vf) {
  check_address(vf.address);
  check_address(vf.pf);
  FUZZ_CHECK(vf.pf_name.empty() || is_safe_name(vf.pf_name), "pf name '%s'", vf.pf_name.c_str());
  FUZZ_CHECK(!vf.driver || is_safe_name(*vf.driver), "driver '%s'", vf.driver->c_str());
  FUZZ_CHECK(!vf.netdev || is_safe_name(*vf.netdev), "netdev '%s'", vf.netdev->c_str());
  FUZZ_CHECK(vf.iommu_group >= 0, "iommu group %d", vf.iommu_group);
  FUZZ_CHECK(vf.numa_node >= -1, "numa node %d", vf.numa_node);
  FUZZ_CHECK(vf.index >= 0, "VF %s has index %d", vf.address.to_string().c_str(), vf.index);
}

void check_pf(const PfInfo& pf, std::string_view asked) {
  check_address(pf.address);
  FUZZ_CHECK(pf.name.empty() || is_safe_name(pf.name), "pf name '%s'", pf.name.c_str());
  if (auto address = PciAddress::parse(asked))
    FUZZ_CHECK(pf.address == *address, "pf address");
  else
    FUZZ_CHECK(pf.name == asked, "pf name '%s' for '%.*s'", pf.name.c_str(), int(asked.size()),
               asked.data());
  FUZZ_CHECK(!pf.driver || is_safe_name(*pf.driver), "driver '%s'", pf.driver->c_str());
  FUZZ_CHECK(pf.numa_node >= -1, "numa node %d", pf.numa_node);
  std::set<PciAddress> seen;
  for (size_t i = 0; i < pf.vfs.size(); ++i) {
    const VfInfo& vf = pf.vfs[i];
    check_vf(vf);
    FUZZ_CHECK(vf.pf == pf.address && vf.pf_name == pf.name, "VF %s of another PF",
               vf.address.to_string().c_str());
    FUZZ_CHECK(i == 0 || pf.vfs[i - 1].index <= vf.index, "VFs not sorted by index");
    FUZZ_CHECK(seen.insert(vf.address).second, "VF %s listed twice",
               vf.address.to_string().c_str());
  }
}

void check_admin_up(MemorySysfs& sysfs, PciTopology& topology, std::string_view ifname) {
  auto got = topology.netdev_admin_up(ifname);
  if (!is_safe_name(ifname)) {
    FUZZ_CHECK(!got, "netdev_admin_up of an unsafe name");
    return;
  }
  auto text = sysfs.read("class/net/" + std::string(ifname) + "/flags");
  if (!text) {
    FUZZ_CHECK(!got, "netdev_admin_up without a flags file");
    return;
  }
  const std::string& t = *text;
  const bool valid = t.size() >= 3 && t.size() <= 10 && t[0] == '0' && t[1] == 'x' &&
                     std::all_of(t.begin() + 2, t.end(), is_hex);
  FUZZ_CHECK(bool(got) == valid, "netdev_admin_up('%s') %s", t.c_str(),
             got ? "accepted" : "refused");
  if (got)
    FUZZ_CHECK(*got == ((std::strtoul(t.c_str() + 2, nullptr, 16) & IFF_UP) != 0),
               "netdev_admin_up('%s') = %d", t.c_str(), int(*got));
}

void run_query(MemorySysfs& sysfs, std::string_view what, std::string_view arg) {
  PciTopology topology(sysfs);
  auto address = PciAddress::parse(arg);
  if (what == "pf") {
    if (auto pf = topology.pf(arg)) check_pf(*pf, arg);
  } else if (what == "up") {
    check_admin_up(sysfs, topology, arg);
  } else if (what == "devices") {
    int group = 0;
    auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), group);
    if (ec != std::errc() || end != arg.data() + arg.size()) return;
    if (auto devices = topology.iommu_group_devices(group))
      for (const PciAddress& d : *devices) check_address(d);
  } else if (!address) {
    return;
  } else if (what == "vf") {
    auto vf = topology.vf(*address);
    if (vf && *vf) {
      check_vf(**vf);
      FUZZ_CHECK((*vf)->address == *address, "vf() of another address");
    }
  } else if (what == "driver") {
    auto driver = topology.driver(*address);
    if (driver && *driver) FUZZ_CHECK(is_safe_name(**driver), "driver '%s'", (*driver)->c_str());
  } else if (what == "group") {
    auto group = topology.iommu_group(*address);
    if (group) FUZZ_CHECK(*group >= 0, "group %d", *group);
  } else if (what == "netdev") {
    auto netdev = topology.netdev(*address);
    if (netdev && *netdev) FUZZ_CHECK(is_safe_name(**netdev), "netdev '%s'", (*netdev)->c_str());
  } else if (what == "numa") {
    auto node = topology.numa_node(*address);
    if (node) FUZZ_CHECK(*node >= -1, "numa node %d", *node);
  } else if (what == "viable") {
    (void)check_iommu_group_viable(sysfs, *address);
  }
}

}  // namespace
}  // namespace vfhook

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vfhook;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  MemorySysfs sysfs;
  std::vector<std::pair<std::string_view, std::string_view>> queries;
  while (!input.empty()) {
    size_t eol = input.find('\n');
    std::string_view line = input.substr(0, eol);
    input = eol == std::string_view::npos ? std::string_view() : input.substr(eol + 1);
    if (line.size() < 3 || line[1] != ' ') continue;
    std::string_view rest = line.substr(2);
    size_t space = rest.find(' ');
    std::string_view first = rest.substr(0, space);
    std::string_view second = space == std::string_view::npos ? "" : rest.substr(space + 1);
    switch (line[0]) {
      case 'F':
        sysfs.add(first, MemorySysfs::Kind::file, std::string(second));
        check_sysfs_int(second);
        break;
      case 'L':
        sysfs.add(first, MemorySysfs::Kind::link, std::string(second));
        check_pci_address(last_component(second));
        check_sysfs_int(last_component(second));
        break;
      case 'D':
        sysfs.add(first, MemorySysfs::Kind::dir, {});
        check_pci_address(last_component(first));
        break;
      case '?':
        if (queries.size() < 12) queries.emplace_back(first, second);
        break;
      default:
        break;
    }
  }
  for (const auto& [what, arg] : queries) run_query(sysfs, what, arg);
  return 0;
}
