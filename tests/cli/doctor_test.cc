// vfctl doctor on a fake host: the engine bed's sysfs tree (one igb PF enp1s0 with 7 VFs) made
// healthy by SetUp (an Intel IOMMU that remaps interrupts, the hook installed before virtqemud
// started), then broken one way per test. Each test checks the status and that the fix names
// what the operator runs.
#include "cli/doctor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <json-c/json.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "cli/views.h"
#include "testing/engine_bed.h"
#include "testing/fake_host_files.h"
#include "testing/fake_libvirt.h"
#include "vfio/pci_topology.h"

namespace vfhook {
namespace {

using ::testing::ElementsAre;
using testing::EngineBed;
using testing::FakeHostFiles;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using CheckStatus = DoctorCheck::Status;

const char* const kConfigPath = "/etc/vfhook/vfhook.toml";
const char* const kHook = "/etc/libvirt/hooks/qemu.d/vfhook";
const char* const kCore = "/usr/lib/x86_64-linux-gnu/vfhook/libvfhook_hook.so";
const char* const kRelease = "6.1.0-18-amd64";
constexpr int64_t kBootTime = 1700000000;
constexpr int64_t kDaemonStartTicks = 123456;             // 1234.56 s after boot
constexpr int64_t kDaemonStarted = kBootTime + 1234;      // what doctor works out
constexpr int64_t kHookInstalled = kDaemonStarted - 600;  // before the daemon started
constexpr const char* kEcapWithIr = "f020de";             // 0xde: bit 3 set
constexpr const char* kEcapWithoutIr = "f020d6";          // 0xd6: bit 3 clear
constexpr const char* kIommuUnit = "class/iommu/dmar0/intel-iommu/ecap";
constexpr const char* kUnsafeInterrupts =
    "module/vfio_iommu_type1/parameters/allow_unsafe_interrupts";

// /proc/<pid>/stat with `ticks` as field 22 (starttime).
std::string proc_stat_line(int pid, const std::string& comm, int64_t ticks) {
  return std::to_string(pid) + " (" + comm + ") S 1 " + std::to_string(pid) + " " +
         std::to_string(pid) + " 0 -1 4194560 1234 0 0 0 12 5 0 0 20 0 17 0 " +
         std::to_string(ticks) + " 1234567 890 18446744073709551615\n";
}

class DoctorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(bed.tree().write_file(kIommuUnit, std::string(kEcapWithIr) + "\n"));
    ASSERT_TRUE(bed.tree().write_file(kUnsafeInterrupts, "N\n"));
    files.add_file("/proc/sys/kernel/osrelease", std::string(kRelease) + "\n");
    files.add_file(kHook,
                   "\x7f"
                   "ELF",
                   0, 0755, kHookInstalled);
    files.add_file(kCore,
                   "\x7f"
                   "ELF",
                   0, 0644, kHookInstalled);
    files.add_file("/run/virtqemud.pid", "4242\n");
    files.add_file("/proc/4242/stat", proc_stat_line(4242, "virtqemud", kDaemonStartTicks));
    files.add_file("/proc/stat", "cpu  10 0 20 3000 0 0 0 0 0 0\nintr 1234 0 9 0\nctxt 99\nbtime " +
                                     std::to_string(kBootTime) + "\nprocesses 4321\n");
    use_bed_config();
  }

  // The bed's current config as the doctor's loaded config (after bed.set_config()).
  void use_bed_config() { config = bed.ctx().config; }
  void set_config(const std::string& toml) {
    bed.set_config(toml);
    use_bed_config();
  }
  std::filesystem::path sys() { return bed.tree().sys_root(); }

  std::vector<DoctorCheck> run(Sysfs* sysfs = nullptr) {
    DoctorInputs inputs{kConfigPath,
                        config,
                        sysfs ? *sysfs : bed.tree().kernel(),
                        files,
                        Result<VfNetlink*>(static_cast<VfNetlink*>(&bed.netlink())),
                        DoctorPaths{kHook, kCore},
                        nullptr,
                        {}};
    inputs.libvirt = &libvirt;
    return run_doctor(inputs);
  }

