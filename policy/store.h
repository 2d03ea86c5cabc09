// Store: the host's claims, reservations and VF snapshots, in one SQLite database
// (<state_dir>/vfhook.db, WAL, busy timeout). Several hook processes use it at once: every
// change runs in a BEGIN IMMEDIATE transaction, and UNIQUE(vf) makes a VF claimable once.
//
// - claim: a running (or starting) domain owns a VF. A claim belongs to one boot of the host.
// - reservation: a defined domain owns a VF even while it is shut off. Not per boot: it
//   belongs to the domain's definition and survives reboots.
// - snapshot: a VF's state before vfhook first touched it, to restore on release.
//
// Boots: a claim records the boot id its connection was opened with (StoreOptions::boot_id).
// A host that crashed never ran release, and after the reboot the kernel re-created its VFs:
// the old boot's claims would block new starts and their snapshots describe VFs that no
// longer exist. So opening with a boot id drops every claim recorded under another boot id,
// with its snapshot and without restoring anything (dropped_claims() lists them for the log).
// A claim with no boot id (added by a connection opened without one, or migrated from schema
// version 1 by such a connection) is of an unknown boot and is never dropped automatically.
// Claims migrated from schema version 1 by a connection WITH a boot id are recorded under
// that boot: they were most likely made by the running boot (vfhook upgraded under running
// guests); if they were not, they are as stale as every claim was before this check, and
// only until the next reboot.
//
// Schema: PRAGMA user_version holds the version; opening an older database migrates it step
// by step, in the setup transaction (all steps or none); a newer one is refused.
//
// A Store is one connection: use it from one thread (each hook process opens its own). The
// database file is created with mode 0600 and opened without following a symlink; its
// directory and the file itself must be owned by root (or the current euid) and not be
// writable by group or others (check_state_owner_and_mode() in policy/state_dir.h), since
// its snapshots are applied to VFs at release. A lock held
// by another process longer than the busy timeout (10 s by default: a hook must never hang)
// fails with ErrorKind::conflict. Everything read back is validated like untrusted input.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/mac_address.h"
#include "model/pci_address.h"
#include "model/vf_settings.h"
#include "util/result.h"

namespace vfhook {

struct Claim {
  PciAddress vf;
  std::string domain;
  std::string pool;
  std::string pf;     // PF interface name ("" for a whole-PF port)
  int vf_index = -1;  // -1 for a whole-PF port
  // The port's MAC, when it has one (a whole-device port has none). Not unique in the store:
  // whether two claims may share a MAC is the engine's decision.
  std::optional<MacAddress> mac = std::nullopt;
  bool operator==(const Claim&) const = default;
};

struct Reservation {
  PciAddress vf;
  std::string domain;
  std::string pool;
  bool operator==(const Reservation&) const = default;
};

// What to put back on release: only the fields vfhook changed are set.
struct VfSnapshot {
  PciAddress vf;
  std::optional<std::string> driver;  // driver before vfhook bound vfio-pci; nullopt: unbound
  bool rebind_driver = false;         // vfhook changed the driver
  VfSettings changed;                 // the original values of the settings vfhook changed
  bool operator==(const VfSnapshot&) const = default;
};

// Who holds one VF: its claim and its reservation, each absent when there is none.
struct VfHolding {
  std::optional<Claim> claim;
  std::optional<Reservation> reservation;
  bool operator==(const VfHolding&) const = default;
};

// Where a claim is: its VF and the PF interface it recorded ("" for a whole device). The
// allocator counts each PF's claims from these without reading the rest of every row.
struct ClaimSite {
  PciAddress vf;
  std::string pf;
  bool operator==(const ClaimSite&) const = default;
};

class Store;

// The view of the store inside one BEGIN IMMEDIATE transaction.
class StoreTransaction {
 public:
  virtual ~StoreTransaction() = default;
  virtual Result<std::vector<Claim>> claims() = 0;
  virtual Result<std::vector<Reservation>> reservations() = 0;
  // One VF's claim and reservation, looked up by VF: a decision about one VF reads two rows,
  // not every row.
  virtual Result<VfHolding> holding(const PciAddress& vf) = 0;
  // The reservations of one domain, ordered by VF (indexed by domain since schema version 4).
  virtual Result<std::vector<Reservation>> reservations_of(const std::string& domain) = 0;
  // Every claim's VF and recorded PF, ordered by VF.
  virtual Result<std::vector<ClaimSite>> claim_sites() = 0;
  // The VFs with a claim or a reservation (or both) whose address lies in [first, last],
  // ordered, each once. A range of the primary keys: the text form of a PCI address
  // (0000:01:10.0, fixed width) orders as the address does.
  virtual Result<std::vector<PciAddress>> held_between(const PciAddress& first,
                                                       const PciAddress& last) = 0;
  // Fails with ErrorKind::conflict, naming the holder, when the VF is claimed already (even by
  // the same domain: a VF is never given twice) or reserved by another domain.
  virtual Status add_claim(const Claim& claim) = 0;
  // Removing an absent claim, reservation or snapshot succeeds (release is idempotent).
  virtual Status remove_claim(const PciAddress& vf) = 0;
  // Re-adding the same reservation succeeds; a VF reserved by another domain is a conflict.
  virtual Status add_reservation(const Reservation& reservation) = 0;
  virtual Status remove_reservation(const PciAddress& vf) = 0;
  // Admin MACs recorded at prepare for a domain, of the free VFs libvirt may choose for it from
  // a hostdev network: the VF is first seen at start, after libvirt changed its MAC, and
  // release restores the recorded one. Recording replaces the domain's earlier record.
  // Recorded under the connection's boot id and dropped with the claims of other boots.
  virtual Status record_admin_macs(const std::string& domain,
                                   const std::vector<std::pair<PciAddress, MacAddress>>& macs) = 0;
  virtual Result<std::optional<MacAddress>> recorded_admin_mac(const std::string& domain,
                                                               const PciAddress& vf) = 0;
  // Dropping a domain that has none succeeds.
  virtual Status drop_admin_macs(const std::string& domain) = 0;
  // Keeps the first snapshot of a VF: a later save for the same VF is ignored.
  virtual Status save_snapshot(const VfSnapshot& snapshot) = 0;
  virtual Result<std::optional<VfSnapshot>> snapshot(const PciAddress& vf) = 0;
  virtual Status remove_snapshot(const PciAddress& vf) = 0;
};

struct StoreOptions {
  std::chrono::milliseconds busy_timeout = std::chrono::seconds(10);
  // This boot of the host: the text of /proc/sys/kernel/random/boot_id (without its newline),
  // read by the caller; 1-64 of [A-Za-z0-9-]. Empty: unknown (claims are recorded without a
  // boot, and no claim is dropped).
  std::string boot_id;
};

class Store {
 public:
  // Opens (creating if needed) the database; the directory must exist.
  static Result<std::unique_ptr<Store>> open(const std::string& path, const StoreOptions& options);
  static Result<std::unique_ptr<Store>> open(const std::string& path);  // no boot id
  static Result<std::unique_ptr<Store>> open(const std::string& path,
                                             std::chrono::milliseconds busy_timeout);
  virtual ~Store() = default;

  // The claims of other boots that opening this store dropped, with their snapshots.
  [[nodiscard]] virtual const std::vector<Claim>& dropped_claims() const = 0;

  // Runs `body` in one BEGIN IMMEDIATE transaction: commits if it succeeds, rolls back
  // (nothing changed) if it fails.
  virtual Status transaction(const std::function<Status(StoreTransaction&)>& body) = 0;
};

}  // namespace vfhook
