// The engine's operations on one domain's VF ports. The hook calls them at libvirt's events;
// vfctl (hotplug, migration) will call them around its own libvirt calls. Each returns an
// Outcome (engine/outcome.h), never prose, and changes nothing on the host when it refuses.
//
// prepare   validate every port against policy and the host (refuse, changing nothing);
//           claim the VFs in one transaction with a snapshot of each; bind managed='no' ones
//           to vfio-pci; set MAC/VLAN on plain <hostdev> VFs. Any failure undoes every step.
// start     claim VFs libvirt chose from hostdev networks; apply what libvirt cannot (VLAN QoS
//           and 802.1ad, spoofchk, trust, link state, rates); verify; undo on failure.
// release   restore every VF the domain claimed from its snapshot (driver too, unless the pool
//           keeps idle VFs on vfio-pci), drop the claims. Acts on the claims, not on any XML.
//           Idempotent; never fails: what it could not restore stays claimed (`problems`).
// reconnect re-create claims for the VFs the running domain uses (those its live re-attach
//           marker lists included), release the claims of VFs it no longer uses. Never
//           changes a running guest's VF and never fails: ports today's policy would refuse
//           are kept and reported in `problems`.
// migrate   the destination of a migration (live or offline): point every VF port at a VF of
//           its pool on this host, reserve those VFs for the domain, and return the rewritten
//           definition when an address changed (engine/relocation.h). All or nothing.
// restore   the same for `virsh restore` and managed-save restore.
#pragma once

#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/outcome.h"
#include "engine/relocation.h"
#include "xml/domain_xml.h"

namespace vfhook {

Outcome prepare_domain(const std::string& domain_name, const DomainXml& domain, EngineContext& ctx);
Outcome start_domain(const std::string& domain_name, const DomainXml& domain, EngineContext& ctx);
Outcome release_domain(const std::string& domain_name, EngineContext& ctx);
Outcome reconnect_domain(const std::string& domain_name, const DomainXml& domain,
                         EngineContext& ctx);
Relocation migrate_domain(const std::string& domain_name, const DomainXml& domain,
                          EngineContext& ctx);
Relocation restore_domain(const std::string& domain_name, const DomainXml& domain,
                          EngineContext& ctx);

// Restores each claim from its snapshot and drops the restored ones; a claim that cannot be
// restored is kept (with its snapshot) and described in `problems`.
Status release_claims(const std::vector<Claim>& claims, EngineContext& ctx,
                      std::vector<std::string>& problems);

}  // namespace vfhook
