#include "vfio/pci_topology.h"

#include <net/if.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <utility>

namespace vfhook {
namespace {

std::string_view last_component(std::string_view target) {
  size_t slash = target.rfind('/');
  return slash == std::string_view::npos ? target : target.substr(slash + 1);
}

// What a read of a sysfs entry that is not there fails with. Reading first and asking why only
// on failure saves a stat per attribute: on the start path of every guest, sysfs lookups are
// most of vfhook's own time.
bool is_absent(const Error& error) {
  return error.sys_errno == ENOENT || error.sys_errno == ENOTDIR;
}

std::string shown(std::string_view text) {
  return std::string(text.substr(0, 128));
}

// N of a PF's virtfnN entry. The kernel writes it in decimal without a sign or leading zeros;
// anything else ("virtfn-1", or "virtfn01" next to "virtfn1") is not a kernel entry.
Result<int> virtfn_index(std::string_view entry, const std::string& where) {
  const std::string_view digits = entry.substr(6);
  auto index = parse_sysfs_int(digits, where);
  if (!index || *index < 0 || (digits.size() > 1 && digits.front() == '0')) {
    return fail(ErrorKind::invalid_input,
                where + ": '" + shown(digits) + "' is not a VF index (0, 1, 2, ...)");
  }
  return index;
}

}  // namespace

std::string pci_device_path(const PciAddress& address) {
  return "bus/pci/devices/" + address.to_string();
}

Result<int> parse_sysfs_int(std::string_view text, std::string_view what) {
  bool negative = !text.empty() && text.front() == '-';
  std::string_view digits = negative ? text.substr(1) : text;
  if (digits.empty() || digits.size() > 9 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return fail(ErrorKind::invalid_input,
                std::string(what) + ": '" + shown(text) + "' is not a decimal number");
  }
  int value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return negative ? -value : value;
}

Result<PciAddress> PciTopology::address_from_link(const std::string& path) {
  VF_ASSIGN(target, sysfs_.read_link(path));
  auto address = PciAddress::parse(last_component(target));
  if (!address) {
    return fail(ErrorKind::invalid_input,
                "link " + path + " points to '" + shown(target) + "', not a PCI device");
  }
  return *address;
}

Result<std::optional<std::string>> PciTopology::driver(const PciAddress& address) {
  std::string dev = pci_device_path(address);
  std::string link = dev + "/driver";
  auto target = sysfs_.read_link(link);
  if (!target) {
    if (!is_absent(target.error())) return fail(target.error());
    if (!sysfs_.exists(dev)) {
      return fail(ErrorKind::not_found, "PCI device " + address.to_string() + " does not exist");
    }
    return std::optional<std::string>{};
  }
  std::string_view name = last_component(*target);
  if (!is_safe_name(name)) {
    return fail(ErrorKind::invalid_input,
                "link " + link + " points to '" + shown(*target) + "', not a driver");
  }
  return std::optional<std::string>(std::string(name));
}

Result<int> PciTopology::iommu_group(const PciAddress& address) {
  std::string link = pci_device_path(address) + "/iommu_group";
  auto target = sysfs_.read_link(link);
  if (!target) {
    if (!is_absent(target.error())) return fail(target.error());
    return fail(ErrorKind::not_found,
                "PCI device " + address.to_string() +
                    " has no IOMMU group: is the IOMMU enabled (intel_iommu=on / amd_iommu=on)?");
  }
  auto group = parse_sysfs_int(last_component(*target), "link " + link);
  if (!group || *group < 0) {
    return fail(ErrorKind::invalid_input,
                "link " + link + " points to '" + shown(*target) + "', not an IOMMU group");
  }
  return *group;
}

Result<std::vector<PciAddress>> PciTopology::iommu_group_devices(int group) {
  if (group < 0)
    return fail(ErrorKind::invalid_input, "invalid IOMMU group " + std::to_string(group));
  std::string dir = "kernel/iommu_groups/" + std::to_string(group) + "/devices";
  VF_ASSIGN(names, sysfs_.list(dir));
  std::vector<PciAddress> devices;
  for (const auto& name : names) {
    auto address = PciAddress::parse(name);
    if (!address) {
      return fail(address.error().with_context("IOMMU group " + std::to_string(group)));
    }
    devices.push_back(*address);
  }
  return devices;
}

namespace {

// IFF_UP of a netdev's flags file, which the kernel prints as "0x%x".
Result<bool> admin_up_flag(const std::string& path, const std::string& text) {
  std::string_view hex = text;
  if (hex.size() < 3 || hex.size() > 10 || hex.substr(0, 2) != "0x") {
    return fail(ErrorKind::invalid_input, path + ": '" + shown(text) + "' is not 0x<hex>");
  }
  unsigned long flags = 0;
  for (char c : hex.substr(2)) {
    int d = (c >= '0' && c <= '9')   ? c - '0'
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                     : -1;
    if (d < 0)
      return fail(ErrorKind::invalid_input, path + ": '" + shown(text) + "' is not 0x<hex>");
    flags = flags * 16 + static_cast<unsigned long>(d);
  }
  return (flags & IFF_UP) != 0;
}

}  // namespace

Result<bool> PciTopology::netdev_admin_up(std::string_view ifname) {
  if (!is_safe_name(ifname)) {
    return fail(ErrorKind::invalid_input, "invalid interface name '" + shown(ifname) + "'");
  }
  std::string path = "class/net/" + std::string(ifname) + "/flags";
  VF_ASSIGN(text, sysfs_.read(path));
  return admin_up_flag(path, text);
}

Result<bool> PciTopology::device_admin_up(const PciAddress& address) {
  const std::string dir = pci_device_path(address) + "/net";
  constexpr int kListings = 4;
  for (int listing = 1;; ++listing) {
    auto listed = sysfs_.list(dir);
    if (!listed) {
      if (is_absent(listed.error())) return false;
      return fail(listed.error());
    }
    bool renamed = false;
    for (const std::string& name : *listed) {
      if (!is_safe_name(name))
        return fail(ErrorKind::invalid_input,
                    dir + ": '" + shown(name) + "' is not an interface name");
      const std::string path = dir + "/" + name + "/flags";
      auto text = sysfs_.read(path);
      if (!text) {
        if (is_absent(text.error()) && listing < kListings) {
          renamed = true;
          break;
        }
        return fail(text.error());
      }
      VF_ASSIGN(up, admin_up_flag(path, *text));
      if (up) return true;
    }
    if (!renamed) return false;
  }
}

Result<std::optional<PciAddress>> PciTopology::device_of_netdev(std::string_view ifname) {
  if (!is_safe_name(ifname)) return std::optional<PciAddress>{};
  std::string link = "class/net/" + std::string(ifname) + "/device";
  // Read first, ask why only on failure (as is_absent() says): one lookup, not two.
  auto target = sysfs_.read_link(link);
  if (!target) {
    if (is_absent(target.error())) return std::optional<PciAddress>{};
    if (!sysfs_.exists(link)) return std::optional<PciAddress>{};
    return fail(target.error());
  }
  auto address = PciAddress::parse(last_component(*target));
  if (!address) {
    return fail(ErrorKind::invalid_input,
                "link " + link + " points to '" + shown(*target) + "', not a PCI device");
  }
  return std::optional<PciAddress>(*address);
}

Result<std::optional<PciAddress>> PciTopology::device_of_netdev_by_class_link(
    std::string_view ifname) {
  if (!is_safe_name(ifname)) return std::optional<PciAddress>{};
  auto target = sysfs_.read_link("class/net/" + std::string(ifname));
  if (!target) {
    if (is_absent(target.error())) return std::optional<PciAddress>{};
    return fail(target.error());
  }
  // ".../<device>/net/<ifname>": a virtual interface's device is "virtual", not PCI.
  const std::string suffix = "/net/" + std::string(ifname);
  std::string_view path = *target;
  if (path.size() <= suffix.size() || path.substr(path.size() - suffix.size()) != suffix)
    return std::optional<PciAddress>{};
  auto address = PciAddress::parse(last_component(path.substr(0, path.size() - suffix.size())));
  if (!address) return std::optional<PciAddress>{};
  return std::optional<PciAddress>(*address);
}

Result<std::optional<std::string>> PciTopology::netdev(const PciAddress& address) {
  std::string dir = pci_device_path(address) + "/net";
  auto listed = sysfs_.list(dir);
  if (!listed) {
    if (is_absent(listed.error())) return std::optional<std::string>{};
    return fail(listed.error());
  }
  const std::vector<std::string>& names = *listed;
  if (names.empty()) return std::optional<std::string>{};
  if (!is_safe_name(names.front())) {
    return fail(ErrorKind::invalid_input,
                dir + ": '" + shown(names.front()) + "' is not an interface name");
  }
  return std::optional<std::string>(names.front());
}

Result<int> PciTopology::numa_node(const PciAddress& address) {
  std::string path = pci_device_path(address) + "/numa_node";
  auto text = sysfs_.read(path);
  if (!text) {
    if (is_absent(text.error())) return -1;
    return fail(text.error());
  }
  VF_ASSIGN(node, parse_sysfs_int(*text, path));
  return node < 0 ? -1 : node;
}

Result<std::optional<VfInfo>> PciTopology::vf(const PciAddress& address) {
  return vf_with_pf(address, nullptr);
}

Result<std::optional<VfInfo>> PciTopology::vf_with_pf(const PciAddress& address,
                                                      const KnownPf* known) {
  std::string dev = pci_device_path(address);
  auto physfn = address_from_link(dev + "/physfn");
  if (!physfn) {
    if (!is_absent(physfn.error())) return fail(physfn.error());
    if (!sysfs_.exists(dev)) {
      return fail(ErrorKind::not_found, "PCI device " + address.to_string() + " does not exist");
    }
    return std::optional<VfInfo>{};
  }
  const PciAddress pf = *physfn;
  VfInfo info;
  info.address = address;
  info.pf = pf;
  if (known) {
    info.pf_name = known->name;
    info.index = known->index;
  } else {
    auto cached_name = pf_netdevs_.find(pf);
    if (cached_name == pf_netdevs_.end()) {
      VF_ASSIGN(name, netdev(pf));
      cached_name = pf_netdevs_.emplace(pf, name.value_or("")).first;
    }
    info.pf_name = cached_name->second;
    // The VF's index is the N of the PF's virtfnN link that points back at it.
    VF_ASSIGN(indices, virtfn_indices(pf));
    auto found = indices->find(address);
    if (found == indices->end()) {
      return fail(ErrorKind::invalid_input, "VF " + address.to_string() + " names PF " +
                                                pf.to_string() +
                                                ", which has no virtfn link to it");
    }
    info.index = found->second;
  }
  VF_ASSIGN(drv, driver(address));
  info.driver = drv;
  VF_ASSIGN(nd, netdev(address));
  info.netdev = nd;
  VF_ASSIGN(group, iommu_group(address));
  info.iommu_group = group;
  VF_ASSIGN(node, numa_node(address));
  info.numa_node = node;
  return std::optional<VfInfo>(std::move(info));
}

Result<const std::map<PciAddress, int>*> PciTopology::virtfn_indices(const PciAddress& pf) {
  if (auto cached = virtfn_indices_.find(pf); cached != virtfn_indices_.end())
    return &cached->second;
  std::string pf_dev = pci_device_path(pf);
  VF_ASSIGN(entries, sysfs_.list(pf_dev));
  std::vector<std::pair<int, std::string>> virtfns;
  for (const auto& entry : entries) {
    if (entry.rfind("virtfn", 0) != 0) continue;
    VF_ASSIGN(index, virtfn_index(entry, pf_dev + "/" + entry));
    virtfns.emplace_back(index, entry);
  }
  std::sort(virtfns.begin(), virtfns.end());
  std::map<PciAddress, int> indices;
  for (const auto& [index, entry] : virtfns) {
    VF_ASSIGN(target, address_from_link(pf_dev + "/" + entry));
    indices.emplace(target, index);
  }
  return &(virtfn_indices_[pf] = std::move(indices));
}

Result<PfInfo> PciTopology::pf(std::string_view name_or_address) {
  PfInfo info;
  if (auto parsed = PciAddress::parse(name_or_address)) {
    info.address = *parsed;
    if (!sysfs_.exists(pci_device_path(info.address))) {
      return fail(ErrorKind::not_found, "PF " + info.address.to_string() + " does not exist");
    }
    VF_ASSIGN(name, netdev(info.address));
    info.name = name.value_or("");
  } else {
    if (!is_safe_name(name_or_address)) {
      return fail(ErrorKind::invalid_input,
                  "invalid PF '" + shown(name_or_address) +
                      "': neither an interface name nor a PCI address (0000:03:00.0)");
    }
    std::string name(name_or_address);
    if (!sysfs_.exists("class/net/" + name)) {
      return fail(ErrorKind::not_found, "PF " + name + ": no such network interface");
    }
    if (!sysfs_.exists("class/net/" + name + "/device")) {
      return fail(ErrorKind::invalid_input, "PF " + name + " is not a PCI device");
    }
    VF_ASSIGN(linked, address_from_link("class/net/" + name + "/device"));
    info.address = linked;
    info.name = name;
  }
  std::string dev = pci_device_path(info.address);
  std::string label = "PF " + (info.name.empty() ? info.address.to_string() : info.name);
  if (!sysfs_.exists(dev + "/sriov_totalvfs")) {
    return fail(ErrorKind::policy, label + " (" + info.address.to_string() +
                                       ") is not SR-IOV capable: it has no sriov_totalvfs");
  }
  auto read_int = [&](const std::string& attr) -> Result<int> {
    VF_ASSIGN(text, sysfs_.read(dev + "/" + attr));
    return parse_sysfs_int(text, dev + "/" + attr);
  };
  VF_ASSIGN(total, read_int("sriov_totalvfs"));
  VF_ASSIGN(num, read_int("sriov_numvfs"));
  info.total_vfs = total;
  info.num_vfs = num;
  VF_ASSIGN(drv, driver(info.address));
  info.driver = drv;
  VF_ASSIGN(node, numa_node(info.address));
  info.numa_node = node;

  VF_ASSIGN(entries, sysfs_.list(dev));
  // In index order, so that of two links to one VF the higher-numbered one is refused.
  std::vector<std::pair<int, std::string>> virtfns;
  for (const auto& entry : entries) {
    if (entry.rfind("virtfn", 0) != 0) continue;
    VF_ASSIGN(index, virtfn_index(entry, dev + "/" + entry));
    virtfns.emplace_back(index, entry);
  }
  std::sort(virtfns.begin(), virtfns.end());
  std::set<PciAddress> listed;
  for (const auto& [index, entry] : virtfns) {
    VF_ASSIGN(vf_address, address_from_link(dev + "/" + entry));
    // Two virtfn links to one VF (virtfn0 and virtfn1 both to 01:10.0) would list it twice.
    if (!listed.insert(vf_address).second) {
      return fail(ErrorKind::invalid_input, label + ": " + entry + " points to " +
                                                vf_address.to_string() +
                                                ", which another virtfn link names too");
    }
    KnownPf known{info.name, index};
    auto vf_info = vf_with_pf(vf_address, &known);
    if (!vf_info) return fail(vf_info.error().with_context(label));
    if (!*vf_info || (*vf_info)->pf != info.address) {
      return fail(ErrorKind::invalid_input, label + ": " + entry + " points to " +
                                                vf_address.to_string() + ", which is not its VF");
    }
    info.vfs.push_back(std::move(**vf_info));
  }
  return info;
}

}  // namespace vfhook
