// vfctl vfs apply's engine operation on the engine bed: VF counts, admin MACs, pre-binding,
// and what it refuses while guests hold VFs.
#include "engine/vf_provisioning.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <functional>

#include "engine/vf_restore.h"
#include "testing/engine_bed.h"
#include "testing/fake_clock.h"
#include "vfio/pci_topology.h"
#include "vfio/vf_count.h"

namespace vfhook {
namespace {

using testing::EngineBed;
using ::testing::HasSubstr;

const PciAddress kPf = *PciAddress::parse("0000:01:00.0");

class VfProvisioningTest : public ::testing::Test {
 protected:
  void SetUp() override { bed.netlink().follow_vf_count("enp1s0", bed.ctx().sysfs, kPf); }
  void configure(const std::string& extra) {
    bed.set_config(std::string(testing::kProviderPoolToml) + extra);
  }
  int count() { return *vf_count(bed.ctx().sysfs, kPf); }
  std::vector<VfInfo> vfs() {
    PciTopology topology(bed.ctx().sysfs);
    return topology.pf("enp1s0")->vfs;
  }

  EngineBed bed;
};

TEST_F(VfProvisioningTest, CreatesTheCountGivesMacsPreBindsAndASecondRunChangesNothing) {
  configure("num_vfs = 4\nkeep_idle_on_vfio = true\n");
  ProvisioningReport first = provision_vfs(bed.ctx());
  EXPECT_TRUE(first.problems.empty()) << first.problems.front();
  EXPECT_EQ(count(), 4);
  EXPECT_THAT(first.changes.front(), HasSubstr("7 -> 4 VFs"));
  ASSERT_EQ(vfs().size(), 4u);
  PfLink link = *bed.netlink().read_pf("enp1s0");
  ASSERT_EQ(link.vfs.size(), 4u);
  for (const VfInfo& vf : vfs()) {
    EXPECT_EQ(link.vfs[vf.index].mac, idle_mac_for(vf.address)) << vf.index;
    EXPECT_EQ(vf.driver, "vfio-pci") << vf.index;
  }

  const size_t requests = bed.netlink().requests().size();
  ProvisioningReport second = provision_vfs(bed.ctx());
  EXPECT_TRUE(second.changes.empty()) << second.changes.front();
  EXPECT_TRUE(second.problems.empty());
  EXPECT_EQ(bed.netlink().requests().size(), requests);
}

// Forwards to the bed's sysfs; after a write of sriov_numvfs runs `after_count_change` (the VF
// driver probing the new VFs).
class CountWatchingSysfs final : public Sysfs {
 public:
  CountWatchingSysfs(Sysfs& inner, std::function<void()> after_count_change)
      : inner_(inner), after_(std::move(after_count_change)) {}
  Result<std::string> read(std::string_view path) override { return inner_.read(path); }
  Status write(std::string_view path, std::string_view value) override {
    Status written = inner_.write(path, value);
    if (written && path.ends_with("/sriov_numvfs") && value != "0") after_();
    return written;
  }
  Result<std::string> read_link(std::string_view path) override { return inner_.read_link(path); }
  Result<std::vector<std::string>> list(std::string_view path) override {
    return inner_.list(path);
  }
  bool exists(std::string_view path) override { return inner_.exists(path); }

 private:
  Sysfs& inner_;
  std::function<void()> after_;
};

TEST_F(VfProvisioningTest, NewVfsGetAdminMacsEvenWhenTheirDriverRegisteredARandomOne) {
  configure("num_vfs = 3\n");
  const MacAddress random = *MacAddress::parse("96:3d:37:d5:94:0f");
  CountWatchingSysfs watching(bed.ctx().sysfs, [&] {
    ASSERT_TRUE(bed.netlink().read_pf("enp1s0"));     // the fake follows the new count
    bed.netlink().pf("enp1s0")->vfs[1].mac = random;  // igbvf: "Assigning random MAC address"
  });
  EngineContext ctx{bed.ctx().config, watching,        bed.ctx().devfs, bed.ctx().netlink,
                    bed.ctx().store,  bed.ctx().clock, bed.ctx().log};
  ProvisioningReport report = provision_vfs(ctx);
  EXPECT_TRUE(report.problems.empty()) << report.problems.front();
  EXPECT_EQ(count(), 3);
  PfLink link = *bed.netlink().read_pf("enp1s0");
  for (const VfInfo& vf : vfs()) EXPECT_EQ(link.vfs[vf.index].mac, idle_mac_for(vf.address));
}

TEST_F(VfProvisioningTest, WithoutNumVfsTheCountIsLeftAndOnlyMissingMacsAreSet) {
  bed.netlink().pf("enp1s0")->vfs[3].mac = *MacAddress::parse("02:00:00:00:00:33");
  ProvisioningReport report = provision_vfs(bed.ctx());
  EXPECT_TRUE(report.problems.empty());
  EXPECT_EQ(count(), 7);
  EXPECT_EQ(report.changes.size(), 6u);  // six zero MACs; VF 3 keeps its own
  EXPECT_EQ(bed.netlink().pf("enp1s0")->vfs[3].mac, *MacAddress::parse("02:00:00:00:00:33"));
  EXPECT_EQ(bed.driver(bed.vf(0)), "igbvf");  // the pool does not keep idle VFs on vfio-pci
}

TEST_F(VfProvisioningTest, ACountChangeIsRefusedWhileAGuestHoldsOrADomainReservesAVf) {
  configure("num_vfs = 2\n");
  ASSERT_TRUE(bed.store().transaction([&](StoreTransaction& txn) -> Status {
    return txn.add_claim(Claim{bed.vf(5), "web1", "provider", "enp1s0", 5});
  }));
  ProvisioningReport claimed = provision_vfs(bed.ctx());
  ASSERT_EQ(claimed.problems.size(), 1u);
  EXPECT_THAT(claimed.problems[0], HasSubstr("claimed by domain 'web1'"));
  EXPECT_THAT(claimed.problems[0], HasSubstr("asks for 2"));
  EXPECT_TRUE(claimed.changes.empty());
  EXPECT_EQ(count(), 7);

  ASSERT_TRUE(bed.store().transaction([&](StoreTransaction& txn) -> Status {
    VF_TRY(txn.remove_claim(bed.vf(5)));
    return txn.add_reservation(Reservation{bed.vf(6), "db1", "provider"});
  }));
  ProvisioningReport reserved = provision_vfs(bed.ctx());
  ASSERT_EQ(reserved.problems.size(), 1u);
  EXPECT_THAT(reserved.problems[0], HasSubstr("reserved for domain 'db1'"));
  EXPECT_EQ(count(), 7);
}

TEST_F(VfProvisioningTest, MoreVfsThanTheDeviceOffersIsAProblemNotAChange) {
  configure("num_vfs = 9\n");
  ProvisioningReport report = provision_vfs(bed.ctx());
  ASSERT_FALSE(report.problems.empty());
  EXPECT_THAT(report.problems[0], HasSubstr("offers 7"));
  EXPECT_EQ(count(), 7);
}

// At boot the unit can run before udev has probed the PF: the clock's sleeps are the only
// way time passes, and the PF appears during the third one.
class PfAppearsWhileWaiting final : public Clock {
 public:
  explicit PfAppearsWhileWaiting(std::function<void()> appear) : appear_(std::move(appear)) {}
  TimePoint now() override { return now_; }
  WallTime wall_now() override { return WallTime{}; }
  void sleep_for(Duration duration) override {
    now_ += duration;
    if (++sleeps_ == 3) appear_();
  }
  int sleeps_ = 0;

