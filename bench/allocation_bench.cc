// Port allocation at scale: 64 PFs x 64 VFs in one pool (a fake sysfs tree on tmpfs, every VF
// with a netdev, some of them up: in use outside vfhook), a real SQLite store holding the
// reservations of 1,000 defined domains and the claims of those that run. One iteration is
// what `vfctl port add` and `port remove` do to the store and sysfs for a new domain:
// choose_free_vf + reserve_vf + drop_reservation (so every iteration starts from the same
// state).
//
// Layouts of the 1,000 reservations (domain d):
//   spread:       PF d % 64, VF d / 64 (about 16 per PF); every 5th domain runs (a claim)
//   packed:       PF d / 64, VF d % 64 (the first 15 PFs full, as the allocator fills them
//                 when nothing runs); every 5th domain runs
//   packed_idle:  packed, and no domain runs: every PF has load 0, so the allocator's
//                 preference order passes the 1,000 reserved VFs before the first free one
// `numa`: the new guest's memory is pinned to node 1 (odd PFs are on node 1), or not pinned.
//
// Baseline in the same run: one store transaction that adds and removes one reservation (the
// floor of any allocation that records something). Iteration times are taken by hand
// (UseManualTime), and each run reports its own p50/p99 over iterations as counters.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "engine/port_allocation.h"
#include "testing/engine_bed.h"
#include "testing/scale_host.h"

namespace vfhook {
namespace {

constexpr int kPfs = 64;
constexpr int kVfsPerPf = 64;
constexpr int kDomains = 1000;

enum Layout { spread = 0, packed = 1, packed_idle = 2 };

void must(const Status& status, const char* what) {
  if (!status) {
    std::cerr << "allocation_bench: " << what << ": " << status.error().message << "\n";
    std::exit(1);
  }
}

// The tree lives on tmpfs, as sysfs is in memory; the claims database on the ordinary
// temporary filesystem, as /var/lib/vfhook is on disk. Built once: the tree takes seconds.
struct ScaleBed {
  testing::EngineBed engine{"/dev/shm"};
  testing::ScaleHost host;

  ScaleBed() {
    testing::ScaleHostSpec spec;
    spec.pfs = kPfs;
    spec.vfs_per_pf = kVfsPerPf;
    spec.numa_node = [](int pf) { return pf % 2; };
    spec.used_outside = [](int pf, int vf) { return pf % 8 == 0 && vf == kVfsPerPf - 1; };
    auto added = testing::add_scale_pfs(engine.tree(), spec);
    if (!added) {
      std::cerr << "allocation_bench: build the host: " << added.error().message << "\n";
      std::exit(1);
    }
    host = std::move(*added);
    engine.set_config(host.pool_toml);
  }

  // Replaces every claim and reservation with the layout's.
  void load(Layout layout) {
    must(engine.store().transaction([&](StoreTransaction& txn) -> Status {
      VF_ASSIGN(claims, txn.claims());
      for (const Claim& claim : claims) VF_TRY(txn.remove_claim(claim.vf));
      VF_ASSIGN(reservations, txn.reservations());
      for (const Reservation& r : reservations) VF_TRY(txn.remove_reservation(r.vf));
      for (int d = 0; d < kDomains; ++d) {
        const int pf = layout == spread ? d % kPfs : d / kVfsPerPf;
        const int vf = layout == spread ? d / kPfs : d % kVfsPerPf;
        const testing::ScalePf& scale_pf = host.pfs[static_cast<size_t>(pf)];
        const PciAddress& address = scale_pf.vfs[static_cast<size_t>(vf)];
        char name[32];
        std::snprintf(name, sizeof name, "guest%04d", d);
        VF_TRY(txn.add_reservation(Reservation{address, name, "provider"}));
        if (layout != packed_idle && d % 5 == 0)
          VF_TRY(txn.add_claim(Claim{address, name, "provider", scale_pf.name, vf}));
      }
      return ok();
    }),
         "load the store");
  }
};

ScaleBed& bed() {
  static ScaleBed* instance = new ScaleBed;  // built on first use, kept for the process
  return *instance;
}

void report_percentiles(benchmark::State& state, std::vector<double>& samples_ms) {
  if (samples_ms.empty()) return;
  std::sort(samples_ms.begin(), samples_ms.end());
  auto at = [&](double q) {
    return samples_ms[std::min(samples_ms.size() - 1, static_cast<size_t>(q * samples_ms.size()))];
  };
  state.counters["p50_ms"] = at(0.50);
  state.counters["p99_ms"] = at(0.99);
}

void BM_ChooseReserveDrop(benchmark::State& state) {
  const auto layout = static_cast<Layout>(state.range(0));
  const bool numa = state.range(1) != 0;
  ScaleBed& scale = bed();
  scale.load(layout);
  EngineContext& ctx = scale.engine.ctx();
  VfRequest request{"newguest", "provider", {}, {}};
  if (numa) request.guest_numa_nodes = {1};
  std::vector<double> samples_ms;
  for (auto _ : state) {
    const auto begin = std::chrono::steady_clock::now();
    auto chosen = choose_free_vf(request, ctx);
    if (!chosen) {
      state.SkipWithError(chosen.error().message.c_str());
      break;
    }
    auto reserved = reserve_vf(chosen->vf, request, ctx);
    auto dropped = drop_reservation(chosen->vf, request.domain, ctx);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - begin;
    if (!reserved || !dropped) {
      state.SkipWithError("reserve or drop failed");
      break;
    }
    state.SetIterationTime(took.count());
    samples_ms.push_back(took.count() * 1e3);
  }
  report_percentiles(state, samples_ms);
  state.SetLabel(std::string(layout == spread   ? "spread"
                             : layout == packed ? "packed"
                                                : "packed_idle") +
                 (numa ? " numa=1" : " numa=none"));
}
BENCHMARK(BM_ChooseReserveDrop)
    ->Args({spread, 0})
    ->Args({spread, 1})
    ->Args({packed, 0})
    ->Args({packed_idle, 0})
    ->Args({packed_idle, 1})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// The floor: one transaction that adds and removes one reservation, against the same store.
void BM_Baseline_OneReservationTransaction(benchmark::State& state) {
  ScaleBed& scale = bed();
  scale.load(spread);
  const PciAddress vf = scale.host.pfs.back().vfs.back();
  std::vector<double> samples_ms;
  for (auto _ : state) {
    const auto begin = std::chrono::steady_clock::now();
    auto done = scale.engine.store().transaction([&](StoreTransaction& txn) -> Status {
      VF_TRY(txn.add_reservation(Reservation{vf, "newguest", "provider"}));
      return txn.remove_reservation(vf);
    });
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - begin;
    if (!done) {
      state.SkipWithError(done.error().message.c_str());
      break;
    }
    state.SetIterationTime(took.count());
    samples_ms.push_back(took.count() * 1e3);
  }
  report_percentiles(state, samples_ms);
}
BENCHMARK(BM_Baseline_OneReservationTransaction)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vfhook

BENCHMARK_MAIN();