  // The check named `name` in the last run; fails the test when there is none.
  DoctorCheck check(const std::string& name, Sysfs* sysfs = nullptr) {
    for (DoctorCheck& c : run(sysfs))
      if (c.name == name) return c;
    ADD_FAILURE() << "no check named " << name;
    return {};
  }

  EngineBed bed;
  FakeHostFiles files;
  testing::FakeLibvirt libvirt;
  Result<HostConfig> config = HostConfig{};
};

std::vector<std::string> names(const std::vector<DoctorCheck>& checks) {
  std::vector<std::string> out;
  for (const DoctorCheck& c : checks) out.push_back(c.name);
  return out;
}

TEST_F(DoctorTest, HealthyHostPassesEveryCheckAndChangesNothing) {
  const auto before = bed.fingerprint();
  const auto checks = run();
  EXPECT_THAT(names(checks),
              ElementsAre("iommu", "interrupt-remapping", "unsafe-interrupts", "vfio-pci", "config",
                          "pf provider/enp1s0", "iommu-groups provider/enp1s0", "hook", "hook-core",
                          "libvirt-reload", "memlock", "state-dir"));
  for (const DoctorCheck& c : checks) {
    EXPECT_EQ(c.status, CheckStatus::ok) << c.name << ": " << c.found << " / " << c.fix;
    EXPECT_THAT(c.fix, IsEmpty()) << c.name;
    EXPECT_THAT(c.found, Not(IsEmpty())) << c.name;
  }
  EXPECT_TRUE(doctor_passed(checks));
  EXPECT_THAT(checks[0].found, HasSubstr("IOMMU groups"));
  EXPECT_THAT(checks[5].found, HasSubstr("enp1s0 (0000:01:00.0, driver igb): up, 7 of 7 VFs"));
  EXPECT_THAT(checks[6].found, HasSubstr("7 VFs of PF enp1s0"));
  EXPECT_THAT(checks[9].found, HasSubstr("virtqemud (pid 4242) started"));
  EXPECT_THAT(checks[10].found, HasSubstr("0 domains with VF ports"));
  EXPECT_THAT(checks[11].found, HasSubstr("created at first use"));
  // Read-only: no netlink request, no sysfs change.
  EXPECT_THAT(bed.netlink().requests(), IsEmpty());
  EXPECT_EQ(bed.fingerprint(), before);
}

TEST_F(DoctorTest, NoIommuGroupsFailsWithTheKernelCommandLineFix) {
  testing::TempDir dir;
  auto bare = testing::FakeSysfsTree::create(dir.path());
  ASSERT_TRUE(bare) << bare.error().message;
  const DoctorCheck iommu = check("iommu", &(*bare)->kernel());
  EXPECT_EQ(iommu.status, CheckStatus::failed);
  EXPECT_THAT(iommu.found, HasSubstr("no IOMMU is in use"));
  EXPECT_THAT(iommu.fix, HasSubstr("intel_iommu=on"));
  EXPECT_THAT(iommu.fix, HasSubstr("amd_iommu=on"));
  EXPECT_THAT(iommu.fix, HasSubstr("update-grub"));
}

TEST_F(DoctorTest, APfWhoseVfsHaveNoIommuGroupPointsAtTheIommuCheck) {
  // A host booted with intel_iommu=off: no groups at all (the lab's scenario 13).
  for (const auto& entry : std::filesystem::directory_iterator(sys() / "kernel/iommu_groups"))
    std::filesystem::remove_all(entry.path());
  for (int i = 0; i < 7; ++i)
    std::filesystem::remove(sys() / "bus/pci/devices" / bed.vf(i).to_string() / "iommu_group");
  const DoctorCheck pf = check("pf provider/enp1s0");
  EXPECT_EQ(pf.status, CheckStatus::failed);
  EXPECT_THAT(pf.found, HasSubstr("has no IOMMU group"));
  EXPECT_EQ(pf.fix, "turn the IOMMU on first (see the iommu check)");
  EXPECT_EQ(check("iommu").status, CheckStatus::failed);
}

