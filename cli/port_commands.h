// vfctl's port commands: a VF port written into a domain's persistent definition (`port add`),
// shown without side effects (`render`), listed (`port list`) and removed (`port remove`).
//
// A port added here is checked exactly as the hook's prepare will check it at the next start
// (engine plan_ports: pool, VLAN ranges, trust/spoofchk switches, host bridge VLANs), so a
// definition vfctl writes is one the hook accepts. Its VF is chosen by the allocator
// (NUMA-local to the guest's memory where the domain pins it) and reserved for the domain in
// the claims store, so no other `port add` or start takes it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/libvirt.h"
#include "engine/context.h"
#include "model/port_record.h"
#include "policy/allocator.h"
#include "policy/store.h"
#include "xml/domain_xml.h"

namespace vfhook {

// What the operator asks for; unset fields take the pool's defaults at start.
struct PortSpec {
  std::string pool;
  std::optional<Vlan> vlan;  // absent: untagged
  std::optional<MacAddress> mac;
  std::optional<std::string> ip;
  std::optional<std::string> alias;  // absent: the first free "ua-vfhookN"
  std::optional<bool> spoofchk;
  std::optional<bool> trust;
  std::optional<LinkState> link_state;
  std::optional<VfSettings::Rates> rates;
};

// The port record a new port of `spec` gets (its MAC is set by the caller where the record
// is what names the port: a plain <hostdev>).
PortRecord port_record_for(const PortSpec& spec, const std::string& alias);

struct PortAddition {
  std::string domain;
  bool domain_running = false;  // the port takes effect at the next start
  std::string alias;
  MacAddress mac;
  AllocCandidate vf;
  PortRecord record;
  std::string interface_xml;  // the new <interface> element
  std::string domain_xml;     // the whole new persistent definition
};

// The MAC a port gets when the operator names none: stable for a domain UUID (or name) and
// alias, so rendering twice gives the same one; locally administered unicast (0a:...), never
// the 02:76 prefix of idle VFs.
MacAddress derived_port_mac(const std::string& domain_key, const std::string& alias);

// Works out the port and the new definition and checks them; changes nothing (`render`).
Result<PortAddition> plan_port_addition(const std::string& domain, const PortSpec& spec,
                                        Libvirt& libvirt, EngineContext& ctx);

// plan_port_addition, then the reservation, then virDomainDefineXML. When the define fails the
// reservation is dropped again, so nothing is left half-done; should that drop fail too,
// `left_behind` says what is left (the caller exits 3).
Result<PortAddition> add_port(const std::string& domain, const PortSpec& spec, Libvirt& libvirt,
                              EngineContext& ctx, std::string& left_behind);

struct PortRemoval {
  std::string domain;
  std::string alias;
  std::optional<PciAddress> vf;  // the VF the port had
  std::string left_behind;       // "" when its reservation was dropped (or there was none)
};

// Removes the port from the persistent definition and drops its reservation. Refused while
// the domain runs with that port (detach it first, or stop the domain). A reservation that
// cannot be dropped after the define is reported in `left_behind`, not as an error: the
// definition has changed.
Result<PortRemoval> remove_port(const std::string& domain, const std::string& alias,
                                Libvirt& libvirt, EngineContext& ctx);

struct ListedPort {
  std::string domain;
  bool domain_running = false;
  VfPort port;
  std::optional<PortRecord> record;
  std::optional<Reservation> reservation;
  std::optional<Claim> claim;
};

// The VF ports of every persistent domain (or of `domain` only), from their definitions.
// A domain whose XML cannot be read or parsed is reported in `problems`, not fatal.
struct PortListing {
  std::vector<ListedPort> ports;
  std::vector<std::string> problems;
};
Result<PortListing> list_ports(const std::optional<std::string>& domain, Libvirt& libvirt,
                               EngineContext& ctx);

}  // namespace vfhook
