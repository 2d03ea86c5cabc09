#include "vfio/driver_binding.h"

#include <gtest/gtest.h>

#include "testing/addresses.h"
#include "testing/fake_clock.h"
#include "testing/fake_sysfs_tree.h"
#include "vfio/pci_topology.h"

namespace vfhook {
namespace {

using testing::pci;

namespace fs = std::filesystem;

// Forwards to the simulated kernel and records every write, to check what was (not) done.
class RecordingSysfs : public Sysfs {
 public:
  explicit RecordingSysfs(Sysfs& inner) : inner_(inner) {}
  Result<std::string> read(std::string_view path) override { return inner_.read(path); }
  Status write(std::string_view path, std::string_view value) override {
    writes.push_back(std::string(path) + " <- " + std::string(value));
    return inner_.write(path, value);
  }
  Result<std::string> read_link(std::string_view path) override { return inner_.read_link(path); }
  Result<std::vector<std::string>> list(std::string_view path) override {
    return inner_.list(path);
  }
  bool exists(std::string_view path) override { return inner_.exists(path); }

  std::vector<std::string> writes;

 private:
  Sysfs& inner_;
};

class DriverBindingTest : public ::testing::Test {
 protected:
  void SetUp() override { make_tree(true); }

  void make_tree(bool with_vfio_pci) {
    tree.reset();
    sub = std::make_unique<testing::TempDir>();
    auto created = testing::FakeSysfsTree::create(sub->path(), with_vfio_pci);
    ASSERT_TRUE(created) << created.error().message;
    tree = std::move(*created);
    testing::PfSpec spec;
    spec.address = pci("0000:01:00.0");
    spec.netdev = "enp1s0";
    spec.num_vfs = 2;
    ASSERT_TRUE(tree->add_pf(spec));
    recording = std::make_unique<RecordingSysfs>(tree->kernel());
  }
  std::optional<std::string> driver_of(const char* bdf) {
    PciTopology topology(tree->kernel());
    return *topology.driver(pci(bdf));
  }
  int group_of(const char* bdf) {
    PciTopology topology(tree->kernel());
    return *topology.iommu_group(pci(bdf));
  }
  bool vfio_node(const char* bdf) {
    DirSysfs dev(tree->dev_root());
    return vfio_group_node_present(dev, group_of(bdf));
  }