TEST_F(DoctorTest, IntelIommuWithoutInterruptRemappingFails) {
  ASSERT_TRUE(bed.tree().write_file(kIommuUnit, std::string(kEcapWithoutIr) + "\n"));
  const DoctorCheck ir = check("interrupt-remapping");
  EXPECT_EQ(ir.status, CheckStatus::failed);
  EXPECT_THAT(ir.found, HasSubstr("dmar0"));
  EXPECT_THAT(ir.fix, HasSubstr("intremap=off"));
}

TEST_F(DoctorTest, EcapThatIsNoHexNumberIsAWarning) {
  ASSERT_TRUE(bed.tree().write_file(kIommuUnit, "0xfg\x1b[2J\n"));
  const DoctorCheck ir = check("interrupt-remapping");
  EXPECT_EQ(ir.status, CheckStatus::warning);
  EXPECT_THAT(ir.found, HasSubstr("is no hex number"));
  EXPECT_THAT(ir.found, Not(HasSubstr("\x1b")));  // shown escaped, not sent to the terminal
}

TEST_F(DoctorTest, AmdIommuIsTreatedAsRemapping) {
  std::filesystem::remove_all(sys() / "class/iommu/dmar0");
  ASSERT_TRUE(bed.tree().write_file("class/iommu/ivhd0/uevent", ""));
  const DoctorCheck ir = check("interrupt-remapping");
  EXPECT_EQ(ir.status, CheckStatus::ok);
  EXPECT_THAT(ir.found, HasSubstr("AMD"));
}

TEST_F(DoctorTest, NoIommuUnitSaysItCannotTell) {
  std::filesystem::remove_all(sys() / "class/iommu");
  const DoctorCheck ir = check("interrupt-remapping");
  EXPECT_EQ(ir.status, CheckStatus::warning);
  EXPECT_THAT(ir.found, HasSubstr("cannot tell"));
}

TEST_F(DoctorTest, AllowUnsafeInterruptsIsAWarning) {
  ASSERT_TRUE(bed.tree().write_file(kUnsafeInterrupts, "Y\n"));
  const auto checks = run();
  const DoctorCheck unsafe = checks[2];
  ASSERT_EQ(unsafe.name, "unsafe-interrupts");
  EXPECT_EQ(unsafe.status, CheckStatus::warning);
  EXPECT_THAT(unsafe.found, HasSubstr("inject interrupts"));
  EXPECT_THAT(unsafe.fix, HasSubstr("allow_unsafe_interrupts"));
  EXPECT_TRUE(doctor_passed(checks));  // a warning does not fail the doctor
}

TEST_F(DoctorTest, VfioPciNotLoadedWithItsModuleInstalledIsAWarning) {
  std::filesystem::remove_all(sys() / "bus/pci/drivers/vfio-pci");
  files.add_file(
      std::string("/lib/modules/") + kRelease + "/kernel/drivers/vfio/pci/vfio-pci.ko.zst", "");
  const DoctorCheck vfio = check("vfio-pci");
  EXPECT_EQ(vfio.status, CheckStatus::warning);
  EXPECT_THAT(vfio.found, HasSubstr("not loaded"));
  EXPECT_THAT(vfio.fix, HasSubstr("modprobe vfio-pci"));
  EXPECT_THAT(vfio.fix, HasSubstr("/etc/modules-load.d/vfio.conf"));
  EXPECT_THAT(files.reads(), ::testing::Contains("/proc/sys/kernel/osrelease"));
}

TEST_F(DoctorTest, VfioPciWithoutAModuleFails) {
  std::filesystem::remove_all(sys() / "bus/pci/drivers/vfio-pci");
  const DoctorCheck vfio = check("vfio-pci");
  EXPECT_EQ(vfio.status, CheckStatus::failed);
  EXPECT_THAT(vfio.found, HasSubstr(kRelease));
  EXPECT_THAT(vfio.fix, HasSubstr("modprobe vfio-pci"));
}

