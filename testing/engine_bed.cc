#include "testing/engine_bed.h"

#include <cstdlib>
#include <iostream>

#include "engine/claims.h"
#include "vfio/pci_topology.h"

namespace vfhook::testing {
namespace {

template <class T>
T must(Result<T> result, const char* what) {
  if (!result) {
    std::cerr << "EngineBed: " << what << ": " << result.error().message << "\n";
    std::abort();
  }
  return std::move(*result);
}

void must(Status status, const char* what) {
  if (!status) {
    std::cerr << "EngineBed: " << what << ": " << status.error().message << "\n";
    std::abort();
  }
}

}  // namespace

const char* const kProviderPoolToml =
    "[[pool]]\nname = \"provider\"\npfs = [\"enp1s0\"]\nvlans = [\"100-199\"]\n"
    "allow_trust = true\nallow_spoofchk_off = true\n";

EngineBed::EngineBed(const std::string& tree_base)
    : tree_dir_(tree_base.empty() ? std::make_unique<TempDir>()
                                  : std::make_unique<TempDir>(tree_base)) {
  tree_ = must(FakeSysfsTree::create(tree_dir_->path()), "create the fake sysfs tree");
  must(tree_->add_driver("igb"), "add igb");
  must(tree_->add_driver("igbvf"), "add igbvf");
  PfSpec pf;
  pf.address = *PciAddress::parse("0000:01:00.0");
  pf.netdev = "enp1s0";
  pf.num_vfs = 7;
  vfs_ = must(tree_->add_pf(pf), "add the PF");
  devfs_ = std::make_unique<DirSysfs>(tree_->dev_root());
  netlink_.add_pf("enp1s0", 2, true, 7);
  set_config(kProviderPoolToml);
  store_ = must(Store::open(config_.state_dir + "/vfhook.db"), "open the store");
  ctx_ = std::make_unique<EngineContext>(
      EngineContext{config_, tree_->kernel(), *devfs_, netlink_, *store_, clock_, log_});
}

void EngineBed::set_config(const std::string& toml) {
  // The context holds a reference to config_: it sees the new config at once.
  config_ = must(parse_config(toml, "engine-bed.toml"), "parse the config");
  config_.state_dir = state_dir_.path().string();
}

std::optional<std::string> EngineBed::driver(const PciAddress& device) {
  PciTopology topology(tree_->kernel());
  return must(topology.driver(device), "read a driver");
}

std::vector<Claim> EngineBed::claims() {
  std::vector<Claim> all;
  must(store_->transaction([&](StoreTransaction& txn) -> Status {
    VF_ASSIGN(claims, txn.claims());
    all = std::move(claims);
    return ok();
  }),
       "read the claims");
  return all;
}

std::vector<Reservation> EngineBed::reservations() {
  auto holdings = read_holdings(*store_);
  if (!holdings) {
    std::cerr << "EngineBed: read the reservations: " << holdings.error().message << "\n";
    std::abort();
  }
  return std::move(holdings->reservations);
}

std::map<std::string, std::string> EngineBed::fingerprint() {
  std::map<std::string, std::string> entries;
  PfLink link = must(netlink_.read_pf("enp1s0"), "read the PF");
  for (const VfState& vf : link.vfs) {
    std::string key = "vf " + std::to_string(vf.index);
    entries[key] = "mac " + vf.mac.to_string() + " " + describe(vf.vlan) + " spoofchk " +
                   (vf.spoofchk ? "on" : "off") + " trust " +
                   (vf.trust ? (*vf.trust ? "on" : "off") : "?") + " link " +
                   std::string(to_string(vf.link_state)) + " rates " +
                   std::to_string(vf.min_tx_rate) + "/" + std::to_string(vf.max_tx_rate);
    entries[key + " driver"] = driver(vfs_.at(static_cast<size_t>(vf.index))).value_or("none");
  }
  return entries;
}

}  // namespace vfhook::testing