 private:
  TimePoint now_{};
  std::function<void()> appear_;
};

TEST_F(VfProvisioningTest, WaitsForAPfThatUdevHasNotProbedYetThenCreatesItsVfs) {
  const PciAddress late_pf = *PciAddress::parse("0000:02:00.0");
  bed.set_config(
      "[[pool]]\nname = \"late\"\npfs = [\"enp2s0\"]\nvlans = [\"100-199\"]\nnum_vfs = 2\n");
  PfAppearsWhileWaiting clock([&] {
    testing::PfSpec spec;
    spec.address = late_pf;
    spec.netdev = "enp2s0";
    ASSERT_TRUE(bed.tree().add_pf(spec));
    bed.netlink().add_pf("enp2s0", 3, true, 0);
    bed.netlink().follow_vf_count("enp2s0", bed.ctx().sysfs, late_pf);
  });
  EngineContext ctx{bed.ctx().config, bed.ctx().sysfs, bed.ctx().devfs, bed.ctx().netlink,
                    bed.ctx().store,  clock,           bed.ctx().log};

  ProvisioningReport report = provision_vfs(ctx, std::chrono::seconds(60));
  EXPECT_TRUE(report.problems.empty()) << report.problems.front();
  EXPECT_EQ(clock.sleeps_, 3);
  EXPECT_EQ(*vf_count(bed.ctx().sysfs, late_pf), 2);
}

TEST_F(VfProvisioningTest, APfThatNeverAppearsIsAProblemAfterTheWaitAndNothingElseChanges) {
  bed.set_config(
      "[[pool]]\nname = \"late\"\npfs = [\"enp2s0\"]\nvlans = [\"100-199\"]\nnum_vfs = 2\n");
  FakeClock clock;
  EngineContext ctx{bed.ctx().config, bed.ctx().sysfs, bed.ctx().devfs, bed.ctx().netlink,
                    bed.ctx().store,  clock,           bed.ctx().log};
  const auto before = bed.fingerprint();

  ProvisioningReport report = provision_vfs(ctx, std::chrono::seconds(5));
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_THAT(report.problems[0], HasSubstr("enp2s0"));
  EXPECT_TRUE(report.changes.empty());
  EXPECT_GE(clock.slept(), std::chrono::seconds(5));
  EXPECT_LT(clock.slept(), std::chrono::seconds(6));
  EXPECT_EQ(bed.fingerprint(), before);
}

TEST(VfProvisioningConfig, NumVfsIsCheckedAndOnlyForVfPools) {
  EXPECT_TRUE(
      parse_config("[[pool]]\nname = \"a\"\npfs = [\"enp1s0\"]\nflat = true\nnum_vfs = 8\n", "t"));
  EXPECT_FALSE(
      parse_config("[[pool]]\nname = \"a\"\npfs = [\"enp1s0\"]\nflat = true\nnum_vfs = -1\n", "t"));
  EXPECT_FALSE(parse_config(
      "[[pool]]\nname = \"a\"\npfs = [\"enp1s0\"]\nflat = true\nnum_vfs = \"8\"\n", "t"));
  EXPECT_FALSE(parse_config(
      "[[pool]]\nname = \"a\"\nmode = \"pf\"\npfs = [\"enp1s0\"]\nnum_vfs = 8\n", "t"));
}

}  // namespace
}  // namespace vfhook