TEST_F(DoctorTest, VfioPciWithAHostileKernelReleaseFailsWithoutLookingOutside) {
  std::filesystem::remove_all(sys() / "bus/pci/drivers/vfio-pci");
  // A module "found" through the hostile release must not turn this into a warning.
  files.add_file("/lib/modules/../../etc/kernel/drivers/vfio/pci/vfio-pci.ko", "");
  files.add_file("/proc/sys/kernel/osrelease", "../../etc\n");
  const DoctorCheck vfio = check("vfio-pci");
  EXPECT_EQ(vfio.status, CheckStatus::failed);
  EXPECT_THAT(vfio.found, HasSubstr("holds no kernel release"));
}

TEST_F(DoctorTest, UnresolvedPfFailsNamingThePoolAndTheRef) {
  set_config("[[pool]]\nname = \"provider\"\npfs = [\"enp1s0\", \"enp9s0\"]\nflat = true\n");
  const auto checks = run();
  const auto it = std::find_if(checks.begin(), checks.end(),
                               [](const DoctorCheck& c) { return c.name == "pf provider/enp9s0"; });
  ASSERT_NE(it, checks.end());
  EXPECT_EQ(it->status, CheckStatus::failed);
  EXPECT_THAT(it->found, HasSubstr("pool 'provider' lists PF 'enp9s0'"));
  EXPECT_THAT(it->fix, HasSubstr(kConfigPath));
  EXPECT_FALSE(doctor_passed(checks));
  // The PF that does resolve is still checked.
  EXPECT_EQ(check("pf provider/enp1s0").status, CheckStatus::ok);
}

TEST_F(DoctorTest, PfDownFailsWithIpLinkSetUp) {
  bed.netlink().pf("enp1s0")->admin_up = false;
  const DoctorCheck pf = check("pf provider/enp1s0");
  EXPECT_EQ(pf.status, CheckStatus::failed);
  EXPECT_THAT(pf.found, HasSubstr("is down"));
  EXPECT_THAT(pf.fix, HasSubstr("ip link set enp1s0 up"));
}

TEST_F(DoctorTest, PfDownIsSeenInSysfsWhenNetlinkIsUnavailable) {
  ASSERT_TRUE(bed.tree().set_admin_up("enp1s0", false));
  DoctorInputs inputs{kConfigPath,
                      config,
                      bed.tree().kernel(),
                      files,
                      Result<VfNetlink*>(fail(ErrorKind::netlink, "no netlink here")),
                      DoctorPaths{kHook, kCore},
                      nullptr,
                      {}};
  const auto checks = run_doctor(inputs);
  ASSERT_EQ(checks[5].name, "pf provider/enp1s0");
  EXPECT_EQ(checks[5].status, CheckStatus::failed);
  EXPECT_THAT(checks[5].fix, HasSubstr("ip link set enp1s0 up"));
}

TEST_F(DoctorTest, VfPoolPfWithoutSriovFails) {
  ASSERT_TRUE(bed.tree().add_device(*PciAddress::parse("0000:02:00.0"), {"e1000e", {}, 0}));
  ASSERT_TRUE(bed.tree().add_netdev("enp2s0", *PciAddress::parse("0000:02:00.0"), true));
  set_config("[[pool]]\nname = \"uplink\"\npfs = [\"enp2s0\"]\nflat = true\n");
  const DoctorCheck pf = check("pf uplink/enp2s0");
  EXPECT_EQ(pf.status, CheckStatus::failed);
  EXPECT_THAT(pf.found, HasSubstr("not SR-IOV capable"));
  EXPECT_THAT(pf.fix, HasSubstr("mode = \"pf\""));
}

TEST_F(DoctorTest, VfCountOtherThanNumVfsIsAWarningNamingVfsApply) {
  set_config(std::string(testing::kProviderPoolToml) + "num_vfs = 4\n");
  const DoctorCheck count = check("vf-count provider/enp1s0");
  EXPECT_EQ(count.status, CheckStatus::warning);
  EXPECT_THAT(count.found, HasSubstr("has 7 VFs, pool 'provider' asks for 4"));
  EXPECT_THAT(count.fix, HasSubstr("vfctl vfs apply"));
  EXPECT_THAT(count.fix, HasSubstr("vfhook-vfs.service"));

  set_config(std::string(testing::kProviderPoolToml) + "num_vfs = 7\n");
  EXPECT_EQ(check("vf-count provider/enp1s0").status, CheckStatus::ok);
}

