// EngineBed: an EngineContext over fakes, for in-process tests and benchmarks of the engine's
// operations: a fake sysfs tree with one igb PF (enp1s0, 0000:01:00.0, 7 VFs probed to igbvf)
// under the simulated kernel, the recording netlink fake, a real SQLite store in a temporary
// state directory, a fake clock (time passes only when the engine sleeps; the wall clock reads
// FakeClock::kFakeWallStart until a test sets it) and a memory logger. The config can be replaced
// between operations, as an administrator edits the file while guests run.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "engine/context.h"
#include "testing/fake_clock.h"
#include "testing/fake_sysfs_tree.h"
#include "testing/fake_vf_netlink.h"
#include "testing/memory_logger.h"
#include "testing/simulated_kernel_sysfs.h"

namespace vfhook::testing {

// The pool the bed starts with: "provider" on enp1s0, VLANs 100-199, trust and spoofchk off
// allowed.
extern const char* const kProviderPoolToml;

class EngineBed {
 public:
  // `tree_base`: where the fake sysfs tree lives (the benchmark puts it on tmpfs).
  explicit EngineBed(const std::string& tree_base = {});

  EngineContext& ctx() { return *ctx_; }
  // Replaces the host config (TOML without state_dir); the state directory is kept. Aborts the
  // test on a config error.
  void set_config(const std::string& toml);

  FakeSysfsTree& tree() { return *tree_; }
  RecordingVfNetlink& netlink() { return netlink_; }
  MemoryLogger& log() { return log_; }
  FakeClock& clock() { return clock_; }
  Store& store() { return *store_; }

  [[nodiscard]] PciAddress vf(int index) const { return vfs_.at(index); }
  std::optional<std::string> driver(const PciAddress& device);
  std::vector<Claim> claims();
  std::vector<Reservation> reservations();
  // Every VF's admin state and driver, to compare before and after.
  std::map<std::string, std::string> fingerprint();

 private:
  std::unique_ptr<TempDir> tree_dir_;
  TempDir state_dir_;
  std::unique_ptr<FakeSysfsTree> tree_;
  std::vector<PciAddress> vfs_;
  HostConfig config_;
  std::unique_ptr<DirSysfs> devfs_;
  RecordingVfNetlink netlink_;
  std::unique_ptr<Store> store_;
  FakeClock clock_;
  MemoryLogger log_;
  std::unique_ptr<EngineContext> ctx_;
};

}  // namespace vfhook::testing