  std::unique_ptr<testing::TempDir> sub;
  std::unique_ptr<testing::FakeSysfsTree> tree;
  std::unique_ptr<RecordingSysfs> recording;
  FakeClock clock;
};

TEST_F(DriverBindingTest, BindsVfToVfioPciThroughDriverOverride) {
  ASSERT_EQ(driver_of("0000:01:10.0"), "igbvf");
  ASSERT_FALSE(vfio_node("0000:01:10.0"));
  DriverBinder binder(*recording, clock);
  auto st = binder.bind_to_vfio(pci("0000:01:10.0"));
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(driver_of("0000:01:10.0"), "vfio-pci");
  EXPECT_EQ(*tree->kernel().read("bus/pci/devices/0000:01:10.0/driver_override"), "vfio-pci");
  EXPECT_TRUE(vfio_node("0000:01:10.0"));
  EXPECT_EQ(recording->writes, (std::vector<std::string>{
                                   "bus/pci/devices/0000:01:10.0/driver_override <- vfio-pci",
                                   "bus/pci/drivers/igbvf/unbind <- 0000:01:10.0",
                                   "bus/pci/drivers_probe <- 0000:01:10.0",
                               }));
  EXPECT_EQ(driver_of("0000:01:10.2"), "igbvf");  // the other VF is untouched
}

// Right after VFs are created their driver's module may still be registering: the VF names it as
// its driver, but drivers/<name>/unbind is not there yet (the lab saw this on every first
// `vfs apply` of a boot).
class RegisteringDriverSysfs : public RecordingSysfs {
 public:
  using RecordingSysfs::RecordingSysfs;
  Status write(std::string_view path, std::string_view value) override {
    if (path.ends_with("/unbind") && missing_unbinds > 0) {
      --missing_unbinds;
      writes.push_back(std::string(path) + " <- " + std::string(value) + " (ENOENT)");
      return tl::unexpected(errno_error(ENOENT, "write " + std::string(path)));
    }
    return RecordingSysfs::write(path, value);
  }
  int missing_unbinds = 3;
};

TEST_F(DriverBindingTest, WaitsForTheUnbindFileOfADriverStillRegistering) {
  RegisteringDriverSysfs registering(tree->kernel());
  DriverBinder binder(registering, clock);
  auto st = binder.bind_to_vfio(pci("0000:01:10.0"));
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(driver_of("0000:01:10.0"), "vfio-pci");
  EXPECT_EQ(registering.missing_unbinds, 0);
  EXPECT_GT(clock.slept(), Clock::Duration{});

  // A file that never appears: the bind fails within the timeout, the VF keeps its driver.
  registering.missing_unbinds = 1000000;
  FakeClock other;
  DriverBinder impatient(registering, other, std::chrono::milliseconds(200));
  auto refused = impatient.bind_to_vfio(pci("0000:01:10.2"));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("unbind"), std::string::npos) << refused.error().message;
  EXPECT_LE(other.slept(), std::chrono::milliseconds(300));
  EXPECT_EQ(driver_of("0000:01:10.2"), "igbvf");
}

TEST_F(DriverBindingTest, AlreadyOnVfioPciWritesNothing) {
  DriverBinder binder(*recording, clock);
  ASSERT_TRUE(binder.bind_to_vfio(pci("0000:01:10.0")));
  recording->writes.clear();
  ASSERT_TRUE(binder.bind_to_vfio(pci("0000:01:10.0")));
  EXPECT_TRUE(recording->writes.empty());
}

TEST_F(DriverBindingTest, BindTimeoutRollsBackToOriginalDriver) {
  ASSERT_TRUE(tree->refuse_bind(pci("0000:01:10.0")));
  // The refusal only affects later binds: the rollback's explicit bind must still work
  // for the original driver, so lift it once the device is unbound. Simulate a device that
  // ignores vfio-pci only: remove the marker when the binder gives up.
  struct LiftOnOverrideClear : RecordingSysfs {
    using RecordingSysfs::RecordingSysfs;
    fs::path marker;
    Status write(std::string_view path, std::string_view value) override {
      if (value == "\n") fs::remove(marker);
      return RecordingSysfs::write(path, value);
    }
  } sysfs(tree->kernel());
  sysfs.marker = tree->sys_root() / "bus/pci/devices/0000:01:10.0/.refuse_bind";

  DriverBinder binder(sysfs, clock, std::chrono::seconds(2));
  auto st = binder.bind_to_vfio(pci("0000:01:10.0"));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::timeout);
  EXPECT_NE(st.error().message.find("0000:01:10.0"), std::string::npos);
  EXPECT_NE(st.error().message.find("restored driver igbvf"), std::string::npos)
      << st.error().message;
  EXPECT_GE(clock.slept(), std::chrono::seconds(2));
  EXPECT_EQ(driver_of("0000:01:10.0"), "igbvf");
  EXPECT_EQ(*tree->kernel().read("bus/pci/devices/0000:01:10.0/driver_override"), "(null)");
  EXPECT_FALSE(vfio_node("0000:01:10.0"));
}

TEST_F(DriverBindingTest, BindTimeoutReportsFailedRollback) {
  ASSERT_TRUE(tree->refuse_bind(pci("0000:01:10.0")));
  DriverBinder binder(tree->kernel(), clock, std::chrono::milliseconds(100));
  auto st = binder.bind_to_vfio(pci("0000:01:10.0"));
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("ALSO failed"), std::string::npos) << st.error().message;
  EXPECT_EQ(driver_of("0000:01:10.0"), std::nullopt);
}