TEST_F(DoctorTest, IommuGroupSharedWithAHostDriverFailsNamingTheVf) {
  PciTopology topology(bed.tree().kernel());
  auto group = topology.iommu_group(bed.vf(2));
  ASSERT_TRUE(group) << group.error().message;
  ASSERT_TRUE(bed.tree().add_device(*PciAddress::parse("0000:05:00.0"), {"e1000e", *group, 0}));
  const DoctorCheck groups = check("iommu-groups provider/enp1s0");
  EXPECT_EQ(groups.status, CheckStatus::failed);
  EXPECT_THAT(groups.found, HasSubstr("VF 2: " + bed.vf(2).to_string()));
  EXPECT_THAT(groups.found, HasSubstr("0000:05:00.0 (driver e1000e)"));
  EXPECT_THAT(groups.found, Not(HasSubstr("VF 3")));
  EXPECT_THAT(groups.fix, HasSubstr("vfio-pci"));
}

TEST_F(DoctorTest, SymlinkedHookFailsWithTheAppArmorReason) {
  files.add_file("/opt/vfhook/vfhook",
                 "\x7f"
                 "ELF",
                 0, 0755, kHookInstalled);
  files.add_symlink(kHook, "/opt/vfhook/vfhook");
  const DoctorCheck hook = check("hook");
  EXPECT_EQ(hook.status, CheckStatus::failed);
  EXPECT_THAT(hook.found, HasSubstr("is a symlink"));
  EXPECT_THAT(hook.found, HasSubstr("AppArmor"));
  EXPECT_THAT(hook.found, HasSubstr("/etc/libvirt/hooks/**"));
  EXPECT_THAT(hook.fix, HasSubstr("cp --remove-destination"));
}

TEST_F(DoctorTest, HookOthersCouldChangeFailsWithEveryFix) {
  files.info(kHook)->uid = 1000;
  files.info(kHook)->mode = 0666;
  const DoctorCheck hook = check("hook");
  EXPECT_EQ(hook.status, CheckStatus::failed);
  EXPECT_THAT(hook.found, HasSubstr("owned by uid 1000"));
  EXPECT_THAT(hook.found, HasSubstr("mode 0666"));
  EXPECT_THAT(hook.fix, HasSubstr("chown root " + std::string(kHook)));
  EXPECT_THAT(hook.fix, HasSubstr("chmod go-w " + std::string(kHook)));
  EXPECT_THAT(hook.fix, HasSubstr("chmod 0755 " + std::string(kHook)));  // and not executable
}

TEST_F(DoctorTest, MissingHookAndCoreFail) {
  files.remove(kHook);
  files.remove(kCore);
  const auto checks = run();
  EXPECT_EQ(checks[7].name, "hook");
  EXPECT_EQ(checks[7].status, CheckStatus::failed);
  EXPECT_THAT(checks[7].fix, HasSubstr("install vfhook"));
  EXPECT_EQ(checks[8].name, "hook-core");
  EXPECT_EQ(checks[8].status, CheckStatus::failed);
  EXPECT_THAT(checks[8].found, HasSubstr("cannot load its core"));
}

TEST_F(DoctorTest, HookNewerThanTheDaemonStartIsAWarning) {
  files.info(kHook)->mtime = kDaemonStarted + 60;
  const auto checks = run();
  const DoctorCheck& reload = checks[9];
  ASSERT_EQ(reload.name, "libvirt-reload");
  EXPECT_EQ(reload.status, CheckStatus::warning);
  EXPECT_THAT(reload.found, HasSubstr("libvirt has not seen this hook yet"));
  EXPECT_THAT(reload.fix, HasSubstr("systemctl reload virtqemud"));
  EXPECT_TRUE(doctor_passed(checks));
}

