// Crash test: the real hook binary is SIGKILLed at a random moment of prepare, start or release,
// then libvirt carries on as it would (a failed prepare or start aborts the start, so libvirt
// runs stopped and release; a killed release is run again). After that release every VF must
// be exactly as before the start (sysfs tree, driver, /dev/vfio, VF admin state), no claim or
// snapshot may be left, and a fresh prepare/start/release cycle must work.
//
// Black-box: the kill comes after a random delay drawn from a seeded RNG, spread over the time
// the killed event takes (measured first, per scenario and event). The seed is printed;
// VFHOOK_CRASH_SEED replays a run, VFHOOK_CRASH_TRIALS sets the number of trials (default 120).
//
// Three domains, in turn: two managed='no' <interface type='hostdev'> ports with start-time
// settings (trust, QoS, spoofchk, rates), a plain <hostdev> VF whose MAC/VLAN vfhook sets at
// prepare, and an <interface type='network'> port whose VF libvirt chooses (claimed at start).
// Around the hook, libvirt's own MAC/VLAN set and restore are modelled (TestBed).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <random>
#include <stdexcept>
#include <thread>

#include "tests/blackbox/hook_test.h"

namespace vfhook::blackbox {
namespace {

using Clock = std::chrono::steady_clock;

enum class Event { prepare, start, release };
constexpr Event kEvents[] = {Event::prepare, Event::start, Event::release};
const char* name(Event e) {
  return e == Event::prepare ? "prepare" : e == Event::start ? "start" : "release";
}

// One domain as libvirt runs it: the XML of each event and what libvirt does to the VFs'
// MAC/VLAN between prepare and start (and undoes before release).
struct Scenario {
  std::string label;
  std::string domain;
  std::function<std::string(const std::vector<PciAddress>&)> prepare_xml, live_xml, release_xml;
  struct NetConfig {
    int vf;
    const char* mac;
    uint16_t vlan;
  };
  std::vector<NetConfig> libvirt_sets;
};

std::vector<Scenario> scenarios() {
  auto network_port = [](const std::string& inner) {
    return domain_xml("vm4",
                      "<interface type='network'>\n  <mac address='52:54:00:cc:00:01'/>\n"
                      "  <source network='sriov-net'/>\n" +
                          inner + "</interface>\n",
                      port_record_xml(R"(mac="52:54:00:cc:00:01" pool="provider" vlan="140" )"
                                      R"(trust="on" max-tx-rate="50")"));
  };
  auto unresolved = [network_port](const std::vector<PciAddress>&) { return network_port(""); };
  auto resolved = [network_port](const std::vector<PciAddress>& vfs) {
    return network_port("  <actual type='hostdev' managed='yes'>\n    <source>" +
                        pci_address_xml(vfs[1]) + "</source>\n  </actual>\n");
  };
  auto hostdev = [](const std::vector<PciAddress>& vfs) {
    return domain_xml("vm2", hostdev_xml(vfs[3], false),
                      port_record_xml(R"(host="0000:01:10.6" mac="52:54:00:bb:00:02" )"
                                      R"(pool="provider" vlan="131" spoofchk="off")"));
  };
  return {
      {"two hostdev interfaces",
       "vm1",
       two_port_domain,
       two_port_domain,
       two_port_domain,
       {{0, "52:54:00:aa:00:01", 110}, {1, "52:54:00:aa:00:02", 120}}},
      {"plain hostdev", "vm2", hostdev, hostdev, hostdev, {}},
      {"hostdev network", "vm4", unresolved, resolved, unresolved, {{1, "52:54:00:cc:00:01", 0}}},
  };
}

// The host of HookTest: enp1s0 with four igbvf VFs, admin MACs on VFs 0, 1 and 3.
struct Host {
  TestBed bed;
  std::vector<PciAddress> vfs;
  Host() {
    vfs = bed.add_pf(standard_pf("0000:01:00.0", "enp1s0", 4), 2);
    for (int vf : {0, 1, 3})
      bed.netlink_model().pf("enp1s0")->vfs[static_cast<size_t>(vf)].mac =
          mac("02:00:00:00:01:0" + std::to_string(vf));
    bed.save_netlink();
    bed.write_config(kProviderConfig);
  }
};

// Runs one hook event and SIGKILLs it `delay` after the exec; returns whether it died of the
// signal (false: it had finished by then).
bool run_and_kill(const std::vector<std::string>& argv, const std::string& xml,
                  std::chrono::microseconds delay) {
  int in[2];
  if (::pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  char* no_environment[] = {nullptr};
  pid_t pid = -1;
  const auto started = Clock::now();
  int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), no_environment);
  posix_spawn_file_actions_destroy(&actions);
  ::close(in[0]);
  if (rc != 0) {
    ::close(in[1]);
    throw std::runtime_error("posix_spawn: " + std::string(std::strerror(rc)));
  }
  // The XML fits the pipe buffer; a hook that dies before reading it must not kill us.
  ::signal(SIGPIPE, SIG_IGN);
  (void)!::write(in[1], xml.data(), xml.size());
  ::close(in[1]);
  std::this_thread::sleep_until(started + delay);
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw std::runtime_error("waitpid");
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

// A hook event that must succeed; returns its wall time.
Clock::duration must_run(TestBed& bed, const std::string& domain, Event event,
                         const std::string& xml, std::string& problems) {
  const auto t0 = Clock::now();
  HookResult r = event == Event::release ? bed.hook(domain, "release", xml, "end", "-")
                                         : bed.hook(domain, name(event), xml);
  const auto took = Clock::now() - t0;
  if (r.exit_code != 0 || r.term_signal != 0)
    problems += std::string(name(event)) + " failed: exit " + std::to_string(r.exit_code) +
                " signal " + std::to_string(r.term_signal) + ": " + r.err + "\n";
  else if (event == Event::release && !r.err.empty())
    problems += "release reported problems: " + r.err + "\n";
  return took;
}

void libvirt_sets(Host& host, const Scenario& s) {
  for (const auto& n : s.libvirt_sets)
    host.bed.libvirt_sets_net_config("enp1s0", n.vf, mac(n.mac), n.vlan);
}
void libvirt_restores(Host& host, const Scenario& s) {
  for (const auto& n : s.libvirt_sets) host.bed.libvirt_restores_net_config("enp1s0", n.vf);
}

// A normal start and stop; returns the time each event took.
std::map<Event, Clock::duration> normal_cycle(Host& host, const Scenario& s,
                                              std::string& problems) {
  std::map<Event, Clock::duration> took;
  took[Event::prepare] =
      must_run(host.bed, s.domain, Event::prepare, s.prepare_xml(host.vfs), problems);
  libvirt_sets(host, s);
  took[Event::start] = must_run(host.bed, s.domain, Event::start, s.live_xml(host.vfs), problems);
  (void)host.bed.hook(s.domain, "stopped", s.live_xml(host.vfs), "end", "-");
  libvirt_restores(host, s);
  took[Event::release] =
      must_run(host.bed, s.domain, Event::release, s.release_xml(host.vfs), problems);
  return took;
}

uint64_t seed_from_environment() {
  if (const char* text = std::getenv("VFHOOK_CRASH_SEED"); text && *text)
    return std::strtoull(text, nullptr, 0);
  return std::random_device{}() ^ (uint64_t(std::random_device{}()) << 32);
}

int trials_from_environment() {
  if (const char* text = std::getenv("VFHOOK_CRASH_TRIALS"); text && *text)
    return std::max(1, std::atoi(text));
  return 120;
}

TEST(CrashTest, KilledHookThenReleaseRestoresEveryVf) {
  const uint64_t seed = seed_from_environment();
  const int trials = trials_from_environment();
  std::cout << "crash test: seed " << seed << " (replay: VFHOOK_CRASH_SEED=" << seed << "), "
            << trials << " trials" << std::endl;
  const auto all = scenarios();

  // How long each event takes: the kill delays are drawn from [0, 1.25 x the median of 3].
  std::map<std::pair<size_t, Event>, std::chrono::microseconds> span;
  for (size_t i = 0; i < all.size(); ++i) {
    std::map<Event, std::vector<Clock::duration>> runs;
    for (int round = 0; round < 3; ++round) {
      Host host;
      std::string problems;
      for (const auto& [event, took] : normal_cycle(host, all[i], problems))
        runs[event].push_back(took);
      ASSERT_EQ(problems, "") << all[i].label;
    }
    for (Event e : kEvents) {
      auto& v = runs[e];
      std::sort(v.begin(), v.end());
      span[{i, e}] = std::chrono::duration_cast<std::chrono::microseconds>(v[1] * 5 / 4);
      std::cout << "  " << all[i].label << ": " << name(e) << " takes about "
                << std::chrono::duration_cast<std::chrono::microseconds>(v[1]).count() << " us"
                << std::endl;
    }
  }

  std::mt19937_64 rng(seed);
  int killed = 0, finished = 0, failures = 0;
  for (int trial = 0; trial < trials; ++trial) {
    const size_t which = static_cast<size_t>(trial) % all.size();
    const Scenario& s = all[which];
    const Event event = kEvents[rng() % 3];
    const auto delay = std::chrono::microseconds(
        std::uniform_int_distribution<int64_t>(0, span[{which, event}].count())(rng));
    const std::string where = "trial " + std::to_string(trial) + " (seed " + std::to_string(seed) +
                              "): " + s.label + ", " + name(event) + " killed after " +
                              std::to_string(delay.count()) + " us";
    Host host;
    const auto before = host.bed.fingerprint();
    std::string problems;
    bool libvirt_set = false;

    // Up to the event that is killed, everything works.
    if (event != Event::prepare) {
      must_run(host.bed, s.domain, Event::prepare, s.prepare_xml(host.vfs), problems);
      libvirt_sets(host, s);
      libvirt_set = true;
    }
    if (event == Event::release) {
      must_run(host.bed, s.domain, Event::start, s.live_xml(host.vfs), problems);
      (void)host.bed.hook(s.domain, "stopped", s.live_xml(host.vfs), "end", "-");
      libvirt_restores(host, s);
      libvirt_set = false;
    }
    ASSERT_EQ(problems, "") << where;

    const std::string xml = event == Event::prepare ? s.prepare_xml(host.vfs)
                            : event == Event::start ? s.live_xml(host.vfs)
                                                    : s.release_xml(host.vfs);
    const auto argv = event == Event::release ? host.bed.hook_argv(s.domain, "release", "end", "-")
                                              : host.bed.hook_argv(s.domain, name(event));
    (run_and_kill(argv, xml, delay) ? killed : finished)++;

    // libvirt: a failed prepare/start aborts the start: stopped, its own restore, release.
    // A killed release is simply run again.
    if (event != Event::release) {
      (void)host.bed.hook(s.domain, "stopped", s.live_xml(host.vfs), "end", "-");
      if (libvirt_set) libvirt_restores(host, s);
    }
    must_run(host.bed, s.domain, Event::release, s.release_xml(host.vfs), problems);
    std::string diff = fingerprint_diff(before, host.bed.fingerprint());
    if (!diff.empty()) problems += "host differs from before the start:\n" + diff;

    // The next start works, and its release puts everything back again.
    std::string again;
    normal_cycle(host, s, again);
    if (!again.empty()) problems += "the next start/stop cycle: " + again;
    diff = fingerprint_diff(before, host.bed.fingerprint());
    if (!diff.empty()) problems += "after the next cycle the host differs:\n" + diff;

    if (!problems.empty()) {
      ++failures;
      ADD_FAILURE() << where << "\n" << problems;
    }
  }
  std::cout << "crash test: " << trials << " trials, " << killed << " hooks killed, " << finished
            << " finished before the kill, " << failures << " failures (seed " << seed << ")"
            << std::endl;
}

}  // namespace
}  // namespace vfhook::blackbox
