// The engine's structured log entries (util/log.h): one per decision an operator looks for
// in the journal, with the fields that find it (DOMAIN, PCI_ADDRESS, PF, VF_INDEX, POOL,
// OUTCOME). The message is the line a text-only log shows; the fields repeat what it names.
// The hook and vfctl add EVENT (hooks/core_run.cc, cli/vfctl_main.cc).
#pragma once

#include <string>
#include <string_view>

#include "engine/log_fields.h"
#include "policy/store.h"
#include "util/log.h"

namespace vfhook {

// OUTCOME values the engine writes.
namespace log_outcome {
inline constexpr std::string_view claimed = "claimed";
inline constexpr std::string_view reclaimed = "reclaimed";  // reconnect: claim re-created
inline constexpr std::string_view restored = "restored";    // release: VF restored, claim dropped
inline constexpr std::string_view released = "released";    // release: no snapshot to restore
inline constexpr std::string_view restore_failed = "restore-failed";  // release: claim kept
inline constexpr std::string_view undo_failed = "undo-failed";
inline constexpr std::string_view moved = "moved";        // migrate/restore: a new VF here
inline constexpr std::string_view kept = "kept";          // migrate/restore: the same address
inline constexpr std::string_view parked = "parked";      // failover VF out of the guest: idle MAC
inline constexpr std::string_view unparked = "unparked";  // ...back in it: the port's MAC
inline constexpr std::string_view refused = "refused";
inline constexpr std::string_view failed = "failed";
inline constexpr std::string_view problem = "problem";
}  // namespace log_outcome

// An entry about one claimed device: DOMAIN, PCI_ADDRESS, POOL, OUTCOME, and PF and VF_INDEX
// for a VF (a whole device has neither).
LogEntry claim_entry(LogLevel level, std::string message, std::string_view outcome,
                     const Claim& claim);

}  // namespace vfhook