TEST_F(DoctorTest, TheReloadThePackageNotedAfterTheHookWasInstalledPasses) {
  files.info(kHook)->mtime = kDaemonStarted + 60;
  // An earlier daemon's reload, then a reload of this one before the hook changed: neither
  // counts.
  files.add_file(kLibvirtReloadStamp, "virtqemud 1 " + std::to_string(kDaemonStarted + 90) +
                                          "\nvirtqemud 4242 " +
                                          std::to_string(kDaemonStarted + 30) + "\n");
  EXPECT_EQ(check("libvirt-reload").status, CheckStatus::warning);

  // Lines that do not parse are skipped, not trusted.
  files.add_file(kLibvirtReloadStamp, "virtqemud 4242\nvirtqemud x 999999999999\nlibvirtd 4242 " +
                                          std::to_string(kDaemonStarted + 90) + "\n");
  EXPECT_EQ(check("libvirt-reload").status, CheckStatus::warning);

  files.add_file(kLibvirtReloadStamp, "virtqemud 4242 " + std::to_string(kDaemonStarted + 30) +
                                          "\nvirtqemud 4242 " +
                                          std::to_string(kDaemonStarted + 61) + "\n");
  const DoctorCheck reload = check("libvirt-reload");
  EXPECT_EQ(reload.status, CheckStatus::ok);
  EXPECT_THAT(reload.found, HasSubstr("reloaded by vfhook's package"));

  // The hook replaced again after that reload: libvirt may not have seen this one.
  files.info(kHook)->mtime = kDaemonStarted + 120;
  EXPECT_EQ(check("libvirt-reload").status, CheckStatus::warning);
}

TEST_F(DoctorTest, LibvirtdPidFileIsUsedWhenVirtqemudHasNone) {
  files.remove("/run/virtqemud.pid");
  files.add_file("/run/libvirtd.pid", "77\n");
  files.add_file("/proc/77/stat", proc_stat_line(77, "libvirtd", kDaemonStartTicks));
  files.info(kHook)->mtime = kDaemonStarted + 1;
  const DoctorCheck reload = check("libvirt-reload");
  EXPECT_EQ(reload.status, CheckStatus::warning);
  EXPECT_THAT(reload.found, HasSubstr("libvirtd (pid 77)"));
  EXPECT_THAT(reload.fix, HasSubstr("systemctl reload libvirtd"));
}

TEST_F(DoctorTest, NoDaemonIsAWarning) {
  files.remove("/run/virtqemud.pid");
  const DoctorCheck reload = check("libvirt-reload");
  EXPECT_EQ(reload.status, CheckStatus::warning);
  EXPECT_THAT(reload.found, HasSubstr("libvirtd/virtqemud does not seem to run"));
  EXPECT_THAT(reload.fix, HasSubstr("systemctl start"));
}

TEST_F(DoctorTest, StaleOrHostilePidFilesCountAsNoDaemon) {
  files.remove("/proc/4242/stat");  // the daemon is gone
  EXPECT_THAT(check("libvirt-reload").found, HasSubstr("names pid 4242, which is gone"));

  // The pid reused by another process, whose name holds ") " to fool a naive parser.
  files.add_file("/proc/4242/stat", proc_stat_line(4242, "x) S 1 (virtqemud", kDaemonStartTicks));
  DoctorCheck reload = check("libvirt-reload");
  EXPECT_EQ(reload.status, CheckStatus::warning);
  EXPECT_THAT(reload.found, HasSubstr("not virtqemud"));

  files.add_file("/run/virtqemud.pid", "../../etc/passwd\n");
  reload = check("libvirt-reload");
  EXPECT_EQ(reload.status, CheckStatus::warning);
  EXPECT_THAT(reload.found, HasSubstr("/run/virtqemud.pid holds no pid"));
  EXPECT_THAT(files.reads(), Not(::testing::Contains(HasSubstr("passwd"))));
}

