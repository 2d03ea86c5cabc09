#include "bench/process_timer.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace vfhook::bench {

ProcessSample run_process(const std::vector<std::string>& argv, const std::string& input) {
  // /bin/true exits without reading its stdin: writing the XML then must not kill the bench.
  ::signal(SIGPIPE, SIG_IGN);
  int in[2];
  if (pipe(in) != 0) throw std::runtime_error("pipe");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  char* empty_env[] = {nullptr};

  auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    close(in[0]);
    close(in[1]);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    execve(args[0], args.data(), empty_env);
    _exit(127);
  }
  close(in[0]);
  size_t off = 0;
  while (off < input.size()) {
    ssize_t n = write(in[1], input.data() + off, input.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  close(in[1]);
  int status = 0;
  struct rusage usage {};
  wait4(pid, &status, 0, &usage);
  auto end = std::chrono::steady_clock::now();

  ProcessSample sample;
  sample.wall_ms = std::chrono::duration<double, std::milli>(end - start).count();
  sample.cpu_ms = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e3 +
                  (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e3;
  sample.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return sample;
}

static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

Summary measure(const std::string& name, const std::vector<std::string>& argv,
                const std::string& input, int runs, int warmup) {
  for (int i = 0; i < warmup; ++i) run_process(argv, input);
  std::vector<double> wall, cpu;
  for (int i = 0; i < runs; ++i) {
    ProcessSample s = run_process(argv, input);
    if (s.exit_status != 0) {
      std::fprintf(stderr, "%s exited with %d\n", name.c_str(), s.exit_status);
      std::exit(1);
    }
    wall.push_back(s.wall_ms);
    cpu.push_back(s.cpu_ms);
  }
  return {median(wall), median(cpu)};
}

}  // namespace vfhook::bench
