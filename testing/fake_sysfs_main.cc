// fake-sysfs: builds a fake sysfs tree for shell-level tests of the hook binaries.
//
//   fake-sysfs --root DIR [--no-vfio-pci] [--driver NAME]... [--pf SPEC]... [--device SPEC]...
//              [--refuse-bind BDF]...
//
//   --pf     BDF[,name=IF][,driver=DRV][,total=N][,vfs=N][,vf_driver=DRV|none][,numa=N]
//            [,down][,offset=N][,stride=N][,vfI_driver=DRV|none][,vfI_netdev=IF]
//   --device BDF[,driver=DRV][,group=N][,numa=N]
//
// Creates DIR/sys and DIR/dev, then prints one line per device created:
//   pf 0000:01:00.0 enp1s0 group 0
//   vf 0000:01:00.0 0 0000:01:10.0 group 1
//   device 0000:02:00.0 group 1
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "testing/fake_sysfs_tree.h"
#include "vfio/pci_topology.h"

using vfhook::PciAddress;
using vfhook::Result;
using vfhook::Status;
using vfhook::testing::DeviceSpec;
using vfhook::testing::FakeSysfsTree;
using vfhook::testing::PfSpec;

namespace {

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t end = text.find(sep, start);
    parts.push_back(text.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return parts;
}

Result<int> number(const std::string& text, const std::string& what) {
  return vfhook::parse_sysfs_int(text, what);
}

std::optional<std::string> driver_or_none(const std::string& value) {
  if (value == "none") return std::nullopt;
  return value;
}

Result<PfSpec> parse_pf(const std::string& text) {
  auto parts = split(text, ',');
  PfSpec spec;
  VF_ASSIGN(address, PciAddress::parse(parts[0]));
  spec.address = address;
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    if (part == "down") {
      spec.up = false;
      continue;
    }
    size_t eq = part.find('=');
    if (eq == std::string::npos)
      return vfhook::fail(vfhook::ErrorKind::invalid_input, "--pf: " + part);
    std::string key = part.substr(0, eq), value = part.substr(eq + 1);
    if (key == "name") {
      spec.netdev = value;
    } else if (key == "driver") {
      spec.driver = value;
    } else if (key == "vf_driver") {
      spec.vf_driver = value == "none" ? "" : value;
    } else if (key == "total" || key == "vfs" || key == "numa" || key == "offset" ||
               key == "stride") {
      VF_ASSIGN(n, number(value, "--pf " + key));
      if (key == "total") spec.total_vfs = n;
      if (key == "vfs") spec.num_vfs = n;
      if (key == "numa") spec.numa_node = n;
      if (key == "offset") spec.vf_offset = n;
      if (key == "stride") spec.vf_stride = n;
    } else if (key.rfind("vf", 0) == 0 && key.find('_') != std::string::npos) {
      std::string index_text = key.substr(2, key.find('_') - 2);
      std::string what = key.substr(key.find('_') + 1);
      VF_ASSIGN(index, number(index_text, "--pf " + key));
      if (what == "driver") {
        spec.vf_drivers[index] = driver_or_none(value);
      } else if (what == "netdev") {
        spec.vf_netdevs[index] = value;
      } else {
        return vfhook::fail(vfhook::ErrorKind::invalid_input, "--pf: unknown key " + key);
      }
    } else {
      return vfhook::fail(vfhook::ErrorKind::invalid_input, "--pf: unknown key " + key);
    }
  }
  return spec;
}

Status run(int argc, char** argv) {
  std::string root;
  bool with_vfio_pci = true;
  std::vector<std::pair<std::string, std::string>> actions;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--no-vfio-pci") {
      with_vfio_pci = false;
      continue;
    }
    if (i + 1 >= argc) {
      return vfhook::fail(vfhook::ErrorKind::invalid_input, "missing value for " + arg);
    }
    std::string value = argv[++i];
    if (arg == "--root") {
      root = value;
    } else if (arg == "--driver" || arg == "--pf" || arg == "--device" || arg == "--refuse-bind") {
      actions.emplace_back(arg, value);
    } else {
      return vfhook::fail(vfhook::ErrorKind::invalid_input, "unknown option " + arg);
    }
  }
  if (root.empty()) return vfhook::fail(vfhook::ErrorKind::invalid_input, "--root is required");
  VF_ASSIGN(tree, FakeSysfsTree::create(root, with_vfio_pci));
  vfhook::PciTopology topology(tree->kernel());
  for (const auto& [option, value] : actions) {
    if (option == "--driver") {
      VF_TRY(tree->add_driver(value));
    } else if (option == "--pf") {
      VF_ASSIGN(spec, parse_pf(value));
      VF_ASSIGN(vfs, tree->add_pf(spec));
      VF_ASSIGN(group, topology.iommu_group(spec.address));
      std::cout << "pf " << spec.address.to_string() << " "
                << (spec.netdev.empty() ? "-" : spec.netdev) << " group " << group << "\n";
      for (size_t i = 0; i < vfs.size(); ++i) {
        VF_ASSIGN(vf_group, topology.iommu_group(vfs[i]));
        std::cout << "vf " << spec.address.to_string() << " " << i << " " << vfs[i].to_string()
                  << " group " << vf_group << "\n";
      }
    } else if (option == "--device") {
      auto parts = split(value, ',');
      VF_ASSIGN(address, PciAddress::parse(parts[0]));
      DeviceSpec spec;
      for (size_t i = 1; i < parts.size(); ++i) {
        size_t eq = parts[i].find('=');
        std::string key = parts[i].substr(0, eq);
        std::string val = eq == std::string::npos ? "" : parts[i].substr(eq + 1);
        if (key == "driver") {
          spec.driver = driver_or_none(val);
        } else if (key == "group") {
          VF_ASSIGN(n, number(val, "--device group"));
          spec.iommu_group = n;
        } else if (key == "numa") {
          VF_ASSIGN(n, number(val, "--device numa"));
          spec.numa_node = n;
        } else {
          return vfhook::fail(vfhook::ErrorKind::invalid_input, "--device: unknown key " + key);
        }
      }
      VF_ASSIGN(group, tree->add_device(address, spec));
      std::cout << "device " << address.to_string() << " group " << group << "\n";
    } else if (option == "--refuse-bind") {
      VF_ASSIGN(address, PciAddress::parse(value));
      VF_TRY(tree->refuse_bind(address));
    }
  }
  return vfhook::ok();
}

}  // namespace

int main(int argc, char** argv) {
  auto status = run(argc, argv);
  if (!status) {
    std::cerr << "fake-sysfs: " << status.error().message << "\n";
    return 1;
  }
  return 0;
}