TEST_F(DoctorTest, BrokenConfigStillRunsTheOtherChecks) {
  config = fail(ErrorKind::policy, std::string(kConfigPath) +
                                       " is writable by group/others (mode 0666): anyone on this "
                                       "host could change VLAN policy; run chmod go-w " +
                                       kConfigPath);
  files.add_file(kConfigPath, "", 0, 0666);
  const auto checks = run();
  EXPECT_THAT(names(checks),
              ElementsAre("iommu", "interrupt-remapping", "unsafe-interrupts", "vfio-pci", "config",
                          "hook", "hook-core", "libvirt-reload", "memlock"));
  EXPECT_EQ(checks[0].status, CheckStatus::ok);
  EXPECT_EQ(checks[3].status, CheckStatus::ok);
  EXPECT_EQ(checks[4].status, CheckStatus::failed);
  EXPECT_THAT(checks[4].found, HasSubstr("writable by group/others"));
  EXPECT_THAT(checks[4].fix, HasSubstr("chmod go-w " + std::string(kConfigPath)));
  EXPECT_FALSE(doctor_passed(checks));
}

TEST_F(DoctorTest, MissingConfigFailsWithCreateIt) {
  config = fail(errno_error(ENOENT, std::string("open config ") + kConfigPath));
  const DoctorCheck c = check("config");
  EXPECT_EQ(c.status, CheckStatus::failed);
  EXPECT_THAT(c.fix, HasSubstr("create " + std::string(kConfigPath)));
}

TEST_F(DoctorTest, StateDirOthersCouldChangeFails) {
  const std::string dir = bed.ctx().config.state_dir;
  files.add_directory(dir, 0, 0777);
  DoctorCheck state = check("state-dir");
  EXPECT_EQ(state.status, CheckStatus::failed);
  EXPECT_THAT(state.found, HasSubstr("writable by group/others"));
  EXPECT_EQ(state.fix, "chmod go-w " + dir);

  files.add_directory(dir, 0, 0700);
  files.add_file(dir + "/vfhook.db", "", 0, 0666);
  state = check("state-dir");
  EXPECT_EQ(state.status, CheckStatus::failed);
  EXPECT_THAT(state.found, HasSubstr("claims database"));
  EXPECT_EQ(state.fix, "chmod go-w " + dir + "/vfhook.db");

  files.add_file(dir + "/vfhook.db", "", 0, 0600);
  EXPECT_EQ(check("state-dir").status, CheckStatus::ok);
}

TEST_F(DoctorTest, TextAndJsonViews) {
  bed.netlink().pf("enp1s0")->admin_up = false;
  const auto checks = run();
  const std::string text = doctor_text(checks);
  EXPECT_THAT(text, ::testing::StartsWith("ok      iommu: "));
  EXPECT_THAT(text, HasSubstr("\nFAILED  pf provider/enp1s0: "));
  EXPECT_THAT(text, HasSubstr(" is down: its VFs pass no traffic\n  fix: ip link set enp1s0 up"));
  EXPECT_THAT(text, HasSubstr("1 failed, 0 warnings\n"));

  json_object* root = json_tokener_parse(doctor_json(checks).c_str());
  ASSERT_NE(root, nullptr);
  json_object* ok = nullptr;
  json_object* list = nullptr;
  ASSERT_TRUE(json_object_object_get_ex(root, "ok", &ok));
  EXPECT_FALSE(json_object_get_boolean(ok));
  ASSERT_TRUE(json_object_object_get_ex(root, "checks", &list));
  ASSERT_EQ(json_object_array_length(list), checks.size());
  json_object* pf = json_object_array_get_idx(list, 5);
  json_object* value = nullptr;
  ASSERT_TRUE(json_object_object_get_ex(pf, "status", &value));
  EXPECT_STREQ(json_object_get_string(value), "failed");
  ASSERT_TRUE(json_object_object_get_ex(pf, "fix", &value));
  EXPECT_THAT(json_object_get_string(value), HasSubstr("ip link set enp1s0 up"));
  ASSERT_TRUE(json_object_object_get_ex(json_object_array_get_idx(list, 0), "fix", &value));
  EXPECT_EQ(value, nullptr);  // JSON null when the check is ok
  json_object_put(root);
}

}  // namespace
}  // namespace vfhook

