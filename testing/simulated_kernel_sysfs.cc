#include "testing/simulated_kernel_sysfs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <system_error>
#include <vector>

#include "vfio/pci_topology.h"

namespace vfhook {
namespace {

namespace fs = std::filesystem;

// Device directories live directly under the first host bridge, as for root-bus devices.
constexpr const char* kDevicesDir = "devices/pci0000:00";

std::string_view trim_newline(std::string_view value) {
  while (!value.empty() && (value.back() == '\n' || value.back() == '\0')) value.remove_suffix(1);
  return value;
}

std::vector<std::string> split(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    parts.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

Status write_plain(const fs::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::trunc);
  out << content;
  out.close();
  if (!out) return fail(errno_error(errno ? errno : EIO, "write " + path.string()));
  return ok();
}

std::string read_plain(const fs::path& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

Status symlink(const std::string& target, const fs::path& link) {
  std::error_code ec;
  fs::create_symlink(target, link, ec);
  if (ec) return fail(errno_error(ec.value(), "symlink " + link.string()));
  return ok();
}

Error kernel_error(int err, std::string_view path, std::string_view value) {
  return errno_error(err, "write '" + std::string(value) + "' to " + std::string(path));
}

}  // namespace

SimulatedKernelSysfs::SimulatedKernelSysfs(fs::path sys_root, fs::path dev_root)
    : DirSysfs(std::move(sys_root)), dev_root_(std::move(dev_root)) {}

Status SimulatedKernelSysfs::write(std::string_view path, std::string_view value) {
  VF_ASSIGN(full, resolve(path));
  if (!exists(path)) return fail(errno_error(ENOENT, "write " + full));
  const std::string_view arg = trim_newline(value);
  const auto parts = split(path);
  Status reaction = ok();
  std::string stored(value);
  if (parts.size() == 3 && parts[0] == "bus" && parts[1] == "pci" && parts[2] == "drivers_probe") {
    reaction = drivers_probe(arg);
  } else if (parts.size() == 5 && parts[0] == "bus" && parts[1] == "pci" && parts[2] == "drivers" &&
             (parts[4] == "bind" || parts[4] == "unbind")) {
    reaction = parts[4] == "bind" ? bind(parts[3], arg, true) : unbind(parts[3], arg);
  } else if (parts.size() == 5 && parts[0] == "bus" && parts[1] == "pci" && parts[2] == "devices" &&
             parts[4] == "driver_override") {
    stored = arg.empty() ? "(null)\n" : std::string(arg) + "\n";
  } else if (parts.size() == 5 && parts[0] == "bus" && parts[1] == "pci" && parts[2] == "devices" &&
             parts[4] == "sriov_numvfs") {
    reaction = set_num_vfs(parts[3], arg);
    stored = std::string(arg) + "\n";
  }
  if (!reaction) {
    if (reaction.error().sys_errno == 0) return reaction;
    return fail(kernel_error(reaction.error().sys_errno, path, arg));
  }
  return DirSysfs::write(path, stored);
}

Result<int> SimulatedKernelSysfs::create_device(const PciAddress& address,
                                                std::optional<int> iommu_group, int numa_node) {
  const std::string bdf = address.to_string();
  const fs::path dir = root() / kDevicesDir / bdf;
  std::error_code ec;
  if (fs::exists(dir, ec)) return fail(errno_error(EEXIST, "create device " + bdf));
  fs::create_directories(dir, ec);
  if (ec) return fail(errno_error(ec.value(), "create " + dir.string()));
  VF_TRY(write_plain(dir / "driver_override", "(null)\n"));
  VF_TRY(write_plain(dir / "numa_node", std::to_string(numa_node) + "\n"));
  fs::create_directories(root() / "bus/pci/devices", ec);
  VF_TRY(symlink("../../../" + std::string(kDevicesDir) + "/" + bdf,
                 root() / "bus/pci/devices" / bdf));
  int group = 0;
  if (iommu_group) {
    group = *iommu_group;
  } else {
    // A new group: one above the highest that exists.
    for (const auto& entry : fs::directory_iterator(root() / "kernel/iommu_groups", ec)) {
      auto n = parse_sysfs_int(entry.path().filename().string(), "group");
      if (n && *n >= group) group = *n + 1;
    }
  }
  const fs::path group_dir = root() / "kernel/iommu_groups" / std::to_string(group) / "devices";
  fs::create_directories(group_dir, ec);
  if (ec) return fail(errno_error(ec.value(), "create " + group_dir.string()));
  VF_TRY(symlink("../../../../" + std::string(kDevicesDir) + "/" + bdf, group_dir / bdf));
  VF_TRY(symlink("../../../kernel/iommu_groups/" + std::to_string(group), dir / "iommu_group"));
  return group;
}

Status SimulatedKernelSysfs::drivers_probe(std::string_view bdf) {
  auto address = PciAddress::parse(bdf);
  if (!address) return fail(errno_error(ENODEV, "drivers_probe"));
  const fs::path dev = root() / "bus/pci/devices" / address->to_string();
  std::error_code ec;
  if (!fs::exists(dev, ec)) return fail(errno_error(ENODEV, "drivers_probe"));
  if (fs::is_symlink(dev / "driver", ec)) return ok();
  std::string target = read_plain(dev / "driver_override");
  if (target.empty() || target == "(null)") target = read_plain(dev / ".default_driver");
  if (target.empty() || !is_safe_name(target)) return ok();
  if (!fs::is_directory(root() / "bus/pci/drivers" / target, ec)) return ok();
  if (fs::exists(dev / ".refuse_bind", ec)) return ok();
  return bind(target, address->to_string(), false);
}

Status SimulatedKernelSysfs::bind(const std::string& driver, std::string_view bdf,
                                  bool explicit_request) {
  auto address = PciAddress::parse(bdf);
  if (!address) return fail(errno_error(ENODEV, "bind"));
  const std::string name = address->to_string();
  const fs::path dev = root() / "bus/pci/devices" / name;
  std::error_code ec;
  if (!fs::exists(dev, ec)) return fail(errno_error(ENODEV, "bind"));
  if (fs::is_symlink(dev / "driver", ec)) return fail(errno_error(EBUSY, "bind"));
  if (explicit_request) {
    if (fs::exists(dev / ".refuse_bind", ec)) return fail(errno_error(ENODEV, "bind"));
    std::string override_name = read_plain(dev / "driver_override");
    if (!override_name.empty() && override_name != "(null)" && override_name != driver) {
      return fail(errno_error(ENODEV, "bind"));
    }
  }
  VF_TRY(symlink("../../../bus/pci/drivers/" + driver, dev / "driver"));
  VF_TRY(symlink("../../../../" + std::string(kDevicesDir) + "/" + name,
                 root() / "bus/pci/drivers" / driver / name));
  if (driver == "vfio-pci") {
    PciTopology topology(*this);
    VF_ASSIGN(group, topology.iommu_group(*address));
    fs::create_directories(dev_root_ / "vfio", ec);
    VF_TRY(write_plain(dev_root_ / "vfio" / std::to_string(group), ""));
  }
  return ok();
}

Status SimulatedKernelSysfs::unbind(const std::string& driver, std::string_view bdf) {
  auto address = PciAddress::parse(bdf);
  if (!address) return fail(errno_error(ENODEV, "unbind"));
  const std::string name = address->to_string();
  PciTopology topology(*this);
  auto current = topology.driver(*address);
  if (!current || *current != driver) return fail(errno_error(ENODEV, "unbind"));
  std::error_code ec;
  fs::remove(root() / "bus/pci/devices" / name / "driver", ec);
  fs::remove(root() / "bus/pci/drivers" / driver / name, ec);
  if (driver == "vfio-pci") {
    VF_ASSIGN(group, topology.iommu_group(*address));
    VF_ASSIGN(members, topology.iommu_group_devices(group));
    bool still_held = false;
    for (const auto& other : members) {
      auto d = topology.driver(other);
      if (other != *address && d && *d == "vfio-pci") still_held = true;
    }
    if (!still_held) fs::remove(dev_root_ / "vfio" / std::to_string(group), ec);
  }
  return ok();
}

Status SimulatedKernelSysfs::remove_device(const std::string& bdf) {
  auto address = PciAddress::parse(bdf);
  if (!address) return fail(errno_error(ENODEV, "remove"));
  PciTopology topology(*this);
  VF_ASSIGN(driver, topology.driver(*address));
  if (driver) VF_TRY(unbind(*driver, bdf));
  VF_ASSIGN(group, topology.iommu_group(*address));
  std::error_code ec;
  const fs::path group_dir = root() / "kernel/iommu_groups" / std::to_string(group);
  fs::remove(group_dir / "devices" / bdf, ec);
  if (fs::is_empty(group_dir / "devices", ec)) fs::remove_all(group_dir, ec);
  fs::remove(root() / "bus/pci/devices" / bdf, ec);
  fs::remove_all(root() / kDevicesDir / bdf, ec);
  return ok();
}

Status SimulatedKernelSysfs::set_num_vfs(const std::string& pf_bdf, std::string_view value) {
  auto pf = PciAddress::parse(pf_bdf);
  if (!pf) return fail(errno_error(ENODEV, "sriov_numvfs"));
  const fs::path dev = root() / "bus/pci/devices" / pf->to_string();
  auto wanted = parse_sysfs_int(value, "sriov_numvfs");
  auto total = parse_sysfs_int(read_plain(dev / "sriov_totalvfs"), "sriov_totalvfs");
  auto current = parse_sysfs_int(read_plain(dev / "sriov_numvfs"), "sriov_numvfs");
  if (!wanted || *wanted < 0 || !total || !current)
    return fail(errno_error(EINVAL, "sriov_numvfs"));
  if (*wanted > *total) return fail(errno_error(ERANGE, "sriov_numvfs"));
  if (*wanted == *current) return ok();
  if (*wanted != 0 && *current != 0) return fail(errno_error(EBUSY, "sriov_numvfs"));

  PciTopology topology(*this);
  std::error_code ec;
  if (*wanted == 0) {
    for (int i = 0; i < *current; ++i) {
      const fs::path link = dev / ("virtfn" + std::to_string(i));
      auto target = read_link("bus/pci/devices/" + pf->to_string() + "/virtfn" + std::to_string(i));
      if (!target) continue;
      std::string vf = target->substr(target->rfind('/') + 1);
      VF_TRY(remove_device(vf));
      fs::remove(link, ec);
    }
    return ok();
  }
  auto offset = parse_sysfs_int(read_plain(dev / "sriov_offset"), "sriov_offset");
  auto stride = parse_sysfs_int(read_plain(dev / "sriov_stride"), "sriov_stride");
  if (!offset || !stride) return fail(errno_error(EINVAL, "sriov_numvfs"));
  VF_ASSIGN(numa, topology.numa_node(*pf));
  const std::string vf_driver = read_plain(dev / ".vf_driver");
  // A VF's routing ID is the PF's plus First VF Offset plus index times VF Stride.
  const int pf_rid = (pf->bus << 8) | (pf->slot << 3) | pf->function;
  for (int i = 0; i < *wanted; ++i) {
    const int rid = pf_rid + *offset + i * *stride;
    if (rid > 0xffff) return fail(errno_error(ERANGE, "sriov_numvfs"));
    PciAddress vf{pf->domain, static_cast<uint8_t>(rid >> 8),
                  static_cast<uint8_t>((rid >> 3) & 0x1f), static_cast<uint8_t>(rid & 7)};
    const std::string name = vf.to_string();
    VF_TRY(create_device(vf, std::nullopt, numa));
    const fs::path vf_dir = root() / kDevicesDir / name;
    VF_TRY(symlink("../" + pf->to_string(), vf_dir / "physfn"));
    VF_TRY(symlink("../" + name, dev / ("virtfn" + std::to_string(i))));
    if (!vf_driver.empty()) VF_TRY(write_plain(vf_dir / ".default_driver", vf_driver + "\n"));
    // sriov_drivers_autoprobe=1: the kernel probes each new VF.
    VF_TRY(drivers_probe(name));
  }
  return ok();
}

}  // namespace vfhook
