#include "vfio/pci_topology.h"

#include <gtest/gtest.h>

#include "testing/addresses.h"
#include "testing/fake_sysfs_tree.h"

namespace vfhook {
namespace {

using testing::pci;

class PciTopologyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = testing::FakeSysfsTree::create(dir.path());
    ASSERT_TRUE(created) << created.error().message;
    tree = std::move(*created);
    testing::PfSpec spec;
    spec.address = pci("0000:01:00.0");
    spec.netdev = "enp1s0";
    spec.num_vfs = 3;
    spec.numa_node = 1;
    spec.vf_drivers[1] = "vfio-pci";
    spec.vf_drivers[2] = std::nullopt;
    spec.vf_netdevs[0] = "enp1s0v0";
    auto vfs = tree->add_pf(spec);
    ASSERT_TRUE(vfs) << vfs.error().message;
  }

  testing::TempDir dir;
  std::unique_ptr<testing::FakeSysfsTree> tree;
};

TEST_F(PciTopologyTest, FindsPfByNameWithItsVfs) {
  PciTopology topology(tree->kernel());
  auto pf = topology.pf("enp1s0");
  ASSERT_TRUE(pf) << pf.error().message;
  EXPECT_EQ(pf->address, pci("0000:01:00.0"));
  EXPECT_EQ(pf->name, "enp1s0");
  EXPECT_EQ(pf->driver, "igb");
  EXPECT_EQ(pf->total_vfs, 7);
  EXPECT_EQ(pf->num_vfs, 3);
  EXPECT_EQ(pf->numa_node, 1);
  ASSERT_EQ(pf->vfs.size(), 3u);
  EXPECT_EQ(pf->vfs[0].address, pci("0000:01:10.0"));
  EXPECT_EQ(pf->vfs[1].address, pci("0000:01:10.2"));
  EXPECT_EQ(pf->vfs[2].address, pci("0000:01:10.4"));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(pf->vfs[i].index, i);
    EXPECT_EQ(pf->vfs[i].pf, pf->address);
    EXPECT_EQ(pf->vfs[i].pf_name, "enp1s0");
    EXPECT_EQ(pf->vfs[i].numa_node, 1);
  }
  EXPECT_EQ(pf->vfs[0].driver, "igbvf");
  EXPECT_EQ(pf->vfs[0].netdev, "enp1s0v0");
  EXPECT_EQ(pf->vfs[1].driver, "vfio-pci");
  EXPECT_EQ(pf->vfs[2].driver, std::nullopt);
  EXPECT_EQ(pf->vfs[2].netdev, std::nullopt);
}

TEST_F(PciTopologyTest, FindsPfByAddressAndVfByAddress) {
  PciTopology topology(tree->kernel());
  auto pf = topology.pf("0000:01:00.0");
  ASSERT_TRUE(pf) << pf.error().message;
  EXPECT_EQ(pf->name, "enp1s0");
  auto vf = topology.vf(pci("0000:01:10.4"));
  ASSERT_TRUE(vf) << vf.error().message;
  ASSERT_TRUE(vf->has_value());
  EXPECT_EQ((*vf)->index, 2);
  EXPECT_EQ((*vf)->pf_name, "enp1s0");
  EXPECT_EQ((*vf)->iommu_group, *topology.iommu_group(pci("0000:01:10.4")));
}

