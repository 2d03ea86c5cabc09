#include "cli/port_commands.h"

#include <algorithm>
#include <array>
#include <functional>
#include <set>

#include "engine/claims.h"
#include "engine/port_allocation.h"
#include "engine/port_plan.h"
#include "util/printable.h"

namespace vfhook {
namespace {

std::string refusal_text(const std::vector<Refusal>& refusals) {
  std::string text;
  for (const Refusal& refusal : refusals) {
    if (!text.empty()) text += "; ";
    text += refusal.subject.empty() ? refusal.reason : refusal.subject + ": " + refusal.reason;
  }
  return text;
}

std::string first_free_alias(const DomainXml& domain) {
  std::set<std::string> taken;
  for (const VfPort& port : domain.vf_ports()) taken.insert(port.alias);
  // Other devices' aliases are checked again when the interface is added.
  const std::string text = domain.serialize();
  for (int n = 0;; ++n) {
    std::string alias = "ua-vfhook" + std::to_string(n);
    if (!taken.count(alias) && text.find("'" + alias + "'") == std::string::npos &&
        text.find("\"" + alias + "\"") == std::string::npos)
      return alias;
  }
}

Result<DomainXml> persistent_definition(const std::string& domain, Libvirt& libvirt) {
  VF_ASSIGN(xml, libvirt.domain_xml(domain, false));
  return with_context(DomainXml::parse(xml), "the definition of domain '" + domain + "'");
}

// How a plan gets its VF: chosen only (render), or chosen and reserved at once (port add).
using VfChooser = std::function<Result<AllocCandidate>(const VfRequest&)>;

Result<PortAddition> plan_with(const std::string& domain_name, const PortSpec& spec,
                               Libvirt& libvirt, EngineContext& ctx, const VfChooser& choose);

}  // namespace

MacAddress derived_port_mac(const std::string& domain_key, const std::string& alias) {
  // FNV-1a over "key\0alias": 40 bits after a fixed first octet.
  uint64_t hash = 1469598103934665603ull;
  auto mix = [&hash](unsigned char byte) {
    hash ^= byte;
    hash *= 1099511628211ull;
  };
  for (unsigned char c : domain_key) mix(c);
  mix(0);
  for (unsigned char c : alias) mix(c);
  std::array<uint8_t, 6> bytes{0x0a};
  for (int i = 1; i < 6; ++i) bytes[i] = static_cast<uint8_t>(hash >> (8 * (i - 1)));
  return MacAddress{bytes};
}

PortRecord port_record_for(const PortSpec& spec, const std::string& alias) {
  PortRecord record;
  record.alias = alias;
  record.pool = spec.pool;
  record.vlan = spec.vlan;
  record.spoofchk = spec.spoofchk;
  record.trust = spec.trust;
  record.link_state = spec.link_state;
  record.rates = spec.rates;
  record.ip = spec.ip;
  return record;
}

Result<PortAddition> plan_port_addition(const std::string& domain_name, const PortSpec& spec,
                                        Libvirt& libvirt, EngineContext& ctx) {
  return plan_with(domain_name, spec, libvirt, ctx,
                   [&](const VfRequest& request) { return choose_free_vf(request, ctx); });
}

namespace {

// The plan of a port addition, with its VF from `choose`.
Result<PortAddition> plan_with(const std::string& domain_name, const PortSpec& spec,
                               Libvirt& libvirt, EngineContext& ctx, const VfChooser& choose) {
  VF_ASSIGN(domain, persistent_definition(domain_name, libvirt));
  VF_ASSIGN(running, libvirt.is_active(domain_name));
  if (spec.ip && spec.ip->find('/') != std::string::npos)
    return fail(ErrorKind::invalid_input,
                "--ip " + printable(*spec.ip) +
                    ": give the address without a prefix length; the DHCP server's subnet "
                    "decides it");

  PortAddition addition;
  addition.domain = domain_name;
  addition.domain_running = running;
  addition.alias = spec.alias.value_or(first_free_alias(domain));
  if (!is_valid_user_alias(addition.alias))
    return fail(ErrorKind::invalid_input,
                "alias '" + printable(addition.alias) +
                    "' refused: libvirt needs a user alias 'ua-' followed by [A-Za-z0-9_-]");
  addition.mac = spec.mac.value_or(
      derived_port_mac(domain.uuid().empty() ? domain.name() : domain.uuid(), addition.alias));

  VfRequest request{domain_name, spec.pool, domain.memory_numa_nodes(), {}};
  for (const VfPort& port : domain.vf_ports())
    if (port.host) request.in_use_by_domain.push_back(*port.host);
  VF_ASSIGN(vf, with_context(choose(request), "domain '" + domain_name + "'"));
  addition.vf = vf;

  addition.record = port_record_for(spec, addition.alias);
  const PortRecord& record = addition.record;

  HostdevInterfaceSpec element;
  element.host = vf.vf;
  element.mac = addition.mac;
  if (spec.vlan && spec.vlan->id != 0) element.vlan_tag = spec.vlan->id;
  element.managed = false;
  element.alias = addition.alias;
  VF_ASSIGN(interface_xml, render_hostdev_interface(element));
  addition.interface_xml = interface_xml;
  VF_ASSIGN(updated, domain.with_hostdev_interface(element, record));

  // The check the hook makes at the next start, on the definition as it will be.
  VF_ASSIGN(plan, plan_ports(updated, ctx, Stage::prepare));
  if (!plan.refusals.empty())
    return fail(ErrorKind::policy, "domain '" + domain_name + "': the hook would refuse this " +
                                       "port at start: " + refusal_text(plan.refusals));
  addition.domain_xml = updated.serialize();
  return addition;
}

}  // namespace

Result<PortAddition> add_port(const std::string& domain, const PortSpec& spec, Libvirt& libvirt,
                              EngineContext& ctx, std::string& left_behind) {
  left_behind.clear();
  // The VF is reserved in the transaction that chooses it, so `port add` for many domains at
  // once never picks one VF twice and none has to retry. A plan that fails after that drops
  // the reservation it made (not one the domain had already).
  std::optional<PciAddress> newly_reserved;
  auto addition = plan_with(domain, spec, libvirt, ctx, [&](const VfRequest& request) {
    bool is_new = false;
    auto chosen = choose_and_reserve_vf(request, ctx, &is_new);
    if (chosen && is_new) newly_reserved = chosen->vf;
    return chosen;
  });
  if (!addition) {
    Error error = addition.error();
    if (newly_reserved) {
      if (auto dropped = drop_reservation(*newly_reserved, domain, ctx); !dropped) {
        left_behind = "VF " + newly_reserved->to_string() + " stays reserved for domain '" +
                      printable(domain, 255) + "' (dropping it failed: " + dropped.error().message +
                      "); `vfctl gc` drops it";
        error.message += "; " + left_behind;
      }
    }
    return fail(std::move(error));
  }
  if (auto defined = libvirt.define_xml(addition->domain_xml); !defined) {
    Error error = defined.error().with_context("domain '" + domain + "'");
    if (auto dropped = drop_reservation(addition->vf.vf, domain, ctx); !dropped) {
      left_behind = "VF " + addition->vf.vf.to_string() + " stays reserved for domain '" +
                    printable(domain, 255) + "' (dropping it failed: " + dropped.error().message +
                    "); `vfctl gc` drops it";
      error.message += "; " + left_behind;
    } else
      error.message += "; nothing was changed";
    return fail(std::move(error));
  }
  ctx.log.info("domain " + printable(domain, 255) + ": port " + addition->alias + " added: VF " +
               addition->vf.vf.to_string() + " of pool " + spec.pool + " reserved");
  return addition;
}

Result<PortRemoval> remove_port(const std::string& domain_name, const std::string& alias,
                                Libvirt& libvirt, EngineContext& ctx) {
  VF_ASSIGN(domain, persistent_definition(domain_name, libvirt));
  auto port = std::find_if(domain.vf_ports().begin(), domain.vf_ports().end(),
                           [&](const VfPort& p) { return p.alias == alias; });
  if (port == domain.vf_ports().end())
    return fail(ErrorKind::not_found,
                "domain '" + domain_name + "' has no VF port with alias '" + printable(alias) +
                    "' in its definition; `vfctl port list " + domain_name + "` lists its ports");
  VF_ASSIGN(running, libvirt.is_active(domain_name));
  if (running) {
    VF_ASSIGN(live_xml, libvirt.domain_xml(domain_name, true));
    VF_ASSIGN(live, DomainXml::parse(live_xml));
    for (const VfPort& live_port : live.vf_ports())
      if (live_port.alias == alias)
        return fail(ErrorKind::conflict, "domain '" + domain_name + "' is running with port '" +
                                             alias + "': detach it first (vfctl detach " +
                                             domain_name + " " + alias + "), or stop the domain");
  }
  const std::optional<PciAddress> vf = port->host;
  VF_ASSIGN(updated, domain.without_port(alias));
  VF_TRY(with_context(libvirt.define_xml(updated.serialize()), "domain '" + domain_name + "'"));
  PortRemoval removal{domain_name, alias, std::nullopt, {}};
  if (vf) {
    removal.vf = vf;
    if (auto dropped = drop_reservation(*vf, domain_name, ctx); !dropped)
      removal.left_behind = "VF " + vf->to_string() +
                            " stays reserved (dropping it failed: " + dropped.error().message +
                            "); `vfctl gc` drops it";
  }
  ctx.log.info("domain " + printable(domain_name, 255) + ": port " + alias + " removed");
  return removal;
}

Result<PortListing> list_ports(const std::optional<std::string>& only, Libvirt& libvirt,
                               EngineContext& ctx) {
  std::vector<DomainSummary> domains;
  if (only) {
    VF_ASSIGN(active, libvirt.is_active(*only));
    domains.push_back({*only, active, true});
  } else {
    VF_ASSIGN(all, libvirt.list_domains());
    domains = std::move(all);
  }
  VF_ASSIGN(holdings, read_holdings(ctx.store));
  const std::vector<Claim>& claims = holdings.claims;
  const std::vector<Reservation>& reservations = holdings.reservations;
  PortListing listing;
  for (const DomainSummary& summary : domains) {
    if (!summary.persistent) continue;
    auto domain = persistent_definition(summary.name, libvirt);
    if (!domain) {
      if (only) return fail(domain.error());
      listing.problems.push_back(domain.error().message);
      continue;
    }
    auto records = domain->port_records();
    if (!records) {
      listing.problems.push_back("domain '" + summary.name + "': " + records.error().message);
      records = std::vector<PortRecord>{};
    }
    for (const VfPort& port : domain->vf_ports()) {
      ListedPort listed;
      listed.domain = summary.name;
      listed.domain_running = summary.active;
      listed.port = port;
      if (const PortRecord* record = find_record(*records, port)) listed.record = *record;
      for (const Reservation& r : reservations)
        if (port.host && r.vf == *port.host && r.domain == summary.name) listed.reservation = r;
      for (const Claim& c : claims)
        if (port.host && c.vf == *port.host && c.domain == summary.name) listed.claim = c;
      listing.ports.push_back(std::move(listed));
    }
  }
  return listing;
}

}  // namespace vfhook
