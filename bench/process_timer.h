// Whole-process timing for benchmarks: runs a command the way libvirt runs a hook (argv, the
// domain XML on stdin, an empty environment) and measures its wall time and CPU time.
#pragma once

#include <string>
#include <vector>

namespace vfhook::bench {

struct ProcessSample {
  double wall_ms = 0;
  double cpu_ms = 0;  // user + system of the child
  int exit_status = -1;
};

// Runs argv[0] (an absolute path) with `input` on stdin and no environment.
ProcessSample run_process(const std::vector<std::string>& argv, const std::string& input);

struct Summary {
  double median_wall_ms = 0;
  double median_cpu_ms = 0;
};

// Runs the command `runs` times after `warmup` runs; fails loudly on a non-zero exit.
Summary measure(const std::string& name, const std::vector<std::string>& argv,
                const std::string& input, int runs, int warmup);

}  // namespace vfhook::bench
