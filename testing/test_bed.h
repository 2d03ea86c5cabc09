// The black-box test bed: runs the REAL hook binary (build/hooks/vfhook) as libvirt does
// (fork + execve, argv "vfhook --config CFG DOMAIN OP SUBOP EXTRA", the domain XML on stdin, no
// environment but the loader path that makes it load the test bed's core: the same core code
// built with fake backends, testing/testbed_core.cc) against a fake host in a temporary directory:
// a FakeSysfsTree (sys/ and dev/, with the simulated kernel reacting to driver binding), the
// FileVfNetlink JSON state (PF/VF admin state and the log of every request), a config file and a
// state directory (the claims database).
//
// Tests arrange the host through TestBed, run hook events, then read back what the binary did:
// the netlink state and request log, a device's driver, the claims, and a whole-host
// fingerprint, so that "nothing was changed on the host" is one comparison.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "model/mac_address.h"
#include "model/pci_address.h"
#include "policy/store.h"
#include "testing/addresses.h"
#include "testing/fake_sysfs_tree.h"
#include "testing/fake_vf_netlink.h"

namespace vfhook::blackbox {

// What a finished hook process reported.
struct HookResult {
  int exit_code = -1;   // -1 when it did not exit normally
  int term_signal = 0;  // the signal that killed it, 0 when it exited
  std::string out;
  std::string err;
};

// One child process with pipes on stdin, stdout and stderr and an EMPTY environment (libvirt
// passes almost none; the hook must not depend on any). spawn() forks and execs at once, but
// the child blocks reading stdin until feed(): tests start many hooks and release them together.
// `in_child`, when given, runs in the child after its stdin/stdout/stderr are in place and just
// before execve (to lower a resource limit, or replace stdin): async-signal-safe calls only.
class HookProcess {
 public:
  static std::unique_ptr<HookProcess> spawn(const std::vector<std::string>& argv,
                                            const std::function<void()>& in_child = {});
  ~HookProcess();
  HookProcess(const HookProcess&) = delete;
  HookProcess& operator=(const HookProcess&) = delete;

  // Writes `input` to the child's stdin from a writer thread (so a child that writes a lot
  // before reading everything cannot deadlock the test), then closes it.
  void feed(std::string input);
  // Collects stdout and stderr until both close, joins the writer and reaps the child.
  HookResult finish();

 private:
  HookProcess() = default;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  std::thread writer_;
  std::optional<HookResult> result_;
};

// Runs a command to completion with `input` on stdin (`in_child` as for HookProcess::spawn).
HookResult run_command(const std::vector<std::string>& argv, const std::string& input,
                       const std::function<void()>& in_child = {});

// The path of the hook binary under test (compile definition from CMake).
std::string hook_binary();

// Every file (with its content) and every symlink (with its target) under a directory,
// keyed by relative path. The kernel's write-only trigger files (bind, unbind, new_id,
// remove_id, drivers_probe) are left out: the simulated kernel stores the last value written
// to them, but on a real host they hold no state.
std::map<std::string, std::string> tree_snapshot(const std::filesystem::path& root);

// The keys whose values differ between two fingerprints, "key: before -> after", one a line;
// "" when they are equal. Used as EXPECT_EQ(fingerprint_diff(a, b), "").
std::string fingerprint_diff(const std::map<std::string, std::string>& before,
                             const std::map<std::string, std::string>& after);

struct NetlinkPf {
  std::string name;
  bool up = true;
  int num_vfs = 0;
};

class TestBed {
 public:
  TestBed();

  testing::FakeSysfsTree& tree() { return *tree_; }
  [[nodiscard]] const std::filesystem::path& root() const { return dir_.path(); }
  [[nodiscard]] std::filesystem::path config_path() const { return root() / "vfhook.toml"; }
  [[nodiscard]] std::filesystem::path netlink_path() const { return root() / "netlink.json"; }
  [[nodiscard]] std::filesystem::path state_dir() const { return root() / "state"; }

