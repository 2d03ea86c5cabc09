// vfctl's journal entry for each hotplug and migration command's outcome (util/log.h): one
// entry per command, with DOMAIN, OUTCOME and what the command moved (PCI_ADDRESS, PF,
// VF_INDEX, POOL; a migration's DESTINATION). vfctl's logger adds EVENT (the command). The
// engine's own entries (claimed, restored, undo-failed) come before it.
#pragma once

#include <string>

#include "cli/hotplug.h"
#include "cli/migrate.h"
#include "engine/log_fields.h"
#include "util/log.h"

namespace vfhook {

// OUTCOME values of vfctl's commands (besides the engine's, engine/decision_log.h).
namespace command_outcome {
inline constexpr std::string_view attached = "attached";
inline constexpr std::string_view detached = "detached";
inline constexpr std::string_view kept_by_guest = "kept-by-guest";  // detach: guest did not let go
inline constexpr std::string_view migrated = "migrated";
inline constexpr std::string_view partly_done = "partly-done";  // see left_behind
}  // namespace command_outcome

LogEntry attach_entry(const std::string& domain, const PortSpec& spec,
                      const Result<Attachment>& result);
LogEntry detach_entry(const std::string& domain, const std::string& alias,
                      const Result<Detachment>& result);
LogEntry migrate_entry(const MigrationRequest& request, const Result<MigrationReport>& result);

}  // namespace vfhook
