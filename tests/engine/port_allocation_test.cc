// The allocator's shortcut (engine/port_allocation.cc) against the full rules: over many
// random states of a four-PF pool (claims, reservations, NUMA nodes, vf_range, VFs the host
// uses, VFs the domain already has, PF names that do not follow bus order, a PF named by
// address), choose_free_vf() must pick exactly the VF choose_free_vf_by_full_read() picks,
// or refuse with the same message. Then what the shortcut reads, and its fall-backs.
#include "engine/port_allocation.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "testing/engine_bed.h"

namespace vfhook {
namespace {

using testing::EngineBed;

// Counts what the code under test reads, to tell the shortcut from the full read.
class CountingSysfs final : public Sysfs {
 public:
  explicit CountingSysfs(Sysfs& inner) : inner_(inner) {}
  Result<std::string> read(std::string_view path) override {
    ++reads;
    return inner_.read(path);
  }
  Status write(std::string_view path, std::string_view value) override {
    return inner_.write(path, value);
  }
  Result<std::string> read_link(std::string_view path) override {
    ++reads;
    return inner_.read_link(path);
  }
  Result<std::vector<std::string>> list(std::string_view path) override {
    ++reads;
    return inner_.list(path);
  }
  bool exists(std::string_view path) override {
    ++reads;
    return inner_.exists(path);
  }
  int reads = 0;

 private:
  Sysfs& inner_;
};

struct TestPf {
  PciAddress address;
  std::string name;
  std::vector<PciAddress> vfs;
  std::vector<std::string> vf_netdevs;
};

// The bed's enp1s0 (01:00.0, 7 VFs, node 0, no VF netdevs) and three PFs whose names do not
// follow their bus order, with other VF layouts, each VF with a netdev of its own.
class PortAllocationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pfs.push_back({*PciAddress::parse("0000:01:00.0"), "enp1s0", {}, {}});
    for (int i = 0; i < 7; ++i) pfs[0].vfs.push_back(bed.vf(i));
    add_pf(2, "enp9s0", 1, 0x80, 2);
    add_pf(3, "enp2s0", 0, 0x10, 1);
    add_pf(4, "enp4s0", 1, 0x80, 4);
  }

  void add_pf(int bus, const std::string& name, int numa, int offset, int stride) {
    testing::PfSpec spec;
    spec.address = PciAddress{0, static_cast<uint8_t>(bus), 0, 0};
    spec.netdev = name;
    spec.total_vfs = 8;
    spec.num_vfs = 8;
    spec.numa_node = numa;
    spec.vf_offset = offset;
    spec.vf_stride = stride;
    auto vfs = bed.tree().add_pf(spec);
    ASSERT_TRUE(vfs) << vfs.error().message;
    TestPf pf{spec.address, name, *vfs, {}};
    for (size_t i = 0; i < vfs->size(); ++i) {
      pf.vf_netdevs.push_back(name + "v" + std::to_string(i));
      ASSERT_TRUE(bed.tree().add_netdev(pf.vf_netdevs.back(), (*vfs)[i], false));
    }
    pfs.push_back(std::move(pf));
  }

  // The pool: three PFs by name, one by address.
  static std::string pool_toml(const std::optional<std::pair<int, int>>& range) {
    std::string toml =
        "[[pool]]\nname = \"provider\"\n"
        "pfs = [\"enp1s0\", \"enp9s0\", \"enp2s0\", \"0000:04:00.0\"]\nvlans = [\"100-199\"]\n";
    if (range)
      toml += "vf_range = \"" + std::to_string(range->first) + "-" + std::to_string(range->second) +
              "\"\n";
    return toml;
  }

  void clear_store() {
    ASSERT_TRUE(bed.store().transaction([&](StoreTransaction& txn) -> Status {
      VF_ASSIGN(claims, txn.claims());
      for (const Claim& claim : claims) VF_TRY(txn.remove_claim(claim.vf));
      VF_ASSIGN(reservations, txn.reservations());
      for (const Reservation& reservation : reservations)
        VF_TRY(txn.remove_reservation(reservation.vf));
      return ok();
    }));
  }

  EngineBed bed;
  std::vector<TestPf> pfs;
};

std::string describe(const Result<AllocCandidate>& result) {
  if (!result) return "refused: " + result.error().message;
  return result->vf.to_string() + " (" + result->pf_name + " VF " +
         std::to_string(result->vf_index) + ", node " + std::to_string(result->numa_node) +
         (result->used_outside_vfhook ? ", used outside" : "") + ")";
}

