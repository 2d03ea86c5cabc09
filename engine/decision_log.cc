#include "engine/decision_log.h"

namespace vfhook {

LogEntry claim_entry(LogLevel level, std::string message, std::string_view outcome,
                     const Claim& claim) {
  LogEntry entry{level, std::move(message), {}};
  entry.with(log_field::domain, claim.domain)
      .with(log_field::pci_address, claim.vf.to_string())
      .with(log_field::pool, claim.pool);
  if (!claim.pf.empty()) entry.with(log_field::pf, claim.pf);
  if (claim.vf_index >= 0) entry.with(log_field::vf_index, claim.vf_index);
  entry.with(log_field::outcome, std::string(outcome));
  return entry;
}

}  // namespace vfhook
