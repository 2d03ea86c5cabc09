#include "testing/port_add_race.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <functional>

#include "cli/port_commands.h"
#include "testing/fake_libvirt.h"
#include "testing/fake_vf_netlink.h"
#include "testing/memory_logger.h"
#include "testing/simulated_kernel_sysfs.h"
#include "util/fd.h"

namespace vfhook::testing {
namespace {

std::string domain_xml(const std::string& name, int index) {
  char uuid[40];
  std::snprintf(uuid, sizeof uuid, "6f2a3c58-1e2b-4c7d-9a41-%012x", index);
  return "<domain type='kvm'><name>" + name + "</name><uuid>" + uuid +
         "</uuid><memory unit='KiB'>1048576</memory><devices></devices></domain>";
}

// One line per process: "1\t<vf>\t<ms>" or "0\t<ms>\t<error>", the error cut to fit a pipe's
// atomic write.
std::string report_line(const PortAddResult& result) {
  std::string line =
      result.added ? "1\t" + (result.vf ? result.vf->to_string() : "-") + "\t" +
                         std::to_string(result.wall_ms)
                   : "0\t" + std::to_string(result.wall_ms) + "\t" + result.error.substr(0, 2000);
  for (char& c : line)
    if (c == '\n') c = ' ';
  return line + "\n";
}

Result<PortAddResult> parse_report(const std::string& domain, const std::string& line) {
  PortAddResult result;
  result.domain = domain;
  const size_t first = line.find('\t');
  const size_t second = first == std::string::npos ? first : line.find('\t', first + 1);
  if (second == std::string::npos)
    return fail(ErrorKind::internal, domain + ": bad report '" + line.substr(0, 200) + "'");
  result.added = line.substr(0, first) == "1";
  const std::string middle = line.substr(first + 1, second - first - 1);
  std::string last = line.substr(second + 1);
  if (!last.empty() && last.back() == '\n') last.pop_back();
  if (result.added) {
    if (middle != "-") {
      auto vf = PciAddress::parse(middle);
      if (!vf) return fail(vf.error().with_context(domain));
      result.vf = *vf;
    }
    result.wall_ms = std::stod(last);
  } else {
    result.wall_ms = std::stod(middle);
    result.error = last;
  }
  return result;
}

// What each process does once released; runs in the child.
using Work = std::function<PortAddResult(const PortAddRaceSetup&, int index)>;

Result<std::vector<PortAddResult>> race(const PortAddRaceSetup& setup, const Work& work) {
  int start[2];
  if (::pipe2(start, O_CLOEXEC) != 0) return fail(errno_error(errno, "pipe"));
  Fd start_read(start[0]), start_write(start[1]);
  struct Child {
    pid_t pid;
    Fd report;
  };
  std::vector<Child> children;
  std::string fork_error;
  for (int i = 0; i < setup.processes; ++i) {
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0) {
      fork_error = "pipe: " + std::to_string(errno);
      break;
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
      ::close(report[0]);
      ::close(report[1]);
      fork_error = "fork: " + std::to_string(errno);
      break;
    }
    if (pid == 0) {
      ::close(report[0]);
      start_write.reset();
      char byte;
      while (::read(start_read.get(), &byte, 1) < 0 && errno == EINTR) {
      }
      const std::string line = report_line(work(setup, i));
      (void)!::write(report[1], line.data(), line.size());
      ::_exit(0);  // never back into the parent's code (a test runner's exit handlers)
    }
    ::close(report[1]);
    children.push_back({pid, Fd(report[0])});
  }
  start_write.reset();  // every child sees end-of-file at once: the race starts

  std::vector<PortAddResult> results;
  std::string problem = fork_error;
  for (size_t i = 0; i < children.size(); ++i) {
    std::string line;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(children[i].report.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
    int status = 0;
    while (::waitpid(children[i].pid, &status, 0) < 0 && errno == EINTR) {
    }
    const std::string domain = setup.domain_prefix + std::to_string(i);
    auto parsed = parse_report(domain, line);
    if (!parsed || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      if (problem.empty())
        problem = domain + ": the process ended without reporting (status " +
                  std::to_string(status) + ")";
      continue;
    }
    results.push_back(std::move(*parsed));
  }
  if (!problem.empty()) return fail(ErrorKind::internal, "port add race: " + problem);
  return results;
}

}  // namespace

Result<std::vector<PortAddResult>> race_port_adds(const PortAddRaceSetup& setup) {
  return race(setup, [](const PortAddRaceSetup& s, int index) {
    PortAddResult result;
    result.domain = s.domain_prefix + std::to_string(index);
    // The fake libvirt is this process's own; only the store and the tree are shared.
    FakeLibvirt libvirt;
    libvirt.add_domain(domain_xml(result.domain, index));
    const auto begin = std::chrono::steady_clock::now();
    auto finish = [&](std::string error) {
      result.error = std::move(error);
      result.wall_ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin)
              .count();
      return result;
    };
    auto config = parse_config(s.config_toml, "race.toml");
    if (!config) return finish(config.error().message);
    config->state_dir = s.state_dir;
    auto store = Store::open(s.state_dir + "/vfhook.db");
    if (!store) return finish(store.error().message);
    SimulatedKernelSysfs sysfs(s.sys_root, s.dev_root);
    DirSysfs devfs(s.dev_root);
    RecordingVfNetlink netlink;
    SystemClock clock;
    MemoryLogger log;
    EngineContext ctx{*config, sysfs, devfs, netlink, **store, clock, log};
    PortSpec spec;
    spec.pool = s.pool;
    spec.vlan = Vlan{static_cast<uint16_t>(100 + index % 100), 0, VlanProtocol::dot1q};
    std::string left_behind;
    auto added = add_port(result.domain, spec, libvirt, ctx, left_behind);
    if (!added) return finish(added.error().message);
    result.added = true;
    result.vf = added->vf.vf;
    return finish("");
  });
}

Result<std::vector<PortAddResult>> race_store_transactions(const PortAddRaceSetup& setup) {
  return race(setup, [](const PortAddRaceSetup& s, int index) {
    PortAddResult result;
    result.domain = s.domain_prefix + std::to_string(index);
    const auto begin = std::chrono::steady_clock::now();
    Status done = [&]() -> Status {
      VF_ASSIGN(store, Store::open(s.state_dir + "/vfhook.db"));
      // Segment 0xfffe: no pool's VF.
      const PciAddress vf{0xfffe, static_cast<uint8_t>(index), 0, 0};
      return store->transaction([&](StoreTransaction& txn) -> Status {
        VF_TRY(txn.add_reservation(Reservation{vf, result.domain, s.pool}));
        return txn.remove_reservation(vf);
      });
    }();
    result.wall_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count();
    result.added = done.has_value();
    if (!done) result.error = done.error().message;
    return result;
  });
}

}  // namespace vfhook::testing
