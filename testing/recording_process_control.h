// RecordingProcessControl: a ProcessControl (cli/process_control.h) that changes nothing on
// the host: it records every chown and memlock change, answers memlock_limit() from a value
// the test sets (per pid), and can be told to refuse the next raise.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/process_control.h"

namespace vfhook::testing {

class RecordingProcessControl final : public ProcessControl {
 public:
  struct Chown {
    std::string path;
    uid_t uid = 0;
    gid_t gid = 0;
    bool operator==(const Chown&) const = default;
  };

  Status chown_path(const std::string& path, uid_t uid, gid_t gid) override {
    chowns.push_back({path, uid, gid});
    return ok();
  }
  Result<uint64_t> memlock_limit(pid_t pid) override {
    if (pid <= 0) return fail(ErrorKind::invalid_input, "pid " + std::to_string(pid));
    auto found = memlock.find(pid);
    return found == memlock.end() ? default_memlock : found->second;
  }
  Status raise_memlock(pid_t pid, uint64_t bytes) override {
    if (pid <= 0) return fail(ErrorKind::invalid_input, "pid " + std::to_string(pid));
    if (fail_next_raise) {
      Error error = *fail_next_raise;
      fail_next_raise.reset();
      return tl::unexpected<Error>(std::move(error));
    }
    raises.emplace_back(pid, bytes);
    memlock[pid] = bytes;
    return ok();
  }

  uint64_t default_memlock = 64 * 1024;  // a distribution's usual 64 KiB
  std::map<pid_t, uint64_t> memlock;
  std::optional<Error> fail_next_raise;
  std::vector<Chown> chowns;
  std::vector<std::pair<pid_t, uint64_t>> raises;
};

}  // namespace vfhook::testing
