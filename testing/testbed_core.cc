// The test bed's hook core: the same code as the installed libvfhook_hook.so (hooks/core_run),
// built with fake backends. It is named libvfhook_hook.so too, in its own directory, so that the
// real front end loads it when the black-box tests put that directory on the loader's path.
//
// Its backends come from "<config>.backends", written by the test bed:
//   sysfs_root=/tmp/.../sys     the fake sysfs tree (the simulated kernel reacts to binding)
//   dev_root=/tmp/.../dev       /dev/vfio/N nodes
//   netlink_state=/tmp/.../netlink.json   the FileVfNetlink state
// The installed config has no such keys: nothing in the product can select a fake.
#include <fstream>
#include <map>

#include "hooks/core_api.h"
#include "hooks/core_run.h"
#include "testing/fake_vf_netlink.h"
#include "testing/simulated_kernel_sysfs.h"

namespace vfhook {
namespace {

Result<std::unique_ptr<HostBackends>> open_testbed_backends(const std::string& config_path,
                                                            const HostConfig& config) {
  std::ifstream in(config_path + ".backends");
  if (!in) return fail(ErrorKind::not_found, "test bed: no " + config_path + ".backends");
  std::map<std::string, std::string> keys;
  for (std::string line; std::getline(in, line);) {
    auto eq = line.find('=');
    if (eq != std::string::npos) keys[line.substr(0, eq)] = line.substr(eq + 1);
  }
  for (const char* key : {"sysfs_root", "dev_root", "netlink_state"})
    if (keys[key].empty())
      return fail(ErrorKind::invalid_input, std::string("test bed: no ") + key);
  auto backends = std::make_unique<HostBackends>();
  backends->sysfs = std::make_unique<SimulatedKernelSysfs>(keys["sysfs_root"], keys["dev_root"]);
  backends->devfs = std::make_unique<DirSysfs>(keys["dev_root"]);
  backends->netlink = std::make_unique<FileVfNetlink>(keys["netlink_state"]);
  VF_ASSIGN(store, open_state_store(config));
  backends->store = std::move(store);
  return backends;
}

}  // namespace
}  // namespace vfhook

extern "C" int vfhook_hook_run(const char* config_path, const char* domain, const char* op,
                               const char* /*subop*/, const char* /*extra*/, const char* xml,
                               size_t xml_len) {
  return vfhook::run_hook_event(config_path, domain, op, std::string_view(xml, xml_len),
                                vfhook::open_testbed_backends);
}
