// CPU cost of the hook's own work for a 4-VF domain on a fake sysfs tree: prepare (plan,
// policy, snapshots, one claim transaction, four vfio-pci binds through the simulated kernel,
// MAC/VLAN of plain hostdevs) plus start (the extras, verified), in process, with the recording
// netlink fake and a real SQLite store. Release runs between iterations, untimed.
//
// Baseline in the same run: parsing the same domain XML alone (what any hook must do).
#include <benchmark/benchmark.h>

#include <string>

#include "engine/operations.h"
#include "testing/engine_bed.h"

namespace vfhook {
namespace {

std::string four_vf_domain() {
  std::string xml =
      "<domain type='kvm'><name>bench4</name>"
      "<uuid>6f2a3c58-1e2b-4c7d-9a41-3f5e2d1c0b9b</uuid><metadata>"
      "<vfhook:ports xmlns:vfhook='urn:vfhook:ports:1'>";
  const char* macs[] = {"52:54:00:aa:00:01", "52:54:00:aa:00:02", "52:54:00:aa:00:03",
                        "52:54:00:aa:00:04"};
  for (int i = 0; i < 4; ++i)
    xml += std::string("<vfhook:port mac='") + macs[i] + "' pool='provider' vlan='" +
           std::to_string(110 + i) + "' qos='" + std::to_string(i) +
           "' trust='on' spoofchk='off' max-tx-rate='100'/>";
  xml += "</vfhook:ports></metadata><devices>";
  for (int i = 0; i < 4; ++i) {
    char fn[8];
    std::snprintf(fn, sizeof fn, "0x%x", i * 2);
    xml += std::string("<interface type='hostdev' managed='no'><mac address='") + macs[i] +
           "'/><source><address type='pci' domain='0x0000' bus='0x01' slot='0x10' function='" + fn +
           "'/></source><vlan><tag id='" + std::to_string(110 + i) +
           "'/></vlan><alias name='hostdev" + std::to_string(i) + "'/></interface>";
  }
  return xml + "</devices></domain>";
}

// The sysfs tree lives on tmpfs, as the real sysfs is in memory; the claims database on the
// ordinary temporary filesystem, as /var/lib/vfhook is on disk.
struct Bed {
  testing::EngineBed engine{"/dev/shm"};
  EngineContext* ctx = &engine.ctx();
  MemoryLogger& log = engine.log();
};

void BM_Prepare_Start_4VF(benchmark::State& state) {
  Bed bed;
  std::string xml = four_vf_domain();
  for (auto _ : state) {
    auto domain = DomainXml::parse(xml);
    Outcome prepared = prepare_domain("bench4", *domain, *bed.ctx);
    Outcome started = start_domain("bench4", *domain, *bed.ctx);
    if (!prepared.ok() || !started.ok()) {
      state.SkipWithError("prepare or start did not succeed");
      break;
    }
    state.PauseTiming();
    release_domain("bench4", *bed.ctx);
    bed.log.entries.clear();
    state.ResumeTiming();
  }
}
BENCHMARK(BM_Prepare_Start_4VF)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

void BM_Baseline_ParseOnly_4VF(benchmark::State& state) {
  std::string xml = four_vf_domain();
  for (auto _ : state) {
    auto domain = DomainXml::parse(xml);
    benchmark::DoNotOptimize(domain);
  }
}
BENCHMARK(BM_Baseline_ParseOnly_4VF)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

}  // namespace
}  // namespace vfhook

BENCHMARK_MAIN();
