// The hook's event handlers. Each returns what the hook process reports to libvirt: its exit
// status, the stderr a person reads in `virsh start`'s error, and stdout for libvirt itself.
//
// prepare   validate every port against policy and the host (refuse, changing nothing);
//           claim the VFs in one transaction with a snapshot of each; bind managed='no' ones
//           to vfio-pci; set MAC/VLAN on plain <hostdev> VFs. Any failure undoes every step.
// start     claim VFs libvirt chose from hostdev networks; apply what libvirt cannot (VLAN QoS
//           and 802.1ad, spoofchk, trust, link state, rates); verify; undo on failure.
// release   restore every VF the domain claimed from its snapshot (driver too, unless the pool
//           keeps idle VFs on vfio-pci), drop the claims. Idempotent; never fails the event.
// reconnect re-create claims for the VFs the running domain uses; restore and drop claims it
//           no longer uses. Never fails: a failing reconnect hook kills the guest.
#pragma once

#include <string>
#include <vector>

#include "hooks/hook_context.h"
#include "xml/domain_xml.h"

namespace vfhook {

struct HookOutcome {
  int exit_code = 0;
  std::string to_stderr;
  std::string to_stdout;
};

HookOutcome handle_prepare(const std::string& domain_name, const DomainXml& domain,
                           HookContext& ctx);
HookOutcome handle_start(const std::string& domain_name, const DomainXml& domain, HookContext& ctx);
HookOutcome handle_release(const std::string& domain_name, HookContext& ctx);
HookOutcome handle_reconnect(const std::string& domain_name, const DomainXml& domain,
                             HookContext& ctx);

// Restores each claim from its snapshot and drops the restored ones; a claim that cannot be
// restored is kept (with its snapshot) and described in `problems`. Shared by release and
// reconnect (stale claims).
Status release_claims(const std::vector<Claim>& claims, HookContext& ctx,
                      std::vector<std::string>& problems);

}  // namespace vfhook
