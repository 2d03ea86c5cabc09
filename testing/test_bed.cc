#include "testing/test_bed.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace vfhook::blackbox {
namespace {

namespace fs = std::filesystem;

// Setup steps that fail make the test fail loudly (GoogleTest reports the exception).
template <class T>
T must(Result<T> result, const std::string& what) {
  if (!result) throw std::runtime_error(what + ": " + result.error().message);
  return std::move(*result);
}
void must(Status status, const std::string& what) {
  if (!status) throw std::runtime_error(what + ": " + status.error().message);
}

void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

std::string describe_vf(const VfState& vf) {
  std::string text = "mac " + vf.mac.to_string() + " vlan " + describe(vf.vlan) + " spoofchk " +
                     (vf.spoofchk ? "on" : "off") + " trust " +
                     (vf.trust ? (*vf.trust ? "on" : "off") : "none") + " link " +
                     std::string(to_string(vf.link_state)) + " rates " +
                     std::to_string(vf.min_tx_rate) + "/" + std::to_string(vf.max_tx_rate);
  return text;
}

std::string describe_settings(const VfSettings& s) {
  std::string text;
  if (s.mac) text += " mac " + s.mac->to_string();
  if (s.vlan) text += " vlan " + describe(*s.vlan);
  if (s.spoofchk) text += std::string(" spoofchk ") + (*s.spoofchk ? "on" : "off");
  if (s.trust) text += std::string(" trust ") + (*s.trust ? "on" : "off");
  if (s.link_state) text += " link " + std::string(to_string(*s.link_state));
  if (s.rates)
    text += " rates " + std::to_string(s.rates->min_tx) + "/" + std::to_string(s.rates->max_tx);
  return text;
}

bool is_trigger_file(const fs::path& path) {
  static const std::set<std::string> kTriggers = {"bind", "unbind", "new_id", "remove_id",
                                                  "drivers_probe"};
  return kTriggers.count(path.filename().string()) != 0;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

// ---- HookProcess ---------------------------------------------------------------------------

std::unique_ptr<HookProcess> HookProcess::spawn(const std::vector<std::string>& argv,
                                                const std::function<void()>& in_child) {
  // A hook that exits before reading all of its input must not kill the test with SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)
    throw_errno("pipe2");

  // Everything the child needs is built before fork(): after it, only async-signal-safe calls.
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  // libvirt passes almost no environment, and the hook must not depend on any. The one
  // variable here is the loader's: it makes the real front end load the test bed's core
  // (same code, fake backends) in place of the installed one, as its RUNPATH would not.
  std::string loader_path = "LD_LIBRARY_PATH=" + std::string(VFHOOK_TESTBED_CORE_DIR);
  char* environment[] = {loader_path.data(), nullptr};

  pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    if (::dup2(in[0], 0) < 0 || ::dup2(out[1], 1) < 0 || ::dup2(err[1], 2) < 0) ::_exit(126);
    if (in_child) in_child();
    ::execve(args[0], args.data(), environment);
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  std::unique_ptr<HookProcess> process(new HookProcess());
  process->pid_ = pid;
  process->stdin_fd_ = in[1];
  process->stdout_fd_ = out[0];
  process->stderr_fd_ = err[0];
  return process;
}

HookProcess::~HookProcess() {
  if (!result_ && pid_ > 0) finish();
}

void HookProcess::feed(std::string input) {
  int fd = stdin_fd_;
  stdin_fd_ = -1;
  writer_ = std::thread([fd, input = std::move(input)] {
    size_t done = 0;
    while (done < input.size()) {
      ssize_t n = ::write(fd, input.data() + done, input.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // the hook closed its stdin (EPIPE): it is done reading
      done += static_cast<size_t>(n);
    }
    ::close(fd);
  });
}

HookResult HookProcess::finish() {
  if (result_) return *result_;
  if (stdin_fd_ >= 0) {
    ::close(stdin_fd_);
    stdin_fd_ = -1;
  }
  HookResult result;
  struct pollfd fds[2] = {{stdout_fd_, POLLIN, 0}, {stderr_fd_, POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_count = 2;
  while (open_count > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      throw_errno("poll");
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[65536];
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      } else {
        sinks[i]->append(buf, static_cast<size_t>(n));
      }
    }
  }
  stdout_fd_ = stderr_fd_ = -1;
  if (writer_.joinable()) writer_.join();
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) throw_errno("waitpid");
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.term_signal = WTERMSIG(status);
  result_ = result;
  return result;
}

HookResult run_command(const std::vector<std::string>& argv, const std::string& input,
                       const std::function<void()>& in_child) {
  auto process = HookProcess::spawn(argv, in_child);
  process->feed(input);
  return process->finish();
}

std::string hook_binary() {
  return VFHOOK_BINARY;
}

// ---- fingerprints --------------------------------------------------------------------------

std::map<std::string, std::string> tree_snapshot(const fs::path& root) {
  std::map<std::string, std::string> entries;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    const fs::path& path = it->path();
    std::string key = fs::relative(path, root.parent_path()).string();
    if (it->is_symlink()) {
      entries[key] = "-> " + fs::read_symlink(path).string();
    } else if (it->is_directory()) {
      entries[key] = "dir";
    } else if (!is_trigger_file(path)) {
      entries[key] = read_file(path);
    }
  }
  return entries;
}

std::string fingerprint_diff(const std::map<std::string, std::string>& before,
                             const std::map<std::string, std::string>& after) {
  std::string text;
  for (const auto& [key, value] : before) {
    auto found = after.find(key);
    if (found == after.end())
      text += key + ": " + value + " -> (gone)\n";
    else if (found->second != value)
      text += key + ": " + value + " -> " + found->second + "\n";
  }
  for (const auto& [key, value] : after)
    if (before.count(key) == 0) text += key + ": (new) -> " + value + "\n";
  return text;
}

// ---- TestBed -------------------------------------------------------------------------------

TestBed::TestBed() {
  tree_ = must(testing::FakeSysfsTree::create(dir_.path()), "create the fake sysfs tree");
  must(tree_->add_driver("igb"), "add driver igb");
  must(tree_->add_driver("igbvf"), "add driver igbvf");
  if (::mkdir(state_dir().c_str(), 0700) != 0) throw_errno("mkdir " + state_dir().string());
  std::ofstream(netlink_path()) << "{\"pfs\":{}}\n";
  save_netlink();
}

std::vector<PciAddress> TestBed::add_pf(const testing::PfSpec& spec, int ifindex) {
  auto vfs = must(tree_->add_pf(spec), "add PF " + spec.netdev);
  if (!spec.netdev.empty()) netlink_model_.add_pf(spec.netdev, ifindex, spec.up, spec.num_vfs);
  save_netlink();
  return vfs;
}

void TestBed::save_netlink() {
  must(FileVfNetlink::save(netlink_path(), netlink_model_), "save the netlink state");
}

void TestBed::libvirt_sets_net_config(const std::string& pf, int vf, const MacAddress& mac,
                                      uint16_t vlan) {
  RecordingVfNetlink state = must(FileVfNetlink::load(netlink_path()), "load the netlink state");
  VfState& current = state.pf(pf)->vfs.at(static_cast<size_t>(vf));
  libvirt_saved_[{pf, vf}] = {current.mac, current.vlan};
  current.mac = mac;
  current.vlan = Vlan{vlan, 0, VlanProtocol::dot1q};
  must(FileVfNetlink::save(netlink_path(), state), "save the netlink state");
}

void TestBed::libvirt_restores_net_config(const std::string& pf, int vf) {
  RecordingVfNetlink state = must(FileVfNetlink::load(netlink_path()), "load the netlink state");
  VfState& current = state.pf(pf)->vfs.at(static_cast<size_t>(vf));
  const auto& [mac, vlan] = libvirt_saved_.at({pf, vf});
  current.mac = mac;
  current.vlan = vlan;
  must(FileVfNetlink::save(netlink_path(), state), "save the netlink state");
}

void TestBed::write_config(const std::string& body) {
  const fs::path path = config_path();
  {
    std::ofstream out(path, std::ios::trunc);
    out << "state_dir = \"" << state_dir().string() << "\"\n" << body << "\n";
  }
  if (::chmod(path.c_str(), 0644) != 0) throw_errno("chmod " + path.string());
  // Where the test bed's core finds this bed's fake host (testing/testbed_core.cc).
  std::ofstream backends(path.string() + ".backends", std::ios::trunc);
  backends << "sysfs_root=" << tree_->sys_root().string() << "\n"
           << "dev_root=" << tree_->dev_root().string() << "\n"
           << "netlink_state=" << netlink_path().string() << "\n";
}

std::vector<std::string> TestBed::hook_argv(const std::string& domain, const std::string& op,
                                            const std::string& subop,
                                            const std::string& extra) const {
  return {hook_binary(), "--config", config_path().string(), domain, op, subop, extra};
}

HookResult TestBed::hook(const std::string& domain, const std::string& op, const std::string& xml,
                         const std::string& subop, const std::string& extra) {
  return run_command(hook_argv(domain, op, subop, extra), xml);
}

RecordingVfNetlink TestBed::netlink() {
  return must(FileVfNetlink::load(netlink_path()), "load the netlink state");
}

std::vector<std::string> TestBed::requests() {
  return netlink().requests();
}

VfState TestBed::vf_state(const std::string& pf, int index) {
  auto state = netlink();
  const PfLink* link = state.pf(pf);
  if (!link || index < 0 || static_cast<size_t>(index) >= link->vfs.size())
    throw std::runtime_error("no VF " + std::to_string(index) + " on " + pf);
  return link->vfs[static_cast<size_t>(index)];
}

std::optional<std::string> TestBed::driver(const PciAddress& device) {
  fs::path link = tree_->sys_root() / "bus/pci/devices" / device.to_string() / "driver";
  std::error_code ec;
  if (!fs::is_symlink(link, ec)) return std::nullopt;
  return fs::read_symlink(link).filename().string();
}

int TestBed::iommu_group(const PciAddress& device) {
  fs::path link = tree_->sys_root() / "bus/pci/devices" / device.to_string() / "iommu_group";
  return std::stoi(fs::read_symlink(link).filename().string());
}

bool TestBed::vfio_node_exists(int group) {
  return fs::exists(tree_->dev_root() / "vfio" / std::to_string(group));
}

std::unique_ptr<Store> TestBed::open_store() {
  return must(Store::open((state_dir() / "vfhook.db").string()), "open the store");
}

std::vector<Claim> TestBed::claims() {
  std::vector<Claim> claims;
  must(open_store()->transaction([&](StoreTransaction& txn) -> Status {
    VF_ASSIGN(all, txn.claims());
    claims = std::move(all);
    return ok();
  }),
       "read the claims");
  return claims;
}

std::vector<Reservation> TestBed::reservations() {
  std::vector<Reservation> reservations;
  must(open_store()->transaction([&](StoreTransaction& txn) -> Status {
    VF_ASSIGN(all, txn.reservations());
    reservations = std::move(all);
    return ok();
  }),
       "read the reservations");
  return reservations;
}

void TestBed::add_reservation(const Reservation& reservation) {
  must(open_store()->transaction(
           [&](StoreTransaction& txn) -> Status { return txn.add_reservation(reservation); }),
       "add a reservation");
}

std::optional<VfSnapshot> TestBed::snapshot(const PciAddress& vf) {
  std::optional<VfSnapshot> snapshot;
  must(open_store()->transaction([&](StoreTransaction& txn) -> Status {
    VF_ASSIGN(found, txn.snapshot(vf));
    snapshot = std::move(found);
    return ok();
  }),
       "read a snapshot");
  return snapshot;
}

void TestBed::remove_claim(const PciAddress& vf) {
  must(open_store()->transaction([&](StoreTransaction& txn) { return txn.remove_claim(vf); }),
       "remove a claim");
}

std::map<std::string, std::string> TestBed::fingerprint() {
  auto entries = tree_snapshot(tree_->sys_root());
  entries.merge(tree_snapshot(tree_->dev_root()));
  auto state = netlink();
  for (const auto& [name, link] : state.pfs()) {
    entries["netlink/" + name] = "ifindex " + std::to_string(link.ifindex) +
                                 (link.admin_up ? " up" : " down") + " vfs " +
                                 std::to_string(link.vfs.size());
    for (const auto& vf : link.vfs)
      entries["netlink/" + name + "/vf" + std::to_string(vf.index)] = describe_vf(vf);
  }
  must(open_store()->transaction([&](StoreTransaction& txn) -> Status {
    VF_ASSIGN(claims, txn.claims());
    for (const auto& c : claims) {
      entries["claim/" + c.vf.to_string()] =
          c.domain + " pool " + c.pool + " pf " + c.pf + " vf " + std::to_string(c.vf_index);
      VF_ASSIGN(snap, txn.snapshot(c.vf));
      if (snap)
        entries["snapshot/" + c.vf.to_string()] = "driver " + snap->driver.value_or("none") +
                                                  (snap->rebind_driver ? " rebind" : "") +
                                                  describe_settings(snap->changed);
    }
    VF_ASSIGN(reservations, txn.reservations());
    for (const auto& r : reservations)
      entries["reservation/" + r.vf.to_string()] = r.domain + " pool " + r.pool;
    return ok();
  }),
       "read the store");
  return entries;
}

// ---- XML builders --------------------------------------------------------------------------

std::string pci_address_xml(const PciAddress& a) {
  char text[128];
  std::snprintf(text, sizeof text,
                "<address type='pci' domain='0x%04x' bus='0x%02x' slot='0x%02x' "
                "function='0x%x'/>",
                a.domain, a.bus, a.slot, a.function);
  return text;
}

std::string interface_hostdev_xml(const InterfaceXml& spec) {
  std::string xml = std::string("<interface type='hostdev' managed='") +
                    (spec.managed ? "yes" : "no") + "'>\n" + "  <mac address='" +
                    spec.mac.to_string() + "'/>\n" + "  <source>" + pci_address_xml(spec.host) +
                    "</source>\n";
  if (spec.vlan_tag) xml += "  <vlan><tag id='" + std::to_string(*spec.vlan_tag) + "'/></vlan>\n";
  if (!spec.alias.empty()) xml += "  <alias name='" + spec.alias + "'/>\n";
  xml += "</interface>\n";
  return xml;
}

std::string hostdev_xml(const PciAddress& host, bool managed) {
  return std::string("<hostdev mode='subsystem' type='pci' managed='") + (managed ? "yes" : "no") +
         "'>\n  <source>" + pci_address_xml(host) + "</source>\n</hostdev>\n";
}

std::string domain_xml(const std::string& name, const std::string& devices,
                       const std::string& records) {
  std::string xml = "<domain type='kvm'>\n  <name>" + name + "</name>\n";
  if (!records.empty())
    xml += "  <metadata>\n    <vfhook:ports xmlns:vfhook=\"urn:vfhook:ports:1\">\n" + records +
           "    </vfhook:ports>\n  </metadata>\n";
  xml += "  <memory unit='KiB'>1048576</memory>\n  <devices>\n" + devices + "  </devices>\n" +
         "</domain>\n";
  return xml;
}

std::string port_record_xml(const std::string& attributes) {
  return "      <vfhook:port " + attributes + "/>\n";
}

}  // namespace vfhook::blackbox
