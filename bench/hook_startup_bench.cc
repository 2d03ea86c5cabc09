// Whole-process cost of the hook for a domain without VF ports, the event libvirt runs on every
// start of every domain: vfhook against /bin/true (the floor) and a bash + xmllint hook (what
// people write by hand), run the same way, interleaved so that drift hits all three alike.
//
// usage: hook_startup_bench VFHOOK SHELL_HOOK XML [RUNS]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "bench/process_timer.h"

using vfhook::bench::measure;
using vfhook::bench::Summary;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s VFHOOK SHELL_HOOK XML [RUNS [EVENT]]\n", argv[0]);
    return 2;
  }
  std::ifstream file(argv[3]);
  std::stringstream xml;
  xml << file.rdbuf();
  int runs = argc > 4 ? std::atoi(argv[4]) : 300;
  // The event: prepare by default; migrate and restore take the same fast path for a domain
  // without VF ports.
  const std::string event = argc > 5 ? argv[5] : "prepare";

  std::vector<std::string> hook_args = {"web-frontend-03", event, "begin", "-"};
  auto with = [&](std::string exe) {
    std::vector<std::string> v = {std::move(exe)};
    v.insert(v.end(), hook_args.begin(), hook_args.end());
    return v;
  };
  const int rounds = 5;
  std::vector<double> t_true, t_hook, t_shell, c_hook, c_true;
  for (int r = 0; r < rounds; ++r) {
    Summary a = measure("/bin/true", with("/bin/true"), xml.str(), runs / rounds, 10);
    Summary b = measure("vfhook", with(argv[1]), xml.str(), runs / rounds, 10);
    Summary c = measure("shell hook", with(argv[2]), xml.str(), runs / rounds / 5 + 1, 2);
    t_true.push_back(a.median_wall_ms);
    t_hook.push_back(b.median_wall_ms);
    t_shell.push_back(c.median_wall_ms);
    c_true.push_back(a.median_cpu_ms);
    c_hook.push_back(b.median_cpu_ms);
  }
  auto med = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  double tt = med(t_true), th = med(t_hook), ts = med(t_shell);
  std::printf("no-VF domain, %s event, median wall time per run (%d runs each):\n", event.c_str(),
              runs);
  std::printf("  /bin/true          %7.3f ms\n", tt);
  std::printf("  vfhook             %7.3f ms   (cpu %.3f ms; /bin/true cpu %.3f ms)\n", th,
              med(c_hook), med(c_true));
  std::printf("  bash+xmllint hook  %7.3f ms\n", ts);
  std::printf("ratio vfhook / /bin/true      = %.2f  (target <= 1.5)\n", th / tt);
  std::printf("ratio shell hook / vfhook     = %.1f  (target >= 20)\n", ts / th);
  return 0;
}
