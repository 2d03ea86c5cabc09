#include "policy/allocator.h"

#include <gtest/gtest.h>

namespace vfhook {
namespace {

// VF `index` of PF `pf_number` (enp<pf_number>s0 at bus pf_number).
AllocCandidate candidate(int pf_number, int index, int numa_node = -1) {
  return AllocCandidate{
      PciAddress{0, static_cast<uint8_t>(pf_number), 0x10, static_cast<uint8_t>(index)},
      "enp" + std::to_string(pf_number) + "s0", index, numa_node, false};
}

Claim claim_on(const AllocCandidate& c, const std::string& domain) {
  return Claim{c.vf, domain, "provider", c.pf_name, c.vf_index};
}

Pool provider_pool() {
  Pool pool;
  pool.name = "provider";
  pool.pfs = {{"enp1s0"}, {"enp2s0"}};
  return pool;
}

TEST(Allocator, PrefersTheGuestsNumaNode) {
  const std::vector<AllocCandidate> vfs = {candidate(1, 0, 0), candidate(1, 1, 0),
                                           candidate(2, 0, 1), candidate(2, 1, 1)};
  auto chosen = choose_vf(provider_pool(), vfs, {}, {}, "web1", {1});
  ASSERT_TRUE(chosen) << chosen.error().message;
  EXPECT_EQ(*chosen, vfs[2]);
  // NUMA locality beats load: enp2s0 already has a claim, still chosen.
  auto loaded = choose_vf(provider_pool(), vfs, {claim_on(vfs[2], "a")}, {}, "web1", {1});
  ASSERT_TRUE(loaded);
  EXPECT_EQ(*loaded, vfs[3]);
  // Unknown guest nodes: no preference, the tie-break decides.
  auto unknown = choose_vf(provider_pool(), vfs, {}, {}, "web1", {});
  ASSERT_TRUE(unknown);
  EXPECT_EQ(*unknown, vfs[0]);
}

TEST(Allocator, PrefersTheLeastLoadedPf) {
  const std::vector<AllocCandidate> vfs = {candidate(1, 0), candidate(1, 1), candidate(1, 2),
                                           candidate(2, 0), candidate(2, 1), candidate(2, 2)};
  auto chosen = choose_vf(provider_pool(), vfs, {claim_on(vfs[0], "a")}, {}, "web1", {});
  ASSERT_TRUE(chosen);
  EXPECT_EQ(*chosen, vfs[3]);  // enp2s0 has no claim
  auto next = choose_vf(provider_pool(), vfs,
                        {claim_on(vfs[0], "a"), claim_on(vfs[3], "b"), claim_on(vfs[4], "c")}, {},
                        "web1", {});
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, vfs[1]);  // enp1s0: 1 claim, enp2s0: 2
}

TEST(Allocator, TieBreakIsLowestPfNameThenLowestIndexWhateverTheOrder) {
  const std::vector<AllocCandidate> vfs = {candidate(2, 3), candidate(1, 5), candidate(2, 1),
                                           candidate(1, 4)};
  auto chosen = choose_vf(provider_pool(), vfs, {}, {}, "web1", {});
  ASSERT_TRUE(chosen);
  EXPECT_EQ(*chosen, vfs[3]);  // enp1s0 VF 4
  std::vector<AllocCandidate> reversed(vfs.rbegin(), vfs.rend());
  EXPECT_EQ(*choose_vf(provider_pool(), reversed, {}, {}, "web1", {}), vfs[3]);
}

TEST(Allocator, OnlyVfIndexesInsideTheRange) {
  Pool pool = provider_pool();
  pool.vf_range = std::pair{2, 3};
  const std::vector<AllocCandidate> vfs = {candidate(1, 0), candidate(1, 1), candidate(1, 3),
                                           candidate(1, 4)};
  auto chosen = choose_vf(pool, vfs, {}, {}, "web1", {});
  ASSERT_TRUE(chosen);
  EXPECT_EQ(*chosen, vfs[2]);
  auto none = choose_vf(pool, vfs, {claim_on(vfs[2], "a")}, {}, "web1", {});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message,
            "pool 'provider' has no free VF: 1 claimed, 3 outside vf_range 2-3");
}

TEST(Allocator, SkipsClaimedReservedAndForeignVfs) {
  std::vector<AllocCandidate> vfs = {candidate(1, 0), candidate(1, 1), candidate(1, 2),
                                     candidate(1, 3)};
  vfs[2].used_outside_vfhook = true;
  auto chosen = choose_vf(provider_pool(), vfs, {claim_on(vfs[0], "a")},
                          {Reservation{vfs[1].vf, "other", "provider"}}, "web1", {});
  ASSERT_TRUE(chosen);
  EXPECT_EQ(*chosen, vfs[3]);
}

TEST(Allocator, AClaimByTheAskingDomainIsNotFree) {
  const std::vector<AllocCandidate> vfs = {candidate(1, 0), candidate(1, 1)};
  auto chosen = choose_vf(provider_pool(), vfs, {claim_on(vfs[0], "web1")}, {}, "web1", {});
  ASSERT_TRUE(chosen);
  EXPECT_EQ(*chosen, vfs[1]);
}

TEST(Allocator, OwnReservationIsFreeAndPreferred) {
  const std::vector<AllocCandidate> vfs = {candidate(1, 0, 0), candidate(1, 1, 1),
                                           candidate(1, 2, 0)};
  const std::vector<Reservation> reservations = {{vfs[1].vf, "web1", "provider"}};
  // Reserved by web1: web1 gets it, even over a NUMA-local free VF.
  auto mine = choose_vf(provider_pool(), vfs, {}, reservations, "web1", {0});
  ASSERT_TRUE(mine);
  EXPECT_EQ(*mine, vfs[1]);
  // Another domain does not.
  auto theirs = choose_vf(provider_pool(), vfs, {}, reservations, "web2", {1});
  ASSERT_TRUE(theirs);
  EXPECT_EQ(*theirs, vfs[0]);
  // Only its own reserved VF is left: still free for web1.
  auto last = choose_vf(provider_pool(), vfs, {claim_on(vfs[0], "a"), claim_on(vfs[2], "b")},
                        reservations, "web1", {});
  ASSERT_TRUE(last);
  EXPECT_EQ(*last, vfs[1]);
}

TEST(Allocator, NoFreeVfSaysWhy) {
  std::vector<AllocCandidate> vfs;
  for (int i = 0; i < 8; ++i) vfs.push_back(candidate(1, i));
  vfs[7].used_outside_vfhook = true;
  std::vector<Claim> claims;
  // Not "d" + std::to_string(i): g++ 12 at -O3 reports a false -Wrestrict on
  // operator+(const char*, std::string&&) (GCC bug 105651, fixed in g++ 13).
  for (int i = 0; i < 6; ++i)
    claims.push_back(claim_on(vfs[i], std::string("d").append(std::to_string(i))));
  auto none = choose_vf(provider_pool(), vfs, claims, {{vfs[6].vf, "db1", "provider"}}, "web1", {});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().kind, ErrorKind::policy);
  EXPECT_EQ(none.error().message,
            "pool 'provider' has no free VF: 6 claimed, 1 reserved by other domains, 1 in use "
            "outside vfhook");
}

TEST(Allocator, NoCandidatesAtAll) {
  auto none = choose_vf(provider_pool(), {}, {}, {}, "web1", {});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message,
            "pool 'provider' has no free VF: no VFs found on its PFs (are they created? see "
            "sriov_numvfs)");
}

}  // namespace
}  // namespace vfhook
