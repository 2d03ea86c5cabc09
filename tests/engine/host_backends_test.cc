#include "engine/host_backends.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace vfhook {
namespace {

class OpenHostBackendsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "vfhook-context-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    // The real sysfs and netlink backends: opening them reads and changes nothing.
    config_.state_dir = (root_ / "state").string();
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }

  std::filesystem::path root_;
  HostConfig config_;
};

// A proc tree of the test's own, with this text as the boot id.
std::string proc_with_boot_id(const std::filesystem::path& root, const std::string& text) {
  std::filesystem::create_directories(root / "proc/sys/kernel/random");
  std::ofstream(root / "proc/sys/kernel/random/boot_id") << text;
  return (root / "proc").string();
}

TEST_F(OpenHostBackendsTest, CreatesAMissingStateDirectoryForRootOnly) {
  auto backends = open_host_backends(config_);
  ASSERT_TRUE(backends) << backends.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(config_.state_dir.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0077, 0u);
  EXPECT_TRUE(std::filesystem::exists(config_.state_dir + "/vfhook.db"));
}

TEST_F(OpenHostBackendsTest, RefusesAStateDirectoryAnyoneCanWrite) {
  ASSERT_EQ(::mkdir(config_.state_dir.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(config_.state_dir.c_str(), 0777), 0);
  auto backends = open_host_backends(config_);
  ASSERT_FALSE(backends);
  EXPECT_EQ(backends.error().kind, ErrorKind::policy);
  EXPECT_EQ(backends.error().message,
            "state directory " + config_.state_dir +
                " is writable by group/others (mode 0777): anyone on this host could plant a "
                "claims database whose VF snapshots vfhook applies at release; run chmod go-w " +
                config_.state_dir);
  EXPECT_FALSE(std::filesystem::exists(config_.state_dir + "/vfhook.db"));
}

// The host crashed: claims (and snapshots) of the boot before are dropped when the store is
// opened in this boot, restoring nothing; reservations belong to the domains and stay.
TEST_F(OpenHostBackendsTest, DropsTheClaimsOfAnEarlierBoot) {
  ASSERT_EQ(::mkdir(config_.state_dir.c_str(), 0700), 0);
  const std::string db = config_.state_dir + "/vfhook.db";
  const Claim stale{*PciAddress::parse("0000:01:10.2"), "web1", "provider", "enp1s0", 2};
  const Reservation reservation{stale.vf, "web1", "provider"};
  {
    StoreOptions earlier;
    earlier.boot_id = "0b7e6f3c-2d41-4a8e-9c1f-5a3b2c1d0e9f";
    ASSERT_NE(earlier.boot_id, read_boot_id("/proc"));
    auto store = Store::open(db, earlier);
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_TRUE((*store)->transaction([&](StoreTransaction& tx) -> Status {
      VF_TRY(tx.add_claim(stale));
      VF_TRY(tx.save_snapshot(VfSnapshot{stale.vf, "igbvf", true, {}}));
      return tx.add_reservation(reservation);
    }));
  }

  auto store = open_state_store(config_);
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_EQ((*store)->dropped_claims(), (std::vector<Claim>{stale}));
  ASSERT_TRUE((*store)->transaction([&](StoreTransaction& tx) -> Status {
    VF_ASSIGN(claims, tx.claims());
    EXPECT_TRUE(claims.empty());
    VF_ASSIGN(snapshot, tx.snapshot(stale.vf));
    EXPECT_FALSE(snapshot);
    VF_ASSIGN(reservations, tx.reservations());
    EXPECT_EQ(reservations, (std::vector<Reservation>{reservation}));
    // New claims are this boot's: the next hook process keeps them.
    return tx.add_claim(stale);
  }));

  store->reset();
  auto again = open_state_store(config_);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE((*again)->dropped_claims().empty());
  ASSERT_TRUE((*again)->transaction([&](StoreTransaction& tx) -> Status {
    VF_ASSIGN(claims, tx.claims());
    EXPECT_EQ(claims, (std::vector<Claim>{stale}));
    return ok();
  }));
}

// `vfctl claims` (asked by the package's removal) on a host where no hook ever claimed a VF:
// no store, and no state directory left behind.
TEST_F(OpenHostBackendsTest, OpenExistingStoreWithoutADatabaseCreatesNothing) {
  auto store = open_existing_state_store(config_);
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_EQ(store->get(), nullptr);
  EXPECT_FALSE(std::filesystem::exists(config_.state_dir));

  ASSERT_EQ(::mkdir(config_.state_dir.c_str(), 0700), 0);
  store = open_existing_state_store(config_);
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_EQ(store->get(), nullptr);
  EXPECT_FALSE(std::filesystem::exists(config_.state_dir + "/vfhook.db"));
}

// A claim made by a hook process is seen through the existing database; one of an earlier
// boot is not (it would otherwise block a removal after a crash).
TEST_F(OpenHostBackendsTest, OpenExistingStoreSeesThisBootsClaimsOnly) {
  const Claim stale{*PciAddress::parse("0000:01:10.2"), "web2", "provider", "enp1s0", 2};
  const Claim running{*PciAddress::parse("0000:01:10.0"), "web1", "provider", "enp1s0", 0};
  ASSERT_EQ(::mkdir(config_.state_dir.c_str(), 0700), 0);
  {
    StoreOptions earlier;
    earlier.boot_id = "0b7e6f3c-2d41-4a8e-9c1f-5a3b2c1d0e9f";
    auto old_boot = Store::open(config_.state_dir + "/vfhook.db", earlier);
    ASSERT_TRUE(old_boot) << old_boot.error().message;
    ASSERT_TRUE((*old_boot)->transaction(
        [&](StoreTransaction& tx) -> Status { return tx.add_claim(stale); }));
  }
  auto claims_seen = [&]() {
    std::vector<Claim> seen;
    auto store = open_existing_state_store(config_);
    EXPECT_TRUE(store) << store.error().message;
    if (!store || !*store) return seen;
    EXPECT_TRUE((*store)->transaction([&](StoreTransaction& tx) -> Status {
      VF_ASSIGN(claims, tx.claims());
      seen = claims;
      return ok();
    }));
    return seen;
  };
  EXPECT_TRUE(claims_seen().empty());

  {
    auto store = open_state_store(config_);
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_TRUE((*store)->transaction(
        [&](StoreTransaction& tx) -> Status { return tx.add_claim(running); }));
  }
  EXPECT_EQ(claims_seen(), (std::vector<Claim>{running}));
}

TEST_F(OpenHostBackendsTest, OpenExistingStoreRefusesAStateDirectoryAnyoneCanWrite) {
  ASSERT_TRUE(open_state_store(config_));
  ASSERT_EQ(::chmod(config_.state_dir.c_str(), 0777), 0);
  auto store = open_existing_state_store(config_);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().kind, ErrorKind::policy);
}

TEST_F(OpenHostBackendsTest, ReadBootIdReadsTheKernelsTextWithoutItsNewline) {
  const std::string proc = proc_with_boot_id(root_, "5d3c2b1a-0f9e-4d8c-b7a6-958473625140\n");
  EXPECT_EQ(read_boot_id(proc), "5d3c2b1a-0f9e-4d8c-b7a6-958473625140");
}

TEST_F(OpenHostBackendsTest, ReadBootIdOfAnUnreadableFileIsEmpty) {
  // The store then records claims without a boot and drops none.
  EXPECT_EQ(read_boot_id((root_ / "no-proc").string()), "");
}

TEST(ReadBootId, ReadsTheRealOne) {
  EXPECT_EQ(read_boot_id("/proc").size(), 36u);
}

}  // namespace
}  // namespace vfhook