TEST_F(PciTopologyTest, VfOfAPfIsNulloptAndUnknownDeviceIsNotFound) {
  PciTopology topology(tree->kernel());
  auto pf_as_vf = topology.vf(pci("0000:01:00.0"));
  ASSERT_TRUE(pf_as_vf);
  EXPECT_FALSE(pf_as_vf->has_value());
  auto missing = topology.vf(pci("0000:09:00.0"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::not_found);
}

TEST_F(PciTopologyTest, UnknownOrInvalidPfNamesAreRefused) {
  PciTopology topology(tree->kernel());
  EXPECT_EQ(topology.pf("eth9").error().kind, ErrorKind::not_found);
  EXPECT_EQ(topology.pf("../../etc").error().kind, ErrorKind::invalid_input);
  EXPECT_EQ(topology.pf("").error().kind, ErrorKind::invalid_input);
}

TEST_F(PciTopologyTest, DeviceWithoutSriovIsNotAPf) {
  ASSERT_TRUE(
      tree->add_device(pci("0000:02:00.0"), testing::DeviceSpec{"e1000e", std::nullopt, 0}));
  ASSERT_TRUE(tree->add_netdev("eno1", pci("0000:02:00.0"), true));
  PciTopology topology(tree->kernel());
  auto pf = topology.pf("eno1");
  ASSERT_FALSE(pf);
  EXPECT_EQ(pf.error().kind, ErrorKind::policy);
  EXPECT_NE(pf.error().message.find("not SR-IOV capable"), std::string::npos);
}

TEST_F(PciTopologyTest, HostilePhysfnLinkIsInvalidInput) {
  ASSERT_TRUE(tree->make_link("devices/pci0000:00/0000:01:10.0/physfn", "../../etc"));
  PciTopology topology(tree->kernel());
  auto vf = topology.vf(pci("0000:01:10.0"));
  ASSERT_FALSE(vf);
  EXPECT_EQ(vf.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(vf.error().message.find("physfn"), std::string::npos);
}

TEST_F(PciTopologyTest, HostileDriverGroupAndNetdevLinksAreInvalidInput) {
  PciTopology topology(tree->kernel());
  ASSERT_TRUE(tree->make_link("devices/pci0000:00/0000:01:10.0/driver", "../../.."));
  EXPECT_EQ(topology.driver(pci("0000:01:10.0")).error().kind, ErrorKind::invalid_input);
  ASSERT_TRUE(tree->make_link("devices/pci0000:00/0000:01:10.2/iommu_group", "../../etc"));
  EXPECT_EQ(topology.iommu_group(pci("0000:01:10.2")).error().kind, ErrorKind::invalid_input);
  ASSERT_TRUE(
      tree->make_link("devices/pci0000:00/0000:01:00.0/net/enp1s0/device", "../../../../etc"));
  EXPECT_EQ(topology.pf("enp1s0").error().kind, ErrorKind::invalid_input);
}

TEST_F(PciTopologyTest, HostileVirtfnLinkIsInvalidInput) {
  ASSERT_TRUE(tree->make_link("devices/pci0000:00/0000:01:00.0/virtfn1", "../../../etc"));
  PciTopology topology(tree->kernel());
  auto pf = topology.pf("enp1s0");
  ASSERT_FALSE(pf);
  EXPECT_EQ(pf.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(pf.error().message.find("virtfn1"), std::string::npos);
}

// Found by fuzz/sysfs_fuzz: "virtfn-1" gave a VF index of -1, and "virtfn01" next to
// "virtfn1", or two virtfn links to one VF, listed that VF twice.
TEST_F(PciTopologyTest, VirtfnEntriesMustBeTheKernelsOwn) {
  PciTopology topology(tree->kernel());
  const std::string pf_dir = "devices/pci0000:00/0000:01:00.0/";
  for (const char* entry : {"virtfn-1", "virtfn01", "virtfn+1", "virtfn"}) {
    std::filesystem::create_directories(dir.path() / entry);
    auto fresh = testing::FakeSysfsTree::create(dir.path() / entry);
    ASSERT_TRUE(fresh) << fresh.error().message;
    testing::PfSpec spec;
    spec.address = pci("0000:01:00.0");
    spec.netdev = "enp1s0";
    spec.num_vfs = 2;
    ASSERT_TRUE((*fresh)->add_pf(spec));
    ASSERT_TRUE((*fresh)->make_link(pf_dir + entry, "../0000:01:10.2"));
    PciTopology other((*fresh)->kernel());
    auto pf = other.pf("enp1s0");
    ASSERT_FALSE(pf) << entry;
    EXPECT_EQ(pf.error().kind, ErrorKind::invalid_input) << entry;
    EXPECT_NE(pf.error().message.find(entry), std::string::npos) << pf.error().message;
  }
  // virtfn2 pointing at virtfn1's VF.
  ASSERT_TRUE(tree->make_link(pf_dir + "virtfn2", "../0000:01:10.2"));
  auto pf = topology.pf("enp1s0");
  ASSERT_FALSE(pf);
  EXPECT_EQ(pf.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(pf.error().message.find("virtfn2"), std::string::npos) << pf.error().message;
}

TEST_F(PciTopologyTest, GarbageInCountsIsInvalidInput) {
  ASSERT_TRUE(tree->write_file("devices/pci0000:00/0000:01:00.0/sriov_totalvfs", "7abc\n"));
  PciTopology topology(tree->kernel());
  EXPECT_EQ(topology.pf("enp1s0").error().kind, ErrorKind::invalid_input);
}

TEST_F(PciTopologyTest, NumaNodeMinusOneIsUnknown) {
  ASSERT_TRUE(tree->write_file("devices/pci0000:00/0000:01:00.0/numa_node", "-1\n"));
  PciTopology topology(tree->kernel());
  EXPECT_EQ(*topology.numa_node(pci("0000:01:00.0")), -1);
}

TEST_F(PciTopologyTest, IommuGroupDevicesListsSharedGroup) {
  PciTopology topology(tree->kernel());
  int group = *topology.iommu_group(pci("0000:01:10.0"));
  ASSERT_TRUE(tree->add_device(pci("0000:03:00.0"), testing::DeviceSpec{"igb", group, 0}));
  auto devices = topology.iommu_group_devices(group);
  ASSERT_TRUE(devices) << devices.error().message;
  EXPECT_EQ(*devices, (std::vector<PciAddress>{pci("0000:01:10.0"), pci("0000:03:00.0")}));
}

TEST_F(PciTopologyTest, NetdevAdminUpFollowsFlags) {
  PciTopology topology(tree->kernel());
  EXPECT_TRUE(*topology.netdev_admin_up("enp1s0"));
  ASSERT_TRUE(tree->set_admin_up("enp1s0", false));
  EXPECT_FALSE(*topology.netdev_admin_up("enp1s0"));
  ASSERT_TRUE(tree->write_file("class/net/enp1s0/flags", "up\n"));
  EXPECT_EQ(topology.netdev_admin_up("enp1s0").error().kind, ErrorKind::invalid_input);
  EXPECT_EQ(topology.netdev_admin_up("../x").error().kind, ErrorKind::invalid_input);
}

}  // namespace
}  // namespace vfhook
