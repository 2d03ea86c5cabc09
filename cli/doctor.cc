#include "cli/doctor.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <ctime>

#include "engine/port_plan.h"
#include "policy/state_dir.h"
#include "util/printable.h"
#include "vfio/driver_binding.h"
#include "vfio/pci_topology.h"
#include "xml/domain_xml.h"

namespace vfhook {
namespace {

using CheckStatus = DoctorCheck::Status;

// /proc/<pid>/stat counts a process's start in clock ticks since boot. The tick is USER_HZ,
// which is 100 on every architecture vfhook runs on (x86, arm64); sysconf(_SC_CLK_TCK) would
// say so too, but would be one more OS call outside the HostFiles interface.
constexpr int64_t kClockTicksPerSecond = 100;
// Sysfs attributes, pid files, osrelease and /proc/<pid>/stat are a line each.
constexpr size_t kSmallFileMax = 4096;
// /proc/stat has a line per CPU and an "intr" line with a count per interrupt before "btime":
// tens of KiB on a large host.
constexpr size_t kProcStatMax = 1 << 20;

const char* const kIommuFix =
    "add intel_iommu=on (Intel) or amd_iommu=on (AMD) to the kernel command line "
    "(GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub and reboot), and make sure VT-d "
    "or AMD-Vi is enabled in the firmware setup";

DoctorCheck passed(std::string name, std::string found) {
  return DoctorCheck{std::move(name), CheckStatus::ok, std::move(found), {}};
}
DoctorCheck warning(std::string name, std::string found, std::string fix) {
  return DoctorCheck{std::move(name), CheckStatus::warning, std::move(found), std::move(fix)};
}
DoctorCheck failed(std::string name, std::string found, std::string fix) {
  return DoctorCheck{std::move(name), CheckStatus::failed, std::move(found), std::move(fix)};
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

std::string_view trim_newline(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  return text;
}

// A non-negative decimal of at most 18 digits (no sign, no spaces), or nullopt.
std::optional<int64_t> parse_decimal(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

// The kernel prints ecap as %llx: 1..16 hex digits; a leading 0x is accepted as well.
std::optional<uint64_t> parse_hex64(std::string_view text) {
  if (starts_with(text, "0x")) text.remove_prefix(2);
  if (text.empty() || text.size() > 16) return std::nullopt;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string mode_text(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// "2024-03-01 12:00:00 UTC": UTC, so the text does not depend on the host's time zone.
std::string time_text(int64_t epoch_seconds) {
  const time_t t = static_cast<time_t>(epoch_seconds);
  struct tm parts {};
  if (!::gmtime_r(&t, &parts)) return std::to_string(epoch_seconds);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &parts);
  return text;
}

std::string join(const std::vector<std::string>& parts, const char* separator) {
  std::string text;
  for (const std::string& part : parts) {
    if (!text.empty()) text += separator;
    text += part;
  }
  return text;
}

// 1. The IOMMU: the kernel makes a group per isolated set of devices only when one is in use.
DoctorCheck check_iommu(Sysfs& sysfs) {
  auto groups = sysfs.list("kernel/iommu_groups");
  if (!groups)
    return failed(
        "iommu",
        "cannot list /sys/kernel/iommu_groups (" + groups.error().message + "): no IOMMU is in use",
        kIommuFix);
  if (groups->empty())
    return failed("iommu", "/sys/kernel/iommu_groups is empty: no IOMMU is in use", kIommuFix);
  return passed("iommu", std::to_string(groups->size()) + " IOMMU groups");
}

// 2a. Interrupt remapping keeps a guest's device from sending the host arbitrary interrupts
// (MSI writes); VFIO refuses assignment without it unless allow_unsafe_interrupts is set.
// Intel reports it as bit 3 (IR) of each remapping unit's extended capabilities; that bit says
// the hardware can, and the kernel turns it on unless told intremap=off.
DoctorCheck check_interrupt_remapping(Sysfs& sysfs) {
  const char* const name = "interrupt-remapping";
  auto units = sysfs.list("class/iommu");
  if (!units || units->empty())
    return warning(name,
                   "no IOMMU listed in /sys/class/iommu: cannot tell whether interrupts are "
                   "remapped",
                   "turn the IOMMU on first (see the iommu check); then vfctl doctor can tell");
  std::vector<std::string> with_ir, without_ir, unreadable, amd, other;
  for (const std::string& unit : *units) {
    if (starts_with(unit, "dmar")) {
      auto ecap = sysfs.read("class/iommu/" + unit + "/intel-iommu/ecap");
      if (!ecap) {
        unreadable.push_back(unit + " (" + ecap.error().message + ")");
        continue;
      }
      auto bits = parse_hex64(trim_newline(*ecap));
      if (!bits) {
        unreadable.push_back(unit + " (ecap '" + printable(*ecap, 32) + "' is no hex number)");
        continue;
      }
      ((*bits >> 3) & 1 ? with_ir : without_ir).push_back(unit);
    } else if (starts_with(unit, "ivhd")) {
      amd.push_back(unit);
    } else {
      other.push_back(printable(unit, 32));
    }
  }
  if (!without_ir.empty())
    return failed(name,
                  "Intel IOMMU " + join(without_ir, ", ") +
                      " cannot remap interrupts (IR, bit 3 of ecap, is clear)",
                  "enable interrupt remapping (VT-d with interrupt remapping / x2APIC) in the "
                  "firmware setup and keep intremap=off off the kernel command line; without "
                  "it a guest's device could inject interrupts into the host");
  if (!unreadable.empty())
    return warning(name, "cannot read the capabilities of " + join(unreadable, ", "),
                   "run vfctl doctor as root, or check dmesg for 'Enabled IRQ remapping'");
  if (!with_ir.empty())
    return passed(name, "Intel IOMMU " + join(with_ir, ", ") + " remaps interrupts (IR set)");
  if (!amd.empty())
    return passed(name, "AMD IOMMU " + join(amd, ", ") +
                            ": AMD-Vi remaps interrupts; treated as supported, not checked");
  return warning(name,
                 "IOMMU " + join(other, ", ") +
                     " is neither Intel (dmar*) nor AMD (ivhd*): cannot tell whether interrupts "
                     "are remapped",
                 "check in dmesg that interrupt remapping is enabled");
}

// 2b. The escape hatch of hosts without interrupt remapping, and its price.
DoctorCheck check_unsafe_interrupts(Sysfs& sysfs) {
  const char* const name = "unsafe-interrupts";
  const char* const path = "module/vfio_iommu_type1/parameters/allow_unsafe_interrupts";
  if (!sysfs.exists(path))
    return passed(name,
                  "vfio_iommu_type1 is not loaded yet (allow_unsafe_interrupts defaults to N)");
  auto value = sysfs.read(path);
  if (!value)
    return warning(name, "cannot read /sys/" + std::string(path) + ": " + value.error().message,
                   "run vfctl doctor as root");
  const std::string_view flag = trim_newline(*value);
  if (flag == "N") return passed(name, "vfio_iommu_type1 allow_unsafe_interrupts=N");
  if (flag == "Y")
    return warning(name,
                   "vfio_iommu_type1 allow_unsafe_interrupts=Y: devices are assigned without "
                   "interrupt remapping, so a guest could inject interrupts into the host",
                   "remove allow_unsafe_interrupts=1 from /etc/modprobe.d/ and the kernel command "
                   "line, then reboot (on a host that remaps interrupts it is not needed)");
  return warning(name, "unexpected allow_unsafe_interrupts value '" + printable(flag, 16) + "'",
                 "check /sys/" + std::string(path) + " (expected Y or N)");
}

// A kernel release as it appears in a /lib/modules path: no '/', nothing to climb out with.
bool is_release_name(std::string_view release) {
  if (release.empty() || release.size() > 64 || release == "." || release == "..") return false;
  return std::all_of(release.begin(), release.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || c == '+' || c == '~';
  });
}

// 3. vfio-pci: libvirt binds ports to it (managed='yes'), vfhook does for the rest.
DoctorCheck check_vfio_pci(Sysfs& sysfs, HostFiles& files) {
  const char* const name = "vfio-pci";
  if (sysfs.exists("bus/pci/drivers/vfio-pci"))
    return passed(name, "the vfio-pci driver is loaded");
  auto release = files.read("/proc/sys/kernel/osrelease", kSmallFileMax);
  if (!release)
    return failed(name,
                  "vfio-pci is not loaded, and the kernel release is unknown (" +
                      release.error().message + ")",
                  "modprobe vfio-pci, and add vfio-pci to /etc/modules-load.d/vfio.conf");
  const std::string_view rel = trim_newline(*release);
  if (!is_release_name(rel))
    return failed(name,
                  "vfio-pci is not loaded, and /proc/sys/kernel/osrelease holds no kernel release "
                  "('" +
                      printable(rel, 64) + "')",
                  "modprobe vfio-pci, and add vfio-pci to /etc/modules-load.d/vfio.conf");
  const std::string dir = "/lib/modules/" + std::string(rel) + "/kernel/drivers/vfio/pci/";
  for (const char* file : {"vfio-pci.ko", "vfio-pci.ko.xz", "vfio-pci.ko.zst", "vfio-pci.ko.gz"})
    if (files.exists(dir + file))
      return warning(name, "vfio-pci is not loaded (the module is there: " + dir + file + ")",
                     "modprobe vfio-pci, and add vfio-pci to /etc/modules-load.d/vfio.conf so it "
                     "is loaded at boot");
  return failed(name,
                "vfio-pci is not loaded, and kernel " + std::string(rel) +
                    " has no vfio-pci module in " + dir,
                "install the modules of the running kernel (or boot a kernel built with "
                "CONFIG_VFIO_PCI), then modprobe vfio-pci and add vfio-pci to "
                "/etc/modules-load.d/vfio.conf");
}

// 8a. The config.
DoctorCheck check_config(const std::string& path, const Result<HostConfig>& config,
                         HostFiles& files) {
  const char* const name = "config";
  if (config) {
    std::vector<std::string> pools;
    for (const Pool& pool : config->pools) pools.push_back(pool.name);
    if (pools.empty())
      return warning(name, path + " loads but defines no pool: vfhook manages no VF",
                     "add a [[pool]] to " + path);
    return passed(name, path + ": " + std::to_string(pools.size()) + " pool" +
                            (pools.size() == 1 ? "" : "s") + " (" + join(pools, ", ") + ")");
  }
  std::string found = config.error().message + " (the pool and state checks are skipped)";
  auto info = files.stat(path);
  if (!info && info.error().kind == ErrorKind::not_found)
    return failed(name, std::move(found),
                  "create " + path +
                      " with at least one [[pool]] (vfhook.toml.example in "
                      "vfhook's share directory shows every key)");
  if (info && info->uid != 0 && info->uid != ::geteuid())
    return failed(name, std::move(found), "chown root " + path);
  if (info && (info->mode & (S_IWGRP | S_IWOTH)) != 0)
    return failed(name, std::move(found), "chmod go-w " + path);
  return failed(name, std::move(found),
                "correct " + path + " where the message says, then run vfctl doctor again");
}

// The PCI address a pool's PF reference names, as resolve_pool_pfs() resolves it.
std::optional<PciAddress> address_of_ref(const std::string& ref, Sysfs& sysfs,
                                         PciTopology& topology) {
  if (auto parsed = PciAddress::parse(ref)) {
    if (sysfs.exists(pci_device_path(*parsed))) return *parsed;
    return std::nullopt;
  }
  auto device = topology.device_of_netdev(ref);
  if (device && *device) return **device;
  return std::nullopt;
}

// A PF's IFF_UP from netlink, as the engine reads it; from sysfs flags (the same bit) when
// netlink could not be opened here.
Result<bool> pf_admin_up(const std::string& ifname, const DoctorInputs& inputs,
                         PciTopology& topology) {
  if (!inputs.netlink) return topology.netdev_admin_up(ifname);
  VF_ASSIGN(link, (*inputs.netlink)->read_pf(ifname));
  return link.admin_up;
}

// The checks of one VF pool PF that resolved: its VF count (5) and its VFs' groups (6).
void check_vf_pool_pf(const Pool& pool, const std::string& ref, const PfInfo& pf, Sysfs& sysfs,
                      const std::string& config_path, std::vector<DoctorCheck>& checks) {
  const std::string suffix = " " + pool.name + "/" + ref;
  const std::string pf_name = pf.name.empty() ? pf.address.to_string() : pf.name;
  if (pool.num_vfs) {
    const int want = *pool.num_vfs;
    const std::string found = "PF " + pf_name + " has " + std::to_string(pf.num_vfs) +
                              " VFs, pool '" + pool.name + "' asks for " + std::to_string(want) +
                              " (num_vfs)";
    if (want > pf.total_vfs) {
      checks.push_back(
          failed("vf-count" + suffix,
                 found + ", more than the PF offers (" + std::to_string(pf.total_vfs) + ")",
                 "lower num_vfs of pool '" + pool.name + "' in " + config_path + " to at most " +
                     std::to_string(pf.total_vfs)));
    } else if (pf.num_vfs != want) {
      checks.push_back(warning("vf-count" + suffix, found,
                               "run vfctl vfs apply (or enable vfhook-vfs.service: systemctl "
                               "enable --now vfhook-vfs.service); it re-creates the PF's VFs, so "
                               "no guest may be using one"));
    } else {
      checks.push_back(passed("vf-count" + suffix, found));
    }
  }

  std::vector<std::string> not_viable;
  int checked = 0;
  for (const VfInfo& vf : pf.vfs) {
    if (!pool.includes_vf_index(vf.index)) continue;
    ++checked;
    auto viable = check_iommu_group_viable(
        sysfs, vf.address, vf.iommu_group >= 0 ? std::optional<int>(vf.iommu_group) : std::nullopt);
    if (!viable)
      not_viable.push_back("VF " + std::to_string(vf.index) + ": " + viable.error().message);
  }
  if (!not_viable.empty()) {
    checks.push_back(failed("iommu-groups" + suffix, join(not_viable, "; "),
                            "bind the other devices of those groups to vfio-pci or unbind them "
                            "(driverctl set-override <address> vfio-pci), or move the card to a "
                            "slot with its own IOMMU group: VFIO gives a guest a whole group"));
  } else if (checked == 0) {
    checks.push_back(
        passed("iommu-groups" + suffix, "PF " + pf_name + " has no VF of the pool yet"));
  } else {
    checks.push_back(passed(
        "iommu-groups" + suffix,
        std::to_string(checked) + " VFs of PF " + pf_name + ", each in a viable IOMMU group"));
  }
}

// 4-6. Each pool's PFs, and the VF counts and groups of VF pools.
void check_pools(const HostConfig& config, const DoctorInputs& inputs,
                 std::vector<DoctorCheck>& checks) {
  const PoolPfs resolved = resolve_pool_pfs(config, inputs.sysfs);
  PciTopology topology(inputs.sysfs);
  for (const Pool& pool : config.pools) {
    for (const PoolPf& pool_pf : pool.pfs) {
      const std::string& ref = pool_pf.ref;
      const std::string name = "pf " + pool.name + "/" + ref;
      const auto address = address_of_ref(ref, inputs.sysfs, topology);
      if (!address) {
        checks.push_back(
            failed(name,
                   "pool '" + pool.name + "' lists PF '" + ref +
                       "', which is no network interface or PCI device on this host",
                   "correct the PF of pool '" + pool.name + "' in " + inputs.config_path +
                       " (ip -br link lists the interfaces), or load the PF's network driver"));
        continue;
      }
      if (auto it = resolved.pools_by_pf.find(*address);
          it != resolved.pools_by_pf.end() && it->second.size() > 1) {
        std::vector<std::string> names;
        for (const Pool* other : it->second) names.push_back("'" + other->name + "'");
        checks.push_back(failed(name,
                                "PF " + address->to_string() + " is listed by pools " +
                                    join(names, " and ") +
                                    " (by interface name in one, PCI address in another)",
                                "keep the PF in one pool only in " + inputs.config_path));
        continue;
      }
      if (pool.mode == PoolMode::pf) {
        checks.push_back(passed(name, address->to_string() + ": given to guests whole"));
        continue;
      }
      auto pf = topology.pf(address->to_string());
      if (!pf) {
        const bool not_sriov = pf.error().kind == ErrorKind::policy;
        // Without an IOMMU no device has a group, and reading the PF's VFs fails on that:
        // the fix is the iommu check's, not something about this PF.
        auto groups = inputs.sysfs.list("kernel/iommu_groups");
        const bool no_iommu = !groups || groups->empty();
        checks.push_back(failed(
            name, pf.error().message,
            not_sriov ? "use a PF with SR-IOV (sriov_totalvfs in /sys/bus/pci/devices/" +
                            address->to_string() +
                            "), enable SR-IOV in the firmware setup, or give this pool mode = "
                            "\"pf\" in " +
                            inputs.config_path
            : no_iommu ? "turn the IOMMU on first (see the iommu check)"
                       : "check /sys/bus/pci/devices/" + address->to_string()));
        continue;
      }
      if (pf->name.empty()) {
        checks.push_back(
            failed(name,
                   "PF " + address->to_string() + " has no network interface (driver: " +
                       pf->driver.value_or("none") + "); VF settings go through the PF's interface",
                   "bind the PF to its network driver: echo " + address->to_string() +
                       " > /sys/bus/pci/drivers_probe"));
        continue;
      }
      const std::string described =
          pf->name + " (" + address->to_string() + ", driver " + pf->driver.value_or("none") + ")";
      Result<bool> up = pf_admin_up(pf->name, inputs, topology);
      if (!up) {
        checks.push_back(warning(name, described + ": link state unknown: " + up.error().message,
                                 "check with ip link show " + pf->name));
      } else if (!*up) {
        checks.push_back(failed(name, described + " is down: its VFs pass no traffic",
                                "ip link set " + pf->name +
                                    " up (and bring it up at boot in the host's network config)"));
      } else {
        checks.push_back(passed(name, described + ": up, " + std::to_string(pf->num_vfs) + " of " +
                                          std::to_string(pf->total_vfs) + " VFs"));
      }
      check_vf_pool_pf(pool, ref, *pf, inputs.sysfs, inputs.config_path, checks);
    }
  }
}

// 7a. An installed file that root runs or loads: a regular file, root's, not writable by
// others (whoever can write it runs code as root at the next guest start).
DoctorCheck check_installed_file(HostFiles& files, const std::string& name, const std::string& path,
                                 bool is_hook) {
  auto info = is_hook ? files.lstat(path) : files.stat(path);
  if (!info) {
    if (info.error().kind == ErrorKind::not_found)
      return failed(name,
                    path + (is_hook ? " does not exist: libvirt runs no vfhook"
                                    : " does not exist: the hook cannot load its core, and "
                                      "refuses every guest with VF ports"),
                    "install vfhook (cmake --install <build dir>, or its package)");
    return failed(name, info.error().message, "check " + path);
  }
  if (info->type == FileInfo::Type::symlink)
    return failed(name,
                  path +
                      " is a symlink: Debian's AppArmor profile for libvirtd checks the path a "
                      "hook resolves to and allows only /etc/libvirt/hooks/**, /usr/{s,}bin/*, "
                      "/{s,}bin/* and /usr/lib/libvirt/*, so libvirtd may be denied running it",
                  "replace the symlink with the file itself: cp --remove-destination "
                  "\"$(readlink -f " +
                      path + ")\" " + path);
  if (info->type != FileInfo::Type::regular)
    return failed(name, path + " is not a regular file",
                  "remove it and install vfhook again (cmake --install <build dir>)");
  std::vector<std::string> problems, fixes;
  if (info->uid != 0) {
    problems.push_back("owned by uid " + std::to_string(info->uid) + ", not root");
    fixes.push_back("chown root " + path);
  }
  if ((info->mode & (S_IWGRP | S_IWOTH)) != 0) {
    problems.push_back("writable by group/others (mode " + mode_text(info->mode) +
                       "): whoever can write it runs code as root at every guest start");
    fixes.push_back("chmod go-w " + path);
  }
  if (is_hook && (info->mode & S_IXUSR) == 0) {
    problems.push_back("not executable (mode " + mode_text(info->mode) +
                       "): libvirt runs only executable hooks");
    fixes.push_back("chmod 0755 " + path);
  }
  if (!problems.empty()) return failed(name, path + ": " + join(problems, "; "), join(fixes, "; "));
  return passed(name, path + ": regular file, owner root, mode " + mode_text(info->mode));
}

struct DaemonStart {
  std::string name;
  int64_t pid = 0;
  int64_t started = 0;  // seconds since the epoch
};

// The boot time from /proc/stat's "btime <epoch seconds>" line.
Result<int64_t> boot_time(HostFiles& files) {
  VF_ASSIGN(text, files.read("/proc/stat", kProcStatMax));
  std::string_view rest = text;
  while (!rest.empty()) {
    const size_t end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (!starts_with(line, "btime ")) continue;
    if (auto value = parse_decimal(line.substr(6))) return *value;
    return fail(ErrorKind::invalid_input, "/proc/stat: malformed btime line");
  }
  return fail(ErrorKind::invalid_input, "/proc/stat has no btime line");
}

// When the process `pid` started, from field 22 of /proc/<pid>/stat; not_found when no such
// process runs, invalid_input when it is not `daemon` (a stale pid file, the pid reused).
Result<int64_t> process_start_ticks(HostFiles& files, int64_t pid, const std::string& daemon) {
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  VF_ASSIGN(text, files.read(path, kSmallFileMax));
  // "<pid> (<comm>) <state> ...": comm may hold spaces and parentheses, so it ends at the last
  // ')'; the fields after it start with field 3.
  const size_t open = text.find('(');
  const size_t close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open)
    return fail(ErrorKind::invalid_input, path + " is malformed");
  const std::string comm = text.substr(open + 1, close - open - 1);
  if (comm != daemon)
    return fail(ErrorKind::invalid_input,
                "pid " + std::to_string(pid) + " is '" + printable(comm, 16) + "', not " + daemon);
  std::vector<std::string_view> fields;
  std::string_view rest = std::string_view(text).substr(close + 1);
  while (!rest.empty() && fields.size() < 20) {
    const size_t start = rest.find_first_not_of(" \n");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    const size_t end = rest.find_first_of(" \n");
    fields.push_back(rest.substr(0, end));
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  }
  constexpr size_t kStartTimeField = 22 - 3;  // field 22, counted from field 3
  if (fields.size() <= kStartTimeField)
    return fail(ErrorKind::invalid_input, path + " has too few fields");
  auto ticks = parse_decimal(fields[kStartTimeField]);
  if (!ticks) return fail(ErrorKind::invalid_input, path + ": malformed starttime");
  return *ticks;
}

// When the package's postinst last reloaded `daemon` running as `pid` (seconds since the
// epoch), from kLibvirtReloadStamp's lines "<daemon> <pid> <epoch seconds>"; nullopt when it
// did not (no file, another daemon or pid, a line that does not parse: the file is only a hint).
std::optional<int64_t> package_reload_time(HostFiles& files, const std::string& daemon,
                                           int64_t pid) {
  auto text = files.read(kLibvirtReloadStamp, kSmallFileMax);
  if (!text) return std::nullopt;
  std::optional<int64_t> latest;
  std::string_view rest = *text;
  while (!rest.empty()) {
    const size_t end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    const size_t first = line.find(' ');
    const size_t second = first == std::string_view::npos ? first : line.find(' ', first + 1);
    if (second == std::string_view::npos || line.substr(0, first) != daemon) continue;
    const auto line_pid = parse_decimal(line.substr(first + 1, second - first - 1));
    const auto when = parse_decimal(line.substr(second + 1));
    if (!line_pid || !when || *line_pid != pid) continue;
    if (!latest || *when > *latest) latest = *when;
  }
  return latest;
}

// 7b. libvirt scans qemu.d only when the daemon starts or reloads: a hook installed since has
// not been seen. A reload leaves the start time as it was, so without the package's note of
// its own reload (kLibvirtReloadStamp) this can only tell "installed after the start", and
// says so.
DoctorCheck check_libvirt_saw_hook(HostFiles& files, const std::string& hook_path) {
  const char* const name = "libvirt-reload";
  std::vector<DaemonStart> running;
  std::vector<std::string> problems;
  std::optional<Result<int64_t>> boot;
  for (const char* daemon : {"virtqemud", "libvirtd"}) {
    const std::string pid_file = std::string("/run/") + daemon + ".pid";
    auto content = files.read(pid_file, kSmallFileMax);
    if (!content) {
      if (content.error().kind != ErrorKind::not_found) problems.push_back(content.error().message);
      continue;
    }
    auto pid = parse_decimal(trim_newline(*content));
    if (!pid || *pid == 0 || *pid > 4194304) {  // PID_MAX_LIMIT
      problems.push_back(pid_file + " holds no pid");
      continue;
    }
    auto ticks = process_start_ticks(files, *pid, daemon);
    if (!ticks) {
      problems.push_back(ticks.error().kind == ErrorKind::not_found
                             ? pid_file + " names pid " + std::to_string(*pid) + ", which is gone"
                             : ticks.error().message);
      continue;
    }
    if (!boot) boot = boot_time(files);
    if (!*boot) {
      problems.push_back(boot->error().message);
      continue;
    }
    running.push_back({daemon, *pid, **boot + *ticks / kClockTicksPerSecond});
  }
  if (running.empty()) {
    std::string found =
        "libvirtd/virtqemud does not seem to run (no live pid in /run/virtqemud.pid "
        "or /run/libvirtd.pid)";
    if (!problems.empty()) found += ": " + join(problems, "; ");
    return warning(name, found,
                   "systemctl start libvirtd (or virtqemud on a host with modular daemons); it "
                   "reads the hooks when it starts");
  }
  auto hook = files.lstat(hook_path);
  std::vector<std::string> found;
  std::vector<std::string> stale;
  for (const DaemonStart& daemon : running) {
    const std::string described = daemon.name + " (pid " + std::to_string(daemon.pid) +
                                  ") started " + time_text(daemon.started);
    if (!hook) {
      found.push_back(described + "; no hook to compare with");
    } else if (hook->mtime <= daemon.started) {
      found.push_back(described + ", after the hook was installed (" + time_text(hook->mtime) +
                      ")");
    } else if (const auto reloaded = package_reload_time(files, daemon.name, daemon.pid);
               reloaded && *reloaded >= hook->mtime) {
      found.push_back(described + " and reloaded by vfhook's package " + time_text(*reloaded) +
                      ", after the hook was installed (" + time_text(hook->mtime) + ")");
    } else {
      found.push_back(described + ", before the hook was installed (" + time_text(hook->mtime) +
                      "): unless it was reloaded since, libvirt has not seen this hook yet");
      stale.push_back(daemon.name);
    }
  }
  if (stale.empty()) return passed(name, join(found, "; "));
  const std::string& unit = stale.front();
  return warning(name, join(found, "; "),
                 "systemctl reload " + unit +
                     " (libvirt scans hooks at start and reload; a reload keeps the start time, "
                     "so this warning stays until the next restart: systemctl restart " +
                     unit + " clears it and leaves running guests alone)");
}

// 8b. The state directory and its claims database (policy/state_dir.h's rules).
DoctorCheck check_state(const HostConfig& config, const std::string& config_path,
                        HostFiles& files) {
  const char* const name = "state-dir";
  const std::string& dir = config.state_dir;
  // Follows a symlink, as check_state_dir() does: an administrator may move the state.
  auto info = files.stat(dir);
  if (!info) {
    if (info.error().kind == ErrorKind::not_found)
      return passed(name, dir + " does not exist yet: created at first use (mode 0700)");
    return failed(name, info.error().message, "check " + dir);
  }
  if (info->type != FileInfo::Type::directory)
    return failed(name, dir + " is not a directory",
                  "move it away, or point state_dir in " + config_path + " at a directory");
  const std::string database = dir + "/vfhook.db";
  std::vector<std::pair<std::string, StatePart>> parts{{dir, StatePart::directory}};
  if (files.exists(database)) parts.emplace_back(database, StatePart::database);
  for (const auto& [path, part] : parts) {
    auto part_info = part == StatePart::directory ? info : files.stat(path);
    if (!part_info) return failed(name, part_info.error().message, "check " + path);
    struct stat st {};
    st.st_uid = part_info->uid;
    st.st_mode = part_info->mode;
    if (auto allowed = check_state_owner_and_mode(st, path, part); !allowed) {
      const bool owner = part_info->uid != 0 && part_info->uid != ::geteuid();
      return failed(name, allowed.error().message,
                    owner ? "chown root " + path : "chmod go-w " + path);
    }
  }
  return passed(
      name, dir + ": owner uid " + std::to_string(info->uid) + ", mode " + mode_text(info->mode));
}

// libvirt pins a VFIO guest's RAM under QEMU's RLIMIT_MEMLOCK, which it sets to guest RAM +
// 1 GiB, or to <memtune><hard_limit> when the domain has one (qemuDomainGetMemLockLimitBytes).
// A hard limit below the RAM makes every start with a VF fail in VFIO_IOMMU_MAP_DMA; below
// RAM + 1 GiB it may, once the guest's device memory is mapped too.
DoctorCheck check_memlock(Libvirt* libvirt, const std::string& libvirt_error) {
  const char* const name = "memlock";
  if (libvirt == nullptr)
    return warning(name, "cannot check the domains' memory limits: " + libvirt_error,
                   "start libvirtd (or virtqemud), then run vfctl doctor again");
  auto domains = libvirt->list_domains();
  if (!domains)
    return warning(name, "cannot list the domains: " + domains.error().message,
                   "check that libvirt answers (virsh list --all)");
  constexpr uint64_t kGiB = uint64_t{1} << 30;
  std::vector<std::string> too_low, tight, unreadable;
  int with_vfs = 0;
  for (const DomainSummary& summary : *domains) {
    auto xml = libvirt->domain_xml(summary.name, false);
    if (!xml) continue;  // undefined meanwhile
    auto domain = DomainXml::parse(*xml);
    if (!domain) {
      unreadable.push_back(printable(summary.name, 64) + " (" + domain.error().message + ")");
      continue;
    }
    if (domain->vf_ports().empty()) continue;
    ++with_vfs;
    auto sizes = domain->memory_sizes();
    if (!sizes) {
      unreadable.push_back(domain->name() + " (" + sizes.error().message + ")");
      continue;
    }
    if (!sizes->hard_limit || !sizes->memory) continue;
    const std::string text = domain->name() + ": hard_limit " +
                             std::to_string(*sizes->hard_limit >> 20) + " MiB, memory " +
                             std::to_string(*sizes->memory >> 20) + " MiB";
    if (*sizes->hard_limit < *sizes->memory) {
      too_low.push_back(text);
    } else if (*sizes->hard_limit - *sizes->memory < kGiB) {
      tight.push_back(text);
    }
  }
  const char* const fix =
      "raise <memtune><hard_limit> to at least the guest's memory + 1 GiB, or remove it "
      "(libvirt then sets the locked-memory limit of VFIO guests itself); virsh edit DOMAIN";
  if (!too_low.empty())
    return failed(name,
                  "locked-memory limit below the guest's RAM, so a VF cannot be mapped: " +
                      join(too_low, "; "),
                  fix);
  if (!tight.empty())
    return warning(
        name, "locked-memory limit less than 1 GiB above the guest's RAM: " + join(tight, "; "),
        fix);
  if (!unreadable.empty())
    return warning(name, "cannot read the definitions of " + join(unreadable, "; "),
                   "check them with virsh dumpxml --inactive");
  return passed(name, std::to_string(with_vfs) +
                          " domains with VF ports; libvirt gives each RAM + 1 GiB or a "
                          "hard_limit that covers it");
}

}  // namespace

std::string_view to_string(DoctorCheck::Status status) {
  switch (status) {
    case DoctorCheck::Status::ok:
      return "ok";
    case DoctorCheck::Status::warning:
      return "warning";
    case DoctorCheck::Status::failed:
      return "failed";
  }
  return "failed";
}

std::vector<DoctorCheck> run_doctor(const DoctorInputs& inputs) {
  std::vector<DoctorCheck> checks;
  checks.push_back(check_iommu(inputs.sysfs));
  checks.push_back(check_interrupt_remapping(inputs.sysfs));
  checks.push_back(check_unsafe_interrupts(inputs.sysfs));
  checks.push_back(check_vfio_pci(inputs.sysfs, inputs.files));
  checks.push_back(check_config(inputs.config_path, inputs.config, inputs.files));
  if (inputs.config) check_pools(*inputs.config, inputs, checks);
  checks.push_back(check_installed_file(inputs.files, "hook", inputs.paths.hook, true));
  if (!inputs.paths.hook_core.empty())
    checks.push_back(
        check_installed_file(inputs.files, "hook-core", inputs.paths.hook_core, false));
  checks.push_back(check_libvirt_saw_hook(inputs.files, inputs.paths.hook));
  checks.push_back(check_memlock(inputs.libvirt, inputs.libvirt_error));
  if (inputs.config)
    checks.push_back(check_state(*inputs.config, inputs.config_path, inputs.files));
  return checks;
}

bool doctor_passed(const std::vector<DoctorCheck>& checks) {
  return std::none_of(checks.begin(), checks.end(), [](const DoctorCheck& check) {
    return check.status == DoctorCheck::Status::failed;
  });
}

}  // namespace vfhook
