#include "testing/fake_sysfs_tree.h"

#include <stdlib.h>

#include <cerrno>
#include <fstream>
#include <stdexcept>
#include <system_error>

namespace vfhook::testing {
namespace {

namespace fs = std::filesystem;

Status write_plain(const fs::path& path, const std::string& content) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return fail(errno_error(ec.value(), "create " + path.parent_path().string()));
  std::ofstream out(path, std::ios::trunc);
  out << content;
  out.close();
  if (!out) return fail(errno_error(EIO, "write " + path.string()));
  return ok();
}

Status link(const std::string& target, const fs::path& path) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  fs::remove(path, ec);
  fs::create_symlink(target, path, ec);
  if (ec) return fail(errno_error(ec.value(), "symlink " + path.string()));
  return ok();
}

}  // namespace

FakeSysfsTree::FakeSysfsTree(fs::path root)
    : root_(std::move(root)), kernel_(root_ / "sys", root_ / "dev") {}

Result<std::unique_ptr<FakeSysfsTree>> FakeSysfsTree::create(fs::path root, bool with_vfio_pci) {
  std::unique_ptr<FakeSysfsTree> tree(new FakeSysfsTree(std::move(root)));
  std::error_code ec;
  const fs::path sys = tree->sys_root();
  for (const char* dir : {"devices/pci0000:00", "bus/pci/devices", "bus/pci/drivers", "class/net",
                          "kernel/iommu_groups"}) {
    fs::create_directories(sys / dir, ec);
    if (ec) return fail(errno_error(ec.value(), "create " + (sys / dir).string()));
  }
  VF_TRY(write_plain(sys / "bus/pci/drivers_probe", ""));
  VF_TRY(write_plain(tree->dev_root() / "vfio/vfio", ""));
  if (with_vfio_pci) VF_TRY(tree->add_driver("vfio-pci"));
  return tree;
}

Status FakeSysfsTree::add_driver(const std::string& name) {
  if (!is_safe_name(name)) return fail(ErrorKind::invalid_input, "bad driver name " + name);
  const fs::path dir = sys_root() / "bus/pci/drivers" / name;
  if (fs::exists(dir)) return ok();
  for (const char* file : {"bind", "unbind", "new_id", "remove_id"}) {
    VF_TRY(write_plain(dir / file, ""));
  }
  return ok();
}

Result<int> FakeSysfsTree::add_device(const PciAddress& address, const DeviceSpec& spec) {
  VF_ASSIGN(group, kernel_.create_device(address, spec.iommu_group, spec.numa_node));
  const std::string bdf = address.to_string();
  if (spec.driver) {
    VF_TRY(add_driver(*spec.driver));
    VF_TRY(
        write_plain(sys_root() / "bus/pci/devices" / bdf / ".default_driver", *spec.driver + "\n"));
    VF_TRY(kernel_.write("bus/pci/drivers/" + *spec.driver + "/bind", bdf));
  }
  return group;
}

Result<std::vector<PciAddress>> FakeSysfsTree::add_pf(const PfSpec& spec) {
  DeviceSpec device;
  if (!spec.driver.empty()) device.driver = spec.driver;
  device.numa_node = spec.numa_node;
  VF_TRY(add_device(spec.address, device));
  const std::string bdf = spec.address.to_string();
  const fs::path dir = sys_root() / "bus/pci/devices" / bdf;
  VF_TRY(write_plain(dir / "sriov_totalvfs", std::to_string(spec.total_vfs) + "\n"));
  VF_TRY(write_plain(dir / "sriov_numvfs", "0\n"));
  VF_TRY(write_plain(dir / "sriov_offset", std::to_string(spec.vf_offset) + "\n"));
  VF_TRY(write_plain(dir / "sriov_stride", std::to_string(spec.vf_stride) + "\n"));
  VF_TRY(write_plain(dir / "sriov_drivers_autoprobe", "1\n"));
  if (!spec.vf_driver.empty()) {
    VF_TRY(add_driver(spec.vf_driver));
    VF_TRY(write_plain(dir / ".vf_driver", spec.vf_driver + "\n"));
  }
  if (!spec.netdev.empty()) VF_TRY(add_netdev(spec.netdev, spec.address, spec.up));
  VF_TRY(kernel_.write("bus/pci/devices/" + bdf + "/sriov_numvfs", std::to_string(spec.num_vfs)));

  std::vector<PciAddress> vfs;
  for (int i = 0; i < spec.num_vfs; ++i) {
    VF_ASSIGN(target, kernel_.read_link("bus/pci/devices/" + bdf + "/virtfn" + std::to_string(i)));
    VF_ASSIGN(vf, PciAddress::parse(target.substr(target.rfind('/') + 1)));
    vfs.push_back(vf);
  }
  for (const auto& [index, driver] : spec.vf_drivers) {
    if (index < 0 || index >= spec.num_vfs) {
      return fail(ErrorKind::invalid_input, "no VF " + std::to_string(index));
    }
    const std::string vf = vfs[static_cast<size_t>(index)].to_string();
    std::error_code ec;
    if (fs::is_symlink(sys_root() / "bus/pci/devices" / vf / "driver", ec)) {
      VF_TRY(kernel_.write("bus/pci/drivers/" + spec.vf_driver + "/unbind", vf));
    }
    if (driver) {
      VF_TRY(add_driver(*driver));
      VF_TRY(kernel_.write("bus/pci/drivers/" + *driver + "/bind", vf));
    }
  }
  for (const auto& [index, name] : spec.vf_netdevs) {
    if (index < 0 || index >= spec.num_vfs) {
      return fail(ErrorKind::invalid_input, "no VF " + std::to_string(index));
    }
    VF_TRY(add_netdev(name, vfs[static_cast<size_t>(index)], true));
  }
  return vfs;
}

Status FakeSysfsTree::add_netdev(const std::string& ifname, const PciAddress& device, bool up) {
  if (!is_safe_name(ifname)) return fail(ErrorKind::invalid_input, "bad interface " + ifname);
  const std::string bdf = device.to_string();
  const fs::path dir = sys_root() / "devices/pci0000:00" / bdf / "net" / ifname;
  VF_TRY(link("../../../" + bdf, dir / "device"));
  VF_TRY(link("../../devices/pci0000:00/" + bdf + "/net/" + ifname,
              sys_root() / "class/net" / ifname));
  return set_admin_up(ifname, up);
}

Status FakeSysfsTree::set_admin_up(const std::string& ifname, bool up) {
  // IFF_UP|IFF_BROADCAST|IFF_MULTICAST, as `ip link set up` leaves an Ethernet port.
  const fs::path dir = sys_root() / "class/net" / ifname;
  VF_TRY(write_plain(dir / "flags", up ? "0x1003\n" : "0x1002\n"));
  return write_plain(dir / "operstate", up ? "up\n" : "down\n");
}

Status FakeSysfsTree::refuse_bind(const PciAddress& address) {
  return write_plain(sys_root() / "bus/pci/devices" / address.to_string() / ".refuse_bind", "");
}

Status FakeSysfsTree::write_file(const std::string& path, const std::string& content) {
  return write_plain(sys_root() / path, content);
}

Status FakeSysfsTree::make_link(const std::string& path, const std::string& target) {
  return link(target, sys_root() / path);
}

TempDir::TempDir()
    : TempDir([] {
        const char* base = std::getenv("TMPDIR");
        return std::string(base && *base ? base : "/tmp");
      }()) {}

TempDir::TempDir(const std::string& base) {
  std::string pattern = base + "/vfhook-test-XXXXXX";
  if (!::mkdtemp(pattern.data())) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

}  // namespace vfhook::testing
