// `vfctl port add` for 16 domains at the same moment, in 16 real processes against one
// claims database and one fake sysfs tree with fewer free VFs than processes: no VF is given
// twice, each process either gets a VF or the allocator's "no free VF" refusal, and the store
// holds exactly the reservations the processes reported. No timing is asserted.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "policy/store.h"
#include "testing/fake_sysfs_tree.h"
#include "testing/port_add_race.h"
#include "testing/scale_host.h"

namespace vfhook {
namespace {

using ::testing::HasSubstr;

// The store on a connection of its own, closed before the race forks (see port_add_race.h).
std::unique_ptr<Store> open_store(const testing::TempDir& state_dir) {
  auto store = Store::open(state_dir.path().string() + "/vfhook.db");
  EXPECT_TRUE(store) << store.error().message;
  return store ? std::move(*store) : nullptr;
}

TEST(ConcurrentPortAdd, SixteenProcessesNeverGetOneVfTwice) {
  testing::TempDir tree_dir, state_dir;
  auto tree = testing::FakeSysfsTree::create(tree_dir.path());
  ASSERT_TRUE(tree) << tree.error().message;
  testing::ScaleHostSpec spec;
  spec.pfs = 2;
  spec.vfs_per_pf = 6;
  spec.used_outside = [](int pf, int vf) { return pf == 1 && vf == 5; };
  auto host = testing::add_scale_pfs(**tree, spec);
  ASSERT_TRUE(host) << host.error().message;
  // 12 VFs: 2 reserved by defined domains, 1 claimed by a running one, 1 the host uses:
  // 8 free for 16 processes.
  const std::set<PciAddress> held = {host->pfs[0].vfs[0], host->pfs[0].vfs[3], host->pfs[1].vfs[2]};
  {
    auto store = open_store(state_dir);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->transaction([&](StoreTransaction& txn) -> Status {
      VF_TRY(txn.add_reservation(Reservation{host->pfs[0].vfs[0], "old1", "provider"}));
      VF_TRY(txn.add_reservation(Reservation{host->pfs[0].vfs[3], "old2", "provider"}));
      return txn.add_claim(Claim{host->pfs[1].vfs[2], "old3", "provider", host->pfs[1].name, 2});
    }));
  }

  testing::PortAddRaceSetup setup;
  setup.sys_root = (*tree)->sys_root();
  setup.dev_root = (*tree)->dev_root();
  setup.config_toml = host->pool_toml;
  setup.state_dir = state_dir.path().string();
  setup.pool = "provider";
  setup.processes = 16;
  auto results = testing::race_port_adds(setup);
  ASSERT_TRUE(results) << results.error().message;
  ASSERT_EQ(results->size(), 16u);

  std::map<PciAddress, std::string> given;
  int refused = 0;
  for (const testing::PortAddResult& result : *results) {
    if (!result.added) {
      ++refused;
      EXPECT_THAT(result.error, HasSubstr("pool 'provider' has no free VF: ")) << result.domain;
      continue;
    }
    ASSERT_TRUE(result.vf) << result.domain;
    EXPECT_FALSE(held.count(*result.vf)) << result.domain << " got a held VF";
    EXPECT_NE(*result.vf, host->pfs[1].vfs[5]) << result.domain << " got the host's VF";
    auto [it, inserted] = given.emplace(*result.vf, result.domain);
    EXPECT_TRUE(inserted) << result.vf->to_string() << " given to " << it->second << " and "
                          << result.domain;
  }
  EXPECT_EQ(given.size(), 8u);
  EXPECT_EQ(refused, 8);

  // The store holds the old reservations and exactly one per domain that got a VF.
  auto store = open_store(state_dir);
  ASSERT_TRUE(store);
  std::map<PciAddress, std::string> reserved;
  ASSERT_TRUE(store->transaction([&](StoreTransaction& txn) -> Status {
    VF_ASSIGN(reservations, txn.reservations());
    for (const Reservation& reservation : reservations)
      reserved.emplace(reservation.vf, reservation.domain);
    return ok();
  }));
  EXPECT_EQ(reserved.size(), 2u + given.size());
  for (const auto& [vf, domain] : given) EXPECT_EQ(reserved[vf], domain) << vf.to_string();
}

}  // namespace
}  // namespace vfhook
