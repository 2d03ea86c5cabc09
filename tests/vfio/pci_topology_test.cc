#include "vfio/pci_topology.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

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

// Counts the sysfs lookups of each path, forwarding to the fake tree.
class CountingSysfs : public Sysfs {
 public:
  explicit CountingSysfs(Sysfs& inner) : inner_(inner) {}
  Result<std::string> read(std::string_view path) override {
    ++reads[std::string(path)];
    return inner_.read(path);
  }
  Status write(std::string_view path, std::string_view value) override {
    return inner_.write(path, value);
  }
  Result<std::string> read_link(std::string_view path) override {
    ++reads[std::string(path)];
    return inner_.read_link(path);
  }
  Result<std::vector<std::string>> list(std::string_view path) override {
    ++reads[std::string(path)];
    return inner_.list(path);
  }
  bool exists(std::string_view path) override {
    ++reads[std::string(path)];
    return inner_.exists(path);
  }
  int total() const {
    int n = 0;
    for (const auto& [path, count] : reads) n += count;
    return n;
  }
  std::map<std::string, int> reads;

 private:
  Sysfs& inner_;
};

// udev renames a new VF's netdev while vfhook looks at it: the first read of eth0's flags finds
// the name gone (the rename happens just before it).
class RenamingSysfs : public CountingSysfs {
 public:
  RenamingSysfs(Sysfs& inner, std::filesystem::path net_dir)
      : CountingSysfs(inner), net_dir_(std::move(net_dir)) {}
  Result<std::string> read(std::string_view path) override {
    if (!renamed_ && path.ends_with("/net/eth0/flags")) {
      renamed_ = true;
      std::filesystem::rename(net_dir_ / "eth0", net_dir_ / "enp1s0v0");
    }
    return CountingSysfs::read(path);
  }

 private:
  std::filesystem::path net_dir_;
  bool renamed_ = false;
};

TEST_F(PciTopologyTest, DeviceAdminUpFollowsARenameInsteadOfTakingTheOldNameForUp) {
  const std::filesystem::path net_dir = tree->sys_root() / "devices/pci0000:00/0000:01:10.0/net";
  ASSERT_TRUE(tree->set_admin_up("enp1s0v0", false));
  std::filesystem::rename(net_dir / "enp1s0v0", net_dir / "eth0");
  RenamingSysfs renaming(tree->kernel(), net_dir);
  PciTopology topology(renaming);
  auto up = topology.device_admin_up(pci("0000:01:10.0"));
  ASSERT_TRUE(up) << up.error().message;
  EXPECT_FALSE(*up);
  EXPECT_EQ(renaming.reads["bus/pci/devices/0000:01:10.0/net"], 2);  // listed again

  ASSERT_TRUE(tree->set_admin_up("enp1s0v0", true));
  EXPECT_TRUE(*topology.device_admin_up(pci("0000:01:10.0")));
  // No netdev (a VF on vfio-pci) is not up.
  EXPECT_FALSE(*topology.device_admin_up(pci("0000:01:10.2")));
}

// A plan asks for several VFs of one PF, and a PF may have a hundred: each VF's index used to
// be found by listing the PF and reading every virtfn link again, so a PF listing read N^2
// links. Now one topology reads each virtfn link, and the PF's netdev, once.
TEST_F(PciTopologyTest, ReadsEachVirtfnLinkOnceWhateverTheNumberOfVfsAskedFor) {
  testing::TempDir big_dir;
  auto created = testing::FakeSysfsTree::create(big_dir.path());
  ASSERT_TRUE(created) << created.error().message;
  testing::PfSpec spec;
  spec.address = pci("0000:02:00.0");
  spec.netdev = "enp2s0";
  spec.total_vfs = 32;
  spec.num_vfs = 32;
  auto vfs = (*created)->add_pf(spec);
  ASSERT_TRUE(vfs) << vfs.error().message;

  CountingSysfs counting((*created)->kernel());
  PciTopology topology(counting);
  for (int index = 0; index < 32; ++index) {
    auto vf = topology.vf((*vfs)[index]);
    ASSERT_TRUE(vf && *vf) << index;
    EXPECT_EQ((*vf)->index, index);
    EXPECT_EQ((*vf)->pf_name, "enp2s0");
  }
  for (int index = 0; index < 32; ++index)
    EXPECT_EQ(counting.reads["bus/pci/devices/0000:02:00.0/virtfn" + std::to_string(index)], 1)
        << index;
  EXPECT_EQ(counting.reads["bus/pci/devices/0000:02:00.0/net"], 1);

  CountingSysfs listing((*created)->kernel());
  PciTopology fresh(listing);
  auto pf = fresh.pf("enp2s0");
  ASSERT_TRUE(pf) << pf.error().message;
  ASSERT_EQ(pf->vfs.size(), 32u);
  for (int index = 0; index < 32; ++index) {
    EXPECT_EQ(pf->vfs[index].index, index);
    EXPECT_EQ(listing.reads["bus/pci/devices/0000:02:00.0/virtfn" + std::to_string(index)], 1)
        << index;
  }
  // Linear in the VFs: a handful of lookups per VF, not one per VF per VF.
  EXPECT_LT(listing.total(), 10 * 32) << listing.total();
}

// The lookups skipped on the common path still tell "absent" from "broken".
TEST_F(PciTopologyTest, AbsentAttributesAndMissingDevicesAreToldApart) {
  PciTopology topology(tree->kernel());
  EXPECT_EQ(*topology.driver(pci("0000:01:10.4")), std::nullopt);  // VF 2: no driver
  auto gone = topology.driver(pci("0000:09:00.0"));
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().kind, ErrorKind::not_found);
  auto not_vf = topology.vf(pci("0000:09:00.0"));
  ASSERT_FALSE(not_vf);
  EXPECT_EQ(not_vf.error().kind, ErrorKind::not_found);
  EXPECT_EQ(*topology.vf(pci("0000:01:00.0")), std::nullopt);  // the PF: not a VF

  ASSERT_TRUE(
      std::filesystem::remove(tree->sys_root() / "devices/pci0000:00/0000:01:10.2/iommu_group"));
  auto group = topology.iommu_group(pci("0000:01:10.2"));
  ASSERT_FALSE(group);
  EXPECT_EQ(group.error().kind, ErrorKind::not_found);
  EXPECT_NE(group.error().message.find("IOMMU"), std::string::npos);

  // A driver entry that is a directory, not a link: broken, not "no driver".
  ASSERT_TRUE(std::filesystem::remove(tree->sys_root() / "devices/pci0000:00/0000:01:10.2/driver"));
  std::filesystem::create_directories(tree->sys_root() / "devices/pci0000:00/0000:01:10.2/driver");
  auto broken = topology.driver(pci("0000:01:10.2"));
  EXPECT_FALSE(broken);
}

}  // namespace
}  // namespace vfhook