namespace vfhook {
namespace {

// A domain with one VF port and these <memory> and <memtune> elements.
std::string domain_with_memory(const std::string& name, const std::string& memory_xml) {
  return "<domain type='kvm'><name>" + name + "</name>" + memory_xml +
         "<devices><interface type='hostdev' managed='no'><mac address='52:54:00:00:00:0" +
         std::to_string(name.size() % 10) +
         "'/><source><address type='pci' domain='0x0000' bus='0x01' slot='0x10' "
         "function='0x0'/></source></interface></devices></domain>";
}

TEST_F(DoctorTest, MemlockFailsForAHardLimitBelowTheRamOfAGuestWithAVf) {
  libvirt.add_domain(domain_with_memory(
      "db1",
      "<memory unit='GiB'>4</memory><memtune><hard_limit unit='MiB'>3072</hard_limit>"
      "</memtune>"));
  libvirt.add_domain(domain_with_memory("web1", "<memory unit='KiB'>2097152</memory>"));
  // Without a VF port a hard limit below the RAM is none of vfhook's business.
  libvirt.add_domain(
      "<domain type='kvm'><name>plain</name><memory>4194304</memory><memtune><hard_limit>1024"
      "</hard_limit></memtune></domain>");
  DoctorCheck memlock = check("memlock");
  EXPECT_EQ(memlock.status, CheckStatus::failed);
  EXPECT_THAT(memlock.found, HasSubstr("db1: hard_limit 3072 MiB, memory 4096 MiB"));
  EXPECT_THAT(memlock.found, Not(HasSubstr("plain")));
  EXPECT_THAT(memlock.fix, HasSubstr("at least the guest's memory + 1 GiB"));
}

TEST_F(DoctorTest, MemlockWarnsWhenTheHardLimitLeavesLessThanAGibAndPassesWithout) {
  libvirt.add_domain(
      domain_with_memory("db1",
                         "<memory unit='G'>4</memory><memtune><hard_limit unit='GiB'>4</hard_limit>"
                         "</memtune>"));
  DoctorCheck tight = check("memlock");
  EXPECT_EQ(tight.status, CheckStatus::warning);
  EXPECT_THAT(tight.found, HasSubstr("less than 1 GiB above"));

  libvirt.domains.clear();
  libvirt.add_domain(
      domain_with_memory("db1",
                         "<memory unit='G'>4</memory><memtune><hard_limit unit='GiB'>5</hard_limit>"
                         "</memtune>"));
  libvirt.add_domain(domain_with_memory("web1", "<memory>2097152</memory>"));
  DoctorCheck enough = check("memlock");
  EXPECT_EQ(enough.status, CheckStatus::ok) << enough.found;
  EXPECT_THAT(enough.found, HasSubstr("2 domains with VF ports"));
}

TEST_F(DoctorTest, MemlockWithAnUnknownUnitOrNoLibvirtIsAWarningNotAFailure) {
  libvirt.add_domain(domain_with_memory(
      "db1", "<memory unit='parsecs'>4</memory><memtune><hard_limit>1</hard_limit></memtune>"));
  DoctorCheck unreadable = check("memlock");
  EXPECT_EQ(unreadable.status, CheckStatus::warning);
  EXPECT_THAT(unreadable.found, HasSubstr("unknown unit 'parsecs'"));

  DoctorInputs inputs{kConfigPath,
                      config,
                      bed.tree().kernel(),
                      files,
                      Result<VfNetlink*>(static_cast<VfNetlink*>(&bed.netlink())),
                      DoctorPaths{kHook, kCore},
                      nullptr,
                      {}};
  inputs.libvirt_error = "Failed to connect socket to '/var/run/libvirt/virtqemud-sock'";
  for (const DoctorCheck& c : run_doctor(inputs)) {
    if (c.name != "memlock") continue;
    EXPECT_EQ(c.status, CheckStatus::warning);
    EXPECT_THAT(c.found, HasSubstr("virtqemud-sock"));
    EXPECT_THAT(c.fix, HasSubstr("start libvirtd"));
  }
}

}  // namespace
}  // namespace vfhook
