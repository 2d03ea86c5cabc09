// PortAddRace: many processes running vfctl's `port add` (cli/port_commands.h add_port) at the
// same moment, against one claims database and one fake sysfs tree, each with an in-process
// FakeLibvirt holding its own domain: the shared state is the store, as on a host where
// automation adds ports to many domains at once. For the concurrency test and benchmark.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "model/pci_address.h"
#include "util/result.h"

namespace vfhook::testing {

struct PortAddRaceSetup {
  std::filesystem::path sys_root;  // FakeSysfsTree::sys_root()
  std::filesystem::path dev_root;
  std::string config_toml;  // without state_dir
  std::string state_dir;    // holds vfhook.db
  std::string pool;
  int processes = 16;
  // Domain i is "<prefix><i>" (a shut-off domain with no VF port yet).
  std::string domain_prefix = "race";
};

struct PortAddResult {
  std::string domain;
  bool added = false;
  std::optional<PciAddress> vf;  // the VF reserved for it, when added
  std::string error;             // why not, when not added
  // From the start signal to add_port's return, in the process: the config parsed, the store
  // opened, the port planned, its VF chosen and reserved, the domain defined.
  double wall_ms = 0;
};

// Forks the processes, lets them all go at once, and collects each one's result (by domain
// index). Fails when a process cannot be forked or ends without reporting. The caller must not
// have the database open while it races: SQLite's state of an open connection (its locks on
// the file and the WAL index) must not be carried across fork() into the children.
Result<std::vector<PortAddResult>> race_port_adds(const PortAddRaceSetup& setup);

// The same race with only the floor of any writer: each process opens the store and runs one
// transaction that adds and removes a reservation of its own (a VF address no pool has). For
// a baseline measured in the same run; `added` is true when that transaction succeeded.
Result<std::vector<PortAddResult>> race_store_transactions(const PortAddRaceSetup& setup);

}  // namespace vfhook::testing
