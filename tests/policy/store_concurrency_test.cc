// Separate processes (fork, like concurrent hook invocations) racing for the same VFs.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <set>
#include <string>

#include "policy/store.h"
#include "temp_dir.h"

namespace vfhook {
namespace {

constexpr int vf_count = 16;
constexpr int process_count = 8;
constexpr int child_failed = 100;

PciAddress shared_vf(int i) {
  return PciAddress{0, 1, static_cast<uint8_t>(0x10 + i / 8), static_cast<uint8_t>(i % 8)};
}

// One hook-like process: opens its own connection and claims free VFs, one transaction per
// claim, until none is left. Returns how many it got, or child_failed.
int claim_until_exhausted(const std::string& path, int id) {
  auto store = Store::open(path);
  if (!store) {
    std::fprintf(stderr, "child %d: %s\n", id, store.error().message.c_str());
    return child_failed;
  }
  int got = 0;
  for (;;) {
    bool exhausted = false;
    auto status = (*store)->transaction([&](StoreTransaction& tx) -> Status {
      VF_ASSIGN(claims, tx.claims());
      std::set<PciAddress> taken;
      for (const Claim& c : claims) taken.insert(c.vf);
      for (int i = 0; i < vf_count; ++i) {
        if (taken.count(shared_vf(i))) continue;
        VF_TRY(tx.save_snapshot(VfSnapshot{shared_vf(i), "igbvf", true, {}}));
        return tx.add_claim(
            Claim{shared_vf(i), "domain" + std::to_string(id), "provider", "enp1s0", i});
      }
      exhausted = true;
      return ok();
    });
    if (!status) {
      std::fprintf(stderr, "child %d: %s\n", id, status.error().message.c_str());
      return child_failed;
    }
    if (exhausted) return got;
    ++got;
  }
}

// Param: whether the database exists before the race. If not, the processes also race to
// create it, switch it to WAL and write the schema.
class StoreConcurrency : public ::testing::TestWithParam<bool> {};

TEST_P(StoreConcurrency, ForkedProcessesClaimEachVfExactlyOnce) {
  testing::TempDir dir;
  const std::string path = dir.file("vfhook.db");
  if (GetParam()) {
    auto created = Store::open(path);
    ASSERT_TRUE(created) << created.error().message;
  }  // closed before fork: a connection must not cross fork()
  int start[2];
  ASSERT_EQ(::pipe(start), 0);
  std::vector<pid_t> children;
  for (int id = 0; id < process_count; ++id) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(start[1]);
      char byte;
      (void)!::read(start[0], &byte, 1);  // returns at EOF: everyone starts together
      ::_exit(claim_until_exhausted(path, id));
    }
    children.push_back(pid);
  }
  ::close(start[0]);
  ::close(start[1]);

  int total = 0;
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_NE(WEXITSTATUS(status), child_failed) << "a child saw an error (see stderr)";
    total += WEXITSTATUS(status);
  }
  EXPECT_EQ(total, vf_count);

  auto store = Store::open(path);
  ASSERT_TRUE(store) << store.error().message;
  std::vector<Claim> claims;
  ASSERT_TRUE((*store)->transaction([&](StoreTransaction& tx) -> Status {
    VF_ASSIGN(all, tx.claims());
    claims = all;
    return ok();
  }));
  ASSERT_EQ(claims.size(), static_cast<size_t>(vf_count));
  std::set<PciAddress> distinct;
  for (const Claim& c : claims) distinct.insert(c.vf);
  EXPECT_EQ(distinct.size(), static_cast<size_t>(vf_count));
  for (int i = 0; i < vf_count; ++i) EXPECT_TRUE(distinct.count(shared_vf(i))) << i;
}

INSTANTIATE_TEST_SUITE_P(Database, StoreConcurrency, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Existing" : "Fresh"; });

}  // namespace
}  // namespace vfhook
