// A domain's claim marker: an empty file <state_dir>/domains/<encoded name>
// (model/domain_marker_name.h) that exists whenever the domain holds a claim, so that the hook's
// front end can tell, with one stat() and without loading the core, that a release whose XML
// shows no VF (after `virsh detach-device`, or a VF a hostdev network chose) still has VFs to
// restore.
//
// The invariant, "claims => marker" (a marker without claims only costs a release a load of
// the core, which then removes it):
//  - mark_domain() runs inside the BEGIN IMMEDIATE transaction that adds a domain's claim,
//    before it commits;
//  - sync_domain_markers() runs after claims were dropped (and after release and reconnect),
//    in a transaction of its own, and removes the marker of a domain that holds none.
// Every marker change happens while the store's write lock is held, so no claim can be added
// between the check and the removal.
//
// Upgrading from a vfhook without markers: the directory does not exist yet while claims do.
// The front end hands every release to the core while it is missing, and the first marker
// written creates it from ALL the current claims at once (built aside, then renamed into place),
// so its existence always means "every claim has its marker".
#pragma once

#include <string>
#include <vector>

#include "policy/store.h"
#include "util/result.h"

namespace vfhook {

// Creates the marker of `domain`. `claims` are every claim the store holds now (read in the
// caller's transaction), used only if the markers directory must be created first. A domain
// whose name cannot be encoded gets no marker (the front end never skips its release).
Status mark_domain(const std::string& state_dir, const std::string& domain,
                   const std::vector<Claim>& claims);

// For each of `domains`: keeps (creating if needed) its marker when it holds a claim, removes
// it when it holds none. In one transaction of its own.
Status sync_domain_markers(const std::string& state_dir, const std::vector<std::string>& domains,
                           Store& store);

}  // namespace vfhook
