#include "testing/scale_host.h"

namespace vfhook::testing {

Result<ScaleHost> add_scale_pfs(FakeSysfsTree& tree, const ScaleHostSpec& spec) {
  if (spec.vfs_per_pf < 0 || spec.vfs_per_pf > 64 || spec.pfs < 0 ||
      spec.first_bus + spec.pfs > 0x100)
    return fail(ErrorKind::invalid_input, "scale host: up to 64 VFs per PF, one bus per PF");
  VF_TRY(tree.add_driver("igb"));
  VF_TRY(tree.add_driver("igbvf"));
  ScaleHost host;
  host.pool_toml = "[[pool]]\nname = \"" + spec.pool + "\"\npfs = [";
  for (int n = 0; n < spec.pfs; ++n) {
    const int bus = spec.first_bus + n;
    PfSpec pf;
    pf.address = PciAddress{0, static_cast<uint8_t>(bus), 0, 0};
    pf.netdev = "enp" + std::to_string(bus) + "s0";
    pf.total_vfs = spec.vfs_per_pf;
    pf.num_vfs = spec.vfs_per_pf;
    pf.numa_node = spec.numa_node(n);
    VF_ASSIGN(vfs, tree.add_pf(pf));
    if (spec.vf_netdevs) {
      for (int i = 0; i < spec.vfs_per_pf; ++i)
        VF_TRY(tree.add_netdev(pf.netdev + "v" + std::to_string(i), vfs[static_cast<size_t>(i)],
                               spec.used_outside(n, i)));
    }
    host.pool_toml += (n ? ", \"" : "\"") + pf.netdev + "\"";
    host.pfs.push_back(ScalePf{pf.address, pf.netdev, std::move(vfs)});
  }
  host.pool_toml += "]\nvlans = [\"100-199\"]\n";
  return host;
}

}  // namespace vfhook::testing
