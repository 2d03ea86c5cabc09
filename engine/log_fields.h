// The names of the journal fields vfhook and vfctl attach to their decisions (util/log.h's
// LogEntry), in one place: `journalctl -t vfhook DOMAIN=web1 OUTCOME=refused` depends on them,
// so they are part of vfhook's interface (docs/design.md, "Logging"). Values are in
// engine/decision_log.h and cli/command_log.h.
#pragma once

#include <string_view>

namespace vfhook {

// The fields vfhook and vfctl attach to their decisions.
namespace log_field {
inline constexpr std::string_view domain = "DOMAIN";
// The hook event (prepare, start, started, stopped, release, migrate, restore, reconnect) or
// the vfctl command (attach, detach, migrate, gc, ...).
inline constexpr std::string_view event = "EVENT";
inline constexpr std::string_view pci_address = "PCI_ADDRESS";
// A relocation's source address (the PCI address the definition came with).
inline constexpr std::string_view from_pci_address = "FROM_PCI_ADDRESS";
inline constexpr std::string_view pf = "PF";
inline constexpr std::string_view vf_index = "VF_INDEX";
inline constexpr std::string_view pool = "POOL";
// claimed, refused, failed, restored, restore-failed, undo-failed, moved, kept, parked,
// unparked, attached, detached, migrated, partly-done, problem.
inline constexpr std::string_view outcome = "OUTCOME";
// vfctl migrate's destination URI.
inline constexpr std::string_view destination = "DESTINATION";
}  // namespace log_field

}  // namespace vfhook
