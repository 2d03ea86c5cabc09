// How vfctl shows its results: a table or text for people (the default), JSON for scripts
// (--json, one object on stdout). Pure functions of the results, so tests compare them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/dhcp_hosts.h"
#include "cli/doctor.h"
#include "cli/hotplug.h"
#include "cli/migrate.h"
#include "cli/pf_neighbors.h"
#include "cli/port_commands.h"
#include "cli/qmp_hotplug.h"
#include "engine/inventory.h"
#include "policy/config.h"
#include "policy/store.h"

namespace vfhook {

// Each pool, a table of its PFs (netdev, PCI address, link, NUMA node, VFs created/total and,
// from `lldp`, the switch and port each is cabled to: "<switch>/<port>", "none heard", "?"
// with the reason under the table, or "-" when not asked), then each PF's VFs. In JSON each PF
// has "lldp": null when not asked, else {"neighbors": [...], "no_data": null or the reason}.
std::string status_text(const std::vector<PoolStatus>& pools, const PfNeighbors& lldp = {});
std::string status_json(const std::vector<PoolStatus>& pools, const PfNeighbors& lldp = {});

std::string port_addition_text(const PortAddition& addition, bool rendered_only);
std::string port_addition_json(const PortAddition& addition, bool rendered_only);

std::string port_removal_text(const PortRemoval& removal);
std::string port_removal_json(const PortRemoval& removal);

std::string port_listing_text(const PortListing& listing);
std::string port_listing_json(const PortListing& listing);

std::string attachment_text(const Attachment& attachment);
std::string attachment_json(const Attachment& attachment);
std::string qmp_attachment_text(const QmpAttachment& attachment);
std::string qmp_attachment_json(const QmpAttachment& attachment);
std::string detachment_text(const Detachment& detachment);
std::string detachment_json(const Detachment& detachment);
// The text form is cli/migrate.h's migration_text.
std::string migration_json(const MigrationReport& report);

// Reports of commands that change several things (vfs apply, gc): one line per change, then
// the problems; `nothing` when there is neither.
std::string change_report_text(const std::vector<std::string>& changes,
                               const std::vector<std::string>& problems,
                               const std::string& nothing);
std::string change_report_json(const std::vector<std::string>& changes,
                               const std::vector<std::string>& problems);

// One line per check, "ok      iommu: 12 IOMMU groups", "FAILED  ..." or "warning ...", the fix
// indented under a check that is not ok, and a summary line.
std::string doctor_text(const std::vector<DoctorCheck>& checks);
// {"checks": [{"name", "status" (ok|warning|failed), "found", "fix" (null when ok)}], "ok": no
// check failed}.
std::string doctor_json(const std::vector<DoctorCheck>& checks);

// dhcp-hosts --write: what it did to the file.
std::string dhcp_update_text(const DhcpHosts& hosts, const DhcpFileUpdate& update);
// {"format", "hosts": [{"domain", "alias", "pool", "mac", "ip", "hostname" (or null)}],
//  "problems": [...], "other_family": [...], "text": the rendered reservations, "file": {"path",
//  "written"} or null}.
std::string dhcp_hosts_json(const DhcpHosts& hosts, const std::optional<DhcpFileUpdate>& update);

// vfctl claims: one row per claim (a running or starting domain holds the VF or whole device),
// "no claims" when there is none. JSON: {"claims": [{"domain", "pool", "vf", "pf" (null for a
// whole device), "vf_index" (null for a whole device), "mac" (or null)}]}.
std::string claims_text(const std::vector<Claim>& claims);
std::string claims_json(const std::vector<Claim>& claims);

// vfctl pools: the configured pools' names, one a line (what the bash completion reads).
// JSON: {"pools": [{"name", "mode" (vf|pf), "pfs": [...]}]}.
std::string pool_names_text(const HostConfig& config);
std::string pools_json(const HostConfig& config);

// {"error": {"kind": ..., "message": ...}} for --json; the text form goes to stderr.
std::string error_json(const Error& error);

}  // namespace vfhook
