// Claiming a plan's ports in one store transaction: the step that decides, among hook
// processes running at once, which domain gets a VF.
#pragma once

#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/outcome.h"
#include "engine/port_plan.h"

namespace vfhook {

Claim claim_for(const std::string& domain, const PlannedPort& port);

struct ClaimResult {
  std::vector<PciAddress> newly_claimed;  // held by this domain only since this call
  std::vector<Refusal> refusals;          // held or reserved by another domain
};

// In one BEGIN IMMEDIATE transaction: refuses (adding nothing) if any port's device is
// claimed or reserved by another domain; otherwise claims every port not yet claimed by this
// domain and saves its snapshot (snapshots[i] belongs to ports[i]). The domain's marker
// (engine/domain_marker.h) is written before the first claim is added.
Result<ClaimResult> claim_ports(const std::string& domain, const std::vector<PlannedPort>& ports,
                                const std::vector<VfSnapshot>& snapshots, EngineContext& ctx);

// Drops these claims and their snapshots in one transaction.
Status drop_claims(const std::vector<PciAddress>& vfs, EngineContext& ctx);

// Every claim and reservation, read in one transaction (a consistent view for listings and
// for decisions that write nothing in the same transaction).
struct Holdings {
  std::vector<Claim> claims;
  std::vector<Reservation> reservations;
};
Result<Holdings> read_holdings(Store& store);

}  // namespace vfhook