  // A PF in sysfs (its VFs probed to spec.vf_driver) and in the netlink state (its VFs in
  // the kernel's default admin state), written at once. Returns the VF addresses by index.
  std::vector<PciAddress> add_pf(const testing::PfSpec& spec, int ifindex);
  // The netlink state as the test arranges it; save_netlink() writes it to the JSON file.
  RecordingVfNetlink& netlink_model() { return netlink_model_; }
  void save_netlink();

  // What libvirt itself does around the hook for a hostdev interface or a VF it chose from a
  // hostdev network (docs/design.md, "Events"), applied to the netlink state without entering the
  // request log (that log is vfhook's): between prepare and start it saves the VF's admin MAC and
  // VLAN and sets the interface's; between stopped and release it puts the saved ones back.
  void libvirt_sets_net_config(const std::string& pf, int vf, const MacAddress& mac, uint16_t vlan);
  void libvirt_restores_net_config(const std::string& pf, int vf);

  // Writes the config (state_dir, then the given body: host_bridge_vlans, pools; mode 0644)
  // and, beside it, the file that points the test bed's core at this bed's fake host.
  void write_config(const std::string& body);

  // Runs "vfhook --config <config> DOMAIN OP SUBOP EXTRA" with `xml` on stdin.
  HookResult hook(const std::string& domain, const std::string& op, const std::string& xml,
                  const std::string& subop = "begin", const std::string& extra = "-");
  // The argv hook() uses, for tests that spawn processes themselves.
  std::vector<std::string> hook_argv(const std::string& domain, const std::string& op,
                                     const std::string& subop = "begin",
                                     const std::string& extra = "-") const;

  // Read-back.
  RecordingVfNetlink netlink();         // the whole state, with the request log
  std::vector<std::string> requests();  // the request log only
  VfState vf_state(const std::string& pf, int index);
  std::optional<std::string> driver(const PciAddress& device);  // nullopt: unbound
  int iommu_group(const PciAddress& device);
  bool vfio_node_exists(int group);
  std::vector<Claim> claims();
  std::vector<Reservation> reservations();
  void add_reservation(const Reservation& reservation);  // as `vfctl port add` leaves one
  std::optional<VfSnapshot> snapshot(const PciAddress& vf);
  void remove_claim(const PciAddress& vf);  // simulates lost claims

  // Every file and link under sys/ and dev/, the netlink PF/VF state (not the request log,
  // which tests check on their own) and every claim and reservation.
  std::map<std::string, std::string> fingerprint();

 private:
  std::unique_ptr<Store> open_store();

  testing::TempDir dir_;
  std::unique_ptr<testing::FakeSysfsTree> tree_;
  RecordingVfNetlink netlink_model_;
  std::map<std::pair<std::string, int>, std::pair<MacAddress, Vlan>> libvirt_saved_;
};

// ---- domain XML builders (tests read more easily with the XML spelled out) ----------------

// The <address type='pci' .../> element libvirt writes for a host PCI function.
std::string pci_address_xml(const PciAddress& address);

struct InterfaceXml {
  MacAddress mac;
  PciAddress host;
  bool managed = false;
  std::optional<int> vlan_tag;
  std::string alias;  // "" = none
};
// <interface type='hostdev'> as libvirt's live XML shows it.
std::string interface_hostdev_xml(const InterfaceXml& spec);
// <hostdev mode='subsystem' type='pci'>.
std::string hostdev_xml(const PciAddress& host, bool managed);
// A whole domain: `devices` inside <devices>, `records` (vfhook:port elements) in metadata.
std::string domain_xml(const std::string& name, const std::string& devices,
                       const std::string& records = "");
// <vfhook:port .../> with the given attribute text, e.g. R"(mac="..." pool="provider")".
std::string port_record_xml(const std::string& attributes);

using testing::mac;
using testing::pci;

}  // namespace vfhook::blackbox