TEST_F(PortAllocationTest, ShortcutPicksWhatTheFullRulesPickInRandomStates) {
  std::mt19937 random(20261130);
  auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(random) < p; };
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(random); };
  const std::vector<std::string> domains = {"web1", "d1", "d2", "d3", "d4"};
  int chosen = 0, refused = 0, own = 0;
  for (int round = 0; round < 200; ++round) {
    std::optional<std::pair<int, int>> range;
    if (chance(0.3)) {
      const int low = pick(6);
      range = std::pair{low, low + pick(8 - low)};
    }
    bed.set_config(pool_toml(range));
    clear_store();
    // Busy states now and then, held by other domains, so that some rounds have no free VF.
    const bool crowded = chance(0.2);
    const double busy = crowded ? 0.95 : 0.25;
    VfRequest request{"web1", "provider", {}, {}};
    const int numa = pick(4);
    if (numa == 1) request.guest_numa_nodes = {0};
    if (numa == 2) request.guest_numa_nodes = {1};
    if (numa == 3) request.guest_numa_nodes = {1, 0};
    ASSERT_TRUE(bed.store().transaction([&](StoreTransaction& txn) -> Status {
      for (const TestPf& pf : pfs) {
        for (size_t i = 0; i < pf.vfs.size(); ++i) {
          const PciAddress& vf = pf.vfs[i];
          const std::string& holder = domains[static_cast<size_t>(crowded ? 1 + pick(4) : pick(5))];
          if (chance(busy / 2)) {
            // Now and then under the name the PF had when the claim was made.
            const std::string recorded = chance(0.1) ? pf.name + "old" : pf.name;
            VF_TRY(txn.add_claim(Claim{vf, holder, "provider", recorded, static_cast<int>(i)}));
          }
          if (chance(busy)) VF_TRY(txn.add_reservation(Reservation{vf, holder, "provider"}));
          if (chance(0.05)) request.in_use_by_domain.push_back(vf);
        }
        for (size_t i = 0; i < pf.vf_netdevs.size(); ++i)
          VF_TRY(bed.tree().set_admin_up(pf.vf_netdevs[i], chance(0.15)));
      }
      // Claims elsewhere: a whole device, and a VF of a PF outside the pool that once had
      // the name of one inside it.
      if (chance(0.3)) VF_TRY(txn.add_claim(Claim{PciAddress{0, 5, 0, 1}, "big", "whole", "", -1}));
      if (chance(0.3))
        VF_TRY(txn.add_claim(Claim{PciAddress{0, 6, 0x10, 0}, "d9", "old", "enp2s0", 0}));
      return ok();
    }));

    auto fast = choose_free_vf(request, bed.ctx());
    auto full = choose_free_vf_by_full_read(request, bed.ctx());
    ASSERT_EQ(describe(fast), describe(full)) << "round " << round;
    if (fast) {
      ++chosen;
      for (const Reservation& r : bed.reservations())
        if (r.vf == fast->vf && r.domain == "web1") ++own;
    } else {
      ++refused;
    }
  }
  // The states covered every outcome.
  EXPECT_GT(chosen, 80);
  EXPECT_GT(refused, 5);
  EXPECT_GT(own, 10);
}

TEST_F(PortAllocationTest, ShortcutReadsFewEntriesOfSysfsAndTheFullReadAll) {
  bed.set_config(pool_toml(std::nullopt));
  CountingSysfs counting(bed.tree().kernel());
  EngineContext ctx = bed.ctx();
  EngineContext counted{ctx.config, counting,  ctx.devfs, ctx.netlink,
                        ctx.store,  ctx.clock, ctx.log};
  VfRequest request{"web1", "provider", {}, {}};
  auto fast = choose_free_vf(request, counted);
  ASSERT_TRUE(fast) << fast.error().message;
  const int fast_reads = counting.reads;
  counting.reads = 0;
  auto full = choose_free_vf_by_full_read(request, counted);
  ASSERT_TRUE(full);
  EXPECT_EQ(*fast, *full);
  // Per PF: its netdev, NUMA node and three SR-IOV attributes; per chosen VF: six entries; the
  // pool's references resolved.
  EXPECT_LE(fast_reads, 4 * 5 + 8 + 10) << "the full read took " << counting.reads;
  EXPECT_GT(counting.reads, 4 * fast_reads);
}