TEST_F(DriverBindingTest, RestoreDriverGivesTheVfBackToItsHostDriver) {
  DriverBinder binder(tree->kernel(), clock);
  ASSERT_TRUE(binder.bind_to_vfio(pci("0000:01:10.0")));
  auto st = binder.restore_driver(pci("0000:01:10.0"), "igbvf");
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(driver_of("0000:01:10.0"), "igbvf");
  EXPECT_EQ(*tree->kernel().read("bus/pci/devices/0000:01:10.0/driver_override"), "(null)");
  EXPECT_FALSE(vfio_node("0000:01:10.0"));
}

TEST_F(DriverBindingTest, RestoreDriverToNoneLeavesItUnbound) {
  DriverBinder binder(tree->kernel(), clock);
  ASSERT_TRUE(binder.bind_to_vfio(pci("0000:01:10.0")));
  ASSERT_TRUE(binder.restore_driver(pci("0000:01:10.0"), std::nullopt));
  EXPECT_EQ(driver_of("0000:01:10.0"), std::nullopt);
}

TEST_F(DriverBindingTest, RestoreDriverBindsExplicitlyWhenProbeDoesNotMatch) {
  ASSERT_TRUE(tree->add_driver("pci-stub"));
  DriverBinder binder(tree->kernel(), clock);
  ASSERT_TRUE(binder.bind_to_vfio(pci("0000:01:10.0")));
  ASSERT_TRUE(tree->write_file("devices/pci0000:00/0000:01:10.0/.default_driver", ""));
  auto st = binder.restore_driver(pci("0000:01:10.0"), "pci-stub");
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(driver_of("0000:01:10.0"), "pci-stub");
}

TEST_F(DriverBindingTest, MissingVfioPciIsAPolicyErrorAndChangesNothing) {
  make_tree(false);
  EXPECT_EQ(check_vfio_pci_loaded(tree->kernel()).error().kind, ErrorKind::policy);
  EXPECT_NE(check_vfio_pci_loaded(tree->kernel()).error().message.find("modprobe vfio-pci"),
            std::string::npos);
  DriverBinder binder(*recording, clock);
  auto st = binder.bind_to_vfio(pci("0000:01:10.0"));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::policy);
  EXPECT_TRUE(recording->writes.empty());
  EXPECT_EQ(driver_of("0000:01:10.0"), "igbvf");
}

TEST_F(DriverBindingTest, GroupWithOnlyTheVfIsViable) {
  EXPECT_TRUE(check_iommu_group_viable(tree->kernel(), pci("0000:01:10.0")));
}

TEST_F(DriverBindingTest, GroupSharedWithABoundDeviceIsRefusedAndNamed) {
  int group = group_of("0000:01:10.0");
  ASSERT_TRUE(tree->add_device(pci("0000:03:00.0"), testing::DeviceSpec{"igb", group, 0}));
  ASSERT_TRUE(tree->add_device(pci("0000:03:00.1"), testing::DeviceSpec{std::nullopt, group, 0}));
  auto st = check_iommu_group_viable(tree->kernel(), pci("0000:01:10.0"));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::policy);
  EXPECT_NE(st.error().message.find("0000:03:00.0 (driver igb)"), std::string::npos)
      << st.error().message;
  EXPECT_EQ(st.error().message.find("0000:03:00.1"), std::string::npos);  // unbound is fine
}

TEST_F(DriverBindingTest, GroupSharedWithVfioOrStubDevicesIsViable) {
  int group = group_of("0000:01:10.0");
  ASSERT_TRUE(tree->add_device(pci("0000:03:00.0"), testing::DeviceSpec{"vfio-pci", group, 0}));
  ASSERT_TRUE(tree->add_device(pci("0000:03:00.1"), testing::DeviceSpec{"pci-stub", group, 0}));
  EXPECT_TRUE(check_iommu_group_viable(tree->kernel(), pci("0000:01:10.0")));
}

}  // namespace
}  // namespace vfhook
