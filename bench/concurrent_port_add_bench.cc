// 64 processes run vfctl's `port add` (cli/port_commands.h add_port) at the same moment, each
// for its own domain with its own in-process fake libvirt, against ONE claims database (real
// SQLite, WAL) and one fake sysfs tree of 64 PFs x 64 VFs that already holds the reservations
// of 1,000 defined domains (every 5th running: a claim). Each process is timed from the start
// signal to add_port's return (config parsed, store opened, port planned, VF chosen and
// reserved, domain defined). Reports p50/p99 over every process of every round, and checks
// that no VF was given twice (within a round, and never one already held).
//
// Baseline in the same run: the same number of processes racing, each only opening the store
// and running one transaction that adds and removes a reservation (the floor of any writer).
//
//   allocation_bench is the in-process cost; this is the whole-process one under contention.
//   Usage: concurrent_port_add_bench [processes=64] [rounds=10]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include <functional>

#include "policy/store.h"
#include "testing/fake_sysfs_tree.h"
#include "testing/port_add_race.h"
#include "testing/scale_host.h"

namespace vfhook {
namespace {

[[noreturn]] void die(const std::string& what) {
  std::cerr << "concurrent_port_add_bench: " << what << "\n";
  std::exit(1);
}

struct Percentiles {
  double p50 = 0, p99 = 0, max = 0;
};

Percentiles percentiles(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  auto at = [&](double q) {
    return samples[std::min(samples.size() - 1, static_cast<size_t>(q * samples.size()))];
  };
  return {at(0.50), at(0.99), samples.back()};
}

// Runs `body` on a connection of its own, closed before the next race forks (see
// port_add_race.h).
Status with_store(const std::string& state_dir,
                  const std::function<Status(StoreTransaction&)>& body) {
  VF_ASSIGN(store, Store::open(state_dir + "/vfhook.db"));
  return store->transaction(body);
}

int run(int processes, int rounds) {
  // The tree on tmpfs, as sysfs is in memory; the database on the ordinary temporary
  // filesystem, as /var/lib/vfhook is on disk.
  testing::TempDir tree_dir("/dev/shm");
  testing::TempDir state_dir;
  auto tree = testing::FakeSysfsTree::create(tree_dir.path());
  if (!tree) die("create the tree: " + tree.error().message);
  testing::ScaleHostSpec spec;
  spec.used_outside = [](int pf, int vf) { return pf % 8 == 0 && vf == 63; };
  auto host = testing::add_scale_pfs(**tree, spec);
  if (!host) die("build the host: " + host.error().message);
  // The 1,000 defined domains: spread over the PFs, every 5th running.
  std::set<PciAddress> held_before;
  auto loaded = with_store(state_dir.path().string(), [&](StoreTransaction& txn) -> Status {
    for (int d = 0; d < 1000; ++d) {
      const testing::ScalePf& pf = host->pfs[static_cast<size_t>(d % 64)];
      const PciAddress& vf = pf.vfs[static_cast<size_t>(d / 64)];
      const std::string name = "guest" + std::to_string(d);
      VF_TRY(txn.add_reservation(Reservation{vf, name, "provider"}));
      if (d % 5 == 0) VF_TRY(txn.add_claim(Claim{vf, name, "provider", pf.name, d / 64}));
      held_before.insert(vf);
    }
    return ok();
  });
  if (!loaded) die("load the store: " + loaded.error().message);

  testing::PortAddRaceSetup setup;
  setup.sys_root = (*tree)->sys_root();
  setup.dev_root = (*tree)->dev_root();
  setup.config_toml = host->pool_toml;
  setup.state_dir = state_dir.path().string();
  setup.pool = "provider";
  setup.processes = processes;

  std::vector<double> port_add_ms, baseline_ms;
  int given_twice = 0, refused = 0;
  for (int round = 0; round < rounds; ++round) {
    auto baseline = testing::race_store_transactions(setup);
    if (!baseline) die(baseline.error().message);
    for (const auto& r : *baseline) {
      if (!r.added) die(r.domain + " (baseline): " + r.error);
      baseline_ms.push_back(r.wall_ms);
    }

    auto results = testing::race_port_adds(setup);
    if (!results) die(results.error().message);
    std::set<PciAddress> given;
    for (const auto& r : *results) {
      port_add_ms.push_back(r.wall_ms);
      if (!r.added) {
        ++refused;
        std::cerr << "round " << round << ": " << r.domain << ": " << r.error << "\n";
        continue;
      }
      if (!given.insert(*r.vf).second || held_before.count(*r.vf)) ++given_twice;
    }
    // The store agrees: each domain holds exactly the VF it reported. Then back to the 1,000
    // domains for the next round.
    auto checked = with_store(setup.state_dir, [&](StoreTransaction& txn) -> Status {
      VF_ASSIGN(reservations, txn.reservations());
      if (reservations.size() != held_before.size() + given.size())
        return fail(ErrorKind::internal, std::to_string(reservations.size()) +
                                             " reservations, expected " +
                                             std::to_string(held_before.size() + given.size()));
      for (const auto& r : *results) {
        if (!r.added) continue;
        VF_ASSIGN(holding, txn.holding(*r.vf));
        if (!holding.reservation || holding.reservation->domain != r.domain)
          return fail(ErrorKind::internal, r.vf->to_string() + " is not reserved for " + r.domain);
        VF_TRY(txn.remove_reservation(*r.vf));
      }
      return ok();
    });
    if (!checked) die("round " + std::to_string(round) + ": " + checked.error().message);
  }

  const Percentiles adds = percentiles(port_add_ms), floor = percentiles(baseline_ms);
  std::printf("processes %d, rounds %d, samples %zu\n", processes, rounds, port_add_ms.size());
  std::printf("port add            p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms\n", adds.p50, adds.p99,
              adds.max);
  std::printf("baseline (1 txn)    p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms\n", floor.p50,
              floor.p99, floor.max);
  std::printf("ratio port add / baseline: p50 %.1fx  p99 %.1fx\n", adds.p50 / floor.p50,
              adds.p99 / floor.p99);
  std::printf("VFs given twice: %d, refused: %d\n", given_twice, refused);
  return given_twice == 0 && refused == 0 ? 0 : 1;
}

}  // namespace
}  // namespace vfhook

int main(int argc, char** argv) {
  const int processes = argc > 1 ? std::atoi(argv[1]) : 64;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 10;
  if (processes < 1 || processes > 200 || rounds < 1) {
    std::cerr << "usage: concurrent_port_add_bench [processes 1-200] [rounds]\n";
    return 2;
  }
  return vfhook::run(processes, rounds);
}