TEST_F(PortAllocationTest, AVfOnAnotherNodeThanItsPfIsLeftToTheFullRules) {
  bed.set_config(pool_toml(std::nullopt));
  // enp4s0 is on node 1 but its VF 0 says node 0; everything on node 1 else is taken.
  ASSERT_TRUE(
      bed.tree().write_file("bus/pci/devices/" + pfs[3].vfs[0].to_string() + "/numa_node", "0\n"));
  ASSERT_TRUE(bed.store().transaction([&](StoreTransaction& txn) -> Status {
    for (const PciAddress& vf : pfs[1].vfs)
      VF_TRY(txn.add_reservation(Reservation{vf, "other", "provider"}));
    return ok();
  }));
  for (const std::vector<int>& nodes : {std::vector<int>{1}, std::vector<int>{0}}) {
    VfRequest request{"web1", "provider", nodes, {}};
    auto fast = choose_free_vf(request, bed.ctx());
    auto full = choose_free_vf_by_full_read(request, bed.ctx());
    EXPECT_EQ(describe(fast), describe(full)) << "node " << nodes[0];
  }
}

TEST_F(PortAllocationTest, AVirtfnLinkThatDisagreesWithTheArithmeticIsLeftToTheFullRules) {
  bed.set_config(pool_toml(std::nullopt));
  // enp1s0's sriov_stride says 4 where its VFs are 2 apart: its VF 1 would be 01:10.4.
  ASSERT_TRUE(bed.tree().write_file("bus/pci/devices/0000:01:00.0/sriov_stride", "4\n"));
  ASSERT_TRUE(bed.store().transaction([&](StoreTransaction& txn) -> Status {
    return txn.add_reservation(Reservation{pfs[0].vfs[0], "other", "provider"});
  }));
  VfRequest request{"web1", "provider", {}, {}};
  auto fast = choose_free_vf(request, bed.ctx());
  ASSERT_TRUE(fast) << fast.error().message;
  EXPECT_EQ(*fast, *choose_free_vf_by_full_read(request, bed.ctx()));
  EXPECT_EQ(fast->vf, pfs[0].vfs[1]);
}

TEST_F(PortAllocationTest, ChooseAndReserveRecordsTheVfInTheSameStepAndSaysWhetherItWasNew) {
  bed.set_config(pool_toml(std::nullopt));
  VfRequest request{"web1", "provider", {}, {}};
  bool newly = false;
  auto first = choose_and_reserve_vf(request, bed.ctx(), &newly);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_TRUE(newly);
  EXPECT_EQ(bed.reservations(), (std::vector<Reservation>{{first->vf, "web1", "provider"}}));
  // Another domain gets another VF; the same domain gets its own reservation again.
  auto second = choose_and_reserve_vf(VfRequest{"web2", "provider", {}, {}}, bed.ctx(), &newly);
  ASSERT_TRUE(second);
  EXPECT_TRUE(newly);
  EXPECT_NE(second->vf, first->vf);
  auto again = choose_and_reserve_vf(request, bed.ctx(), &newly);
  ASSERT_TRUE(again);
  EXPECT_FALSE(newly);
  EXPECT_EQ(again->vf, first->vf);
  EXPECT_EQ(bed.reservations().size(), 2u);
}

TEST_F(PortAllocationTest, ReserveAndDropCheckTheOneVfTheyChange) {
  bed.set_config(pool_toml(std::nullopt));
  const PciAddress vf = pfs[2].vfs[3];
  ASSERT_TRUE(bed.store().transaction([&](StoreTransaction& txn) -> Status {
    return txn.add_claim(Claim{pfs[2].vfs[4], "d1", "provider", "enp2s0", 4});
  }));
  VfRequest web1{"web1", "provider", {}, {}};
  ASSERT_TRUE(reserve_vf(vf, web1, bed.ctx()));
  ASSERT_TRUE(reserve_vf(vf, web1, bed.ctx()));  // already ours
  auto taken = reserve_vf(vf, VfRequest{"web2", "provider", {}, {}}, bed.ctx());
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().message,
            "VF " + vf.to_string() + " was just reserved for domain 'web1'; try again");
  auto claimed = reserve_vf(pfs[2].vfs[4], web1, bed.ctx());
  ASSERT_FALSE(claimed);
  EXPECT_EQ(claimed.error().message,
            "VF " + pfs[2].vfs[4].to_string() + " was just claimed by domain 'd1'; try again");
  auto not_theirs = drop_reservation(vf, "web2", bed.ctx());
  ASSERT_FALSE(not_theirs);
  EXPECT_EQ(not_theirs.error().kind, ErrorKind::conflict);
  EXPECT_EQ(bed.reservations().size(), 1u);
  ASSERT_TRUE(drop_reservation(vf, "web1", bed.ctx()));
  ASSERT_TRUE(drop_reservation(vf, "web1", bed.ctx()));  // none left: fine
  EXPECT_TRUE(bed.reservations().empty());
}

}  // namespace
}  // namespace vfhook
