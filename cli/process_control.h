// ProcessControl: what vfctl changes for a QEMU process it hot-plugs a VF into without libvirt,
// the part libvirt otherwise does for the QEMUs it runs: the ownership of the VF's VFIO group
// node, so a QEMU that is not root can open it, and the process's RLIMIT_MEMLOCK, which VFIO
// needs to pin all guest RAM for DMA. SystemProcessControl is the real one (chown(2),
// prlimit(2)); testing/recording_process_control.h records calls instead.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "util/result.h"

namespace vfhook {

class ProcessControl {
 public:
  virtual ~ProcessControl() = default;

  // chown(2) of `path` to uid:gid (following symlinks: /dev/vfio/N is a device node).
  virtual Status chown_path(const std::string& path, uid_t uid, gid_t gid) = 0;
  // The soft RLIMIT_MEMLOCK of process `pid` in bytes; UINT64_MAX for unlimited. `pid` must
  // be positive (prlimit's 0 would mean vfctl itself): invalid_input otherwise.
  virtual Result<uint64_t> memlock_limit(pid_t pid) = 0;
  // Sets the soft RLIMIT_MEMLOCK of `pid` to `bytes`, and the hard one too when it is lower
  // (it is never lowered). `pid` must be positive.
  virtual Status raise_memlock(pid_t pid, uint64_t bytes) = 0;
};

class SystemProcessControl final : public ProcessControl {
 public:
  Status chown_path(const std::string& path, uid_t uid, gid_t gid) override;
  Result<uint64_t> memlock_limit(pid_t pid) override;
  Status raise_memlock(pid_t pid, uint64_t bytes) override;
};

}  // namespace vfhook
