#include "testing/simulated_kernel_sysfs.h"

#include <gtest/gtest.h>

#include "testing/addresses.h"
#include "testing/fake_sysfs_tree.h"
#include "vfio/pci_topology.h"

namespace vfhook {
namespace {

using testing::pci;

namespace fs = std::filesystem;

class SimulatedKernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = testing::FakeSysfsTree::create(dir.path());
    ASSERT_TRUE(created) << created.error().message;
    tree = std::move(*created);
    testing::PfSpec spec;
    spec.address = pci("0000:01:00.0");
    spec.netdev = "enp1s0";
    ASSERT_TRUE(tree->add_pf(spec));
  }
  SimulatedKernelSysfs& kernel() { return tree->kernel(); }

  testing::TempDir dir;
  std::unique_ptr<testing::FakeSysfsTree> tree;
};

TEST_F(SimulatedKernelTest, SriovNumvfsCreatesVfsAtOffsetAndStrideAndProbesThem) {
  ASSERT_TRUE(kernel().write("bus/pci/devices/0000:01:00.0/sriov_numvfs", "2\n"));
  EXPECT_EQ(*kernel().read_link("bus/pci/devices/0000:01:00.0/virtfn0"), "../0000:01:10.0");
  EXPECT_EQ(*kernel().read_link("bus/pci/devices/0000:01:00.0/virtfn1"), "../0000:01:10.2");
  EXPECT_EQ(*kernel().read_link("bus/pci/devices/0000:01:10.2/physfn"), "../0000:01:00.0");
  PciTopology topology(kernel());
  EXPECT_EQ(*topology.driver(pci("0000:01:10.0")), "igbvf");
  EXPECT_NE(*topology.iommu_group(pci("0000:01:10.0")), *topology.iommu_group(pci("0000:01:10.2")));
  EXPECT_EQ(*kernel().read("bus/pci/devices/0000:01:00.0/sriov_numvfs"), "2");
}

TEST_F(SimulatedKernelTest, SriovNumvfsZeroRemovesVfsAndTheirGroups) {
  ASSERT_TRUE(kernel().write("bus/pci/devices/0000:01:00.0/sriov_numvfs", "2"));
  PciTopology topology(kernel());
  int group = *topology.iommu_group(pci("0000:01:10.0"));
  ASSERT_TRUE(kernel().write("bus/pci/devices/0000:01:00.0/sriov_numvfs", "0"));
  EXPECT_FALSE(kernel().exists("bus/pci/devices/0000:01:10.0"));
  EXPECT_FALSE(kernel().exists("bus/pci/devices/0000:01:00.0/virtfn0"));
  EXPECT_FALSE(kernel().exists("bus/pci/drivers/igbvf/0000:01:10.0"));
  EXPECT_FALSE(kernel().exists("kernel/iommu_groups/" + std::to_string(group)));
}

TEST_F(SimulatedKernelTest, SriovNumvfsRefusesChangeWhileEnabledAndAboveTotal) {
  ASSERT_TRUE(kernel().write("bus/pci/devices/0000:01:00.0/sriov_numvfs", "2"));
  auto busy = kernel().write("bus/pci/devices/0000:01:00.0/sriov_numvfs", "3");
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().sys_errno, EBUSY);
  EXPECT_EQ(*kernel().read("bus/pci/devices/0000:01:00.0/sriov_numvfs"), "2");
  ASSERT_TRUE(kernel().write("bus/pci/devices/0000:01:00.0/sriov_numvfs", "0"));
  auto range = kernel().write("bus/pci/devices/0000:01:00.0/sriov_numvfs", "8");
  ASSERT_FALSE(range);
  EXPECT_EQ(range.error().sys_errno, ERANGE);
}

TEST_F(SimulatedKernelTest, BindRefusedWhenOverrideNamesAnotherDriver) {
  ASSERT_TRUE(kernel().write("bus/pci/devices/0000:01:00.0/sriov_numvfs", "1"));
  ASSERT_TRUE(kernel().write("bus/pci/drivers/igbvf/unbind", "0000:01:10.0"));
  ASSERT_TRUE(kernel().write("bus/pci/devices/0000:01:10.0/driver_override", "vfio-pci"));
  auto bind = kernel().write("bus/pci/drivers/igbvf/bind", "0000:01:10.0");
  ASSERT_FALSE(bind);
  EXPECT_EQ(bind.error().sys_errno, ENODEV);
  ASSERT_TRUE(kernel().write("bus/pci/drivers/vfio-pci/bind", "0000:01:10.0"));
  PciTopology topology(kernel());
  int group = *topology.iommu_group(pci("0000:01:10.0"));
  EXPECT_TRUE(fs::exists(tree->dev_root() / "vfio" / std::to_string(group)));
}

TEST_F(SimulatedKernelTest, UnbindFromWrongDriverIsEnodevAndClearingOverrideShowsNull) {
  ASSERT_TRUE(kernel().write("bus/pci/devices/0000:01:00.0/sriov_numvfs", "1"));
  auto wrong = kernel().write("bus/pci/drivers/vfio-pci/unbind", "0000:01:10.0");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().sys_errno, ENODEV);
  ASSERT_TRUE(kernel().write("bus/pci/devices/0000:01:10.0/driver_override", "vfio-pci"));
  ASSERT_TRUE(kernel().write("bus/pci/devices/0000:01:10.0/driver_override", "\n"));
  EXPECT_EQ(*kernel().read("bus/pci/devices/0000:01:10.0/driver_override"), "(null)");
}

}  // namespace
}  // namespace vfhook
