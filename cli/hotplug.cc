#include "cli/hotplug.h"

#include <algorithm>

#include "cli/command_log.h"
#include "engine/claims.h"
#include "engine/operations.h"
#include "engine/port_allocation.h"
#include "util/printable.h"

namespace vfhook {
namespace {

// The domain reduced to one port: what the engine's prepare and start see of it.
Result<DomainXml> port_only_domain(const std::string& domain_name,
                                   const HostdevInterfaceSpec& element, const PortRecord& record) {
  VF_ASSIGN(named, DomainXml::parse("<domain type='kvm'><name>" + domain_name +
                                    "</name><devices></devices></domain>"));
  return named.with_hostdev_interface(element, record);
}

// The domain reduced to the one new port.
Result<DomainXml> just_the_port(const DomainXml& live, const PortAddition& addition) {
  HostdevInterfaceSpec element;
  element.host = addition.vf.vf;
  element.mac = addition.mac;
  if (addition.record.vlan && addition.record.vlan->id != 0)
    element.vlan_tag = addition.record.vlan->id;
  element.alias = addition.alias;
  return port_only_domain(live.name(), element, addition.record);
}

}  // namespace

std::string outcome_text(const Outcome& outcome) {
  if (outcome.error) return outcome.error->message;
  std::string text;
  for (const Refusal& refusal : outcome.refusals) {
    if (!text.empty()) text += "; ";
    text += refusal.subject.empty() ? refusal.reason : refusal.subject + ": " + refusal.reason;
  }
  for (const std::string& failure : outcome.undo_failures) text += "; undo failed: " + failure;
  return text;
}

Result<std::vector<Claim>> claims_of_domain(const std::string& domain, EngineContext& ctx) {
  std::vector<Claim> found;
  VF_TRY(ctx.store.transaction([&](StoreTransaction& txn) -> Status {
    VF_ASSIGN(claims, txn.claims());
    for (const Claim& claim : claims)
      if (claim.domain == domain) found.push_back(claim);
    return ok();
  }));
  return found;
}

std::string undo_claim(const std::string& domain, const PciAddress& vf, EngineContext& ctx) {
  auto claims = claims_of_domain(domain, ctx);
  if (!claims) return claims.error().message;
  std::vector<Claim> of_vf;
  for (const Claim& claim : *claims)
    if (claim.vf == vf) of_vf.push_back(claim);
  std::vector<std::string> problems;
  if (auto released = release_claims(of_vf, ctx, problems); !released)
    return released.error().message;
  std::string text;
  for (const std::string& problem : problems) text += (text.empty() ? "" : "; ") + problem;
  return text;
}

namespace {

Result<Attachment> attach_port_unlogged(const std::string& domain_name, const PortSpec& spec,
                                        bool persistent, Libvirt& libvirt, EngineContext& ctx) {
  VF_ASSIGN(running, libvirt.is_active(domain_name));
  if (!running)
    return fail(ErrorKind::conflict, "domain '" + domain_name +
                                         "' is not running: use vfctl port add, and the port "
                                         "comes with the next start");
  VF_ASSIGN(live_xml, libvirt.domain_xml(domain_name, true));
  VF_ASSIGN(live,
            with_context(DomainXml::parse(live_xml), "the live XML of '" + domain_name + "'"));

  // The port is worked out against the live domain (the VFs it uses now are never chosen),
  // and its definition gets the same port when `persistent`.
  PortSpec chosen = spec;
  if (!chosen.alias) {
    // Free in the running domain and in its definition (a device attached without
    // --persistent is only in the first).
    VF_ASSIGN(definition_xml, libvirt.domain_xml(domain_name, false));
    const std::string both = live_xml + definition_xml;
    for (int n = 0; !chosen.alias; ++n) {
      const std::string alias = "ua-vfhook" + std::to_string(n);
      if (both.find("'" + alias + "'") == std::string::npos &&
          both.find("\"" + alias + "\"") == std::string::npos)
        chosen.alias = alias;
    }
  }
  VF_ASSIGN(addition, plan_port_addition(domain_name, chosen, libvirt, ctx));
  for (const VfPort& port : live.vf_ports()) {
    if (port.host && *port.host == addition.vf.vf)
      return fail(ErrorKind::conflict, "VF " + addition.vf.vf.to_string() +
                                           " is already in the running domain; try again");
    if (port.alias == addition.alias)
      return fail(ErrorKind::conflict, "the running domain already has a device '" +
                                           addition.alias + "': give the port another --alias");
  }
  VF_ASSIGN(port_only, just_the_port(live, addition));

  Outcome prepared = prepare_domain(domain_name, port_only, ctx);
  if (!prepared.ok())
    return fail(prepared.error ? prepared.error->kind : ErrorKind::policy,
                "domain '" + domain_name + "': " + outcome_text(prepared));

  auto undo_with = [&](Error error, bool detach) -> Result<Attachment> {
    std::string left;
    if (detach) {
      auto gone =
          libvirt.detach_device_and_wait(domain_name, addition.alias, std::chrono::seconds(30));
      if (!gone || !*gone)
        left = "the guest still has " + addition.alias + " (VF " + addition.vf.vf.to_string() +
               "): detach it with vfctl detach " + domain_name + " " + addition.alias;
    }
    if (left.empty()) {
      if (std::string problem = undo_claim(domain_name, addition.vf.vf, ctx); !problem.empty())
        left = "VF " + addition.vf.vf.to_string() + " could not be restored: " + problem;
    }
    error.message += left.empty() ? "; every step was undone" : "; " + left;
    return fail(std::move(error));
  };

  if (auto attached = libvirt.attach_device(domain_name, addition.interface_xml); !attached)
    return undo_with(attached.error().with_context("domain '" + domain_name + "'"), false);
  Outcome started = start_domain(domain_name, port_only, ctx);
  if (!started.ok())
    return undo_with(Error{started.error ? started.error->kind : ErrorKind::policy,
                           "domain '" + domain_name + "': " + outcome_text(started), 0},
                     true);

  Attachment attachment{addition, persistent, {}};
  if (persistent) {
    VfRequest request{domain_name, spec.pool, {}, {}};
    auto reserved = reserve_vf(addition.vf.vf, request, ctx);
    auto defined = reserved ? libvirt.define_xml(addition.domain_xml) : Status(reserved);
    if (!defined) {
      if (reserved) (void)drop_reservation(addition.vf.vf, domain_name, ctx);
      attachment.left_behind =
          "the guest has the port now, but its definition was not "
          "updated (" +
          defined.error().message +
          "): it goes away at the next stop; vfctl port add makes it "
          "permanent";
    }
  }
  return attachment;
}

Result<Detachment> detach_port_unlogged(const std::string& domain_name, const std::string& alias,
                                        bool persistent, std::chrono::milliseconds timeout,
                                        Libvirt& libvirt, EngineContext& ctx) {
  VF_ASSIGN(live_xml, libvirt.domain_xml(domain_name, true));
  VF_ASSIGN(live,
            with_context(DomainXml::parse(live_xml), "the live XML of '" + domain_name + "'"));
  auto port = std::find_if(live.vf_ports().begin(), live.vf_ports().end(),
                           [&](const VfPort& p) { return p.alias == alias; });
  if (port == live.vf_ports().end())
    return fail(ErrorKind::not_found, "the running domain '" + domain_name +
                                          "' has no VF port with alias '" + printable(alias) +
                                          "'; `virsh dumpxml " + domain_name +
                                          "` shows its devices with their aliases");
  Detachment detachment{domain_name, alias, port->host, false, {}};

  VF_ASSIGN(removed, libvirt.detach_device_and_wait(domain_name, alias, timeout));
  if (removed) {
    // The event said so; the live XML must agree before the VF is touched.
    VF_ASSIGN(after_xml, libvirt.domain_xml(domain_name, true));
    VF_ASSIGN(after, DomainXml::parse(after_xml));
    removed = std::none_of(after.vf_ports().begin(), after.vf_ports().end(),
                           [&](const VfPort& p) { return p.alias == alias; });
  }
  if (!removed) {
    detachment.left_behind =
        "the guest did not release " + alias + " within " +
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) +
        " s: it still has the device, and nothing else was changed. Try again once the guest "
        "has unloaded its driver, or stop the domain";
    return detachment;
  }
  if (port->host) {
    if (std::string problem = undo_claim(domain_name, *port->host, ctx); !problem.empty())
      detachment.left_behind =
          "VF " + port->host->to_string() + " left the guest but could not be restored: " + problem;
  }
  detachment.released = true;
  if (persistent) {
    auto definition = libvirt.domain_xml(domain_name, false);
    auto parsed =
        definition ? DomainXml::parse(*definition) : Result<DomainXml>(fail(definition.error()));
    bool in_definition = parsed && std::any_of(parsed->vf_ports().begin(), parsed->vf_ports().end(),
                                               [&](const VfPort& p) { return p.alias == alias; });
    if (in_definition) {
      auto edited = parsed->without_port(alias);
      auto defined =
          edited ? libvirt.define_xml(edited->serialize()) : Status(fail(edited.error()));
      if (!defined) {
        detachment.left_behind += (detachment.left_behind.empty() ? "" : "; ") +
                                  std::string("the definition still has ") + alias + ": " +
                                  defined.error().message;
      } else if (port->host) {
        (void)drop_reservation(*port->host, domain_name, ctx);
      }
    }
  }
  return detachment;
}

}  // namespace

Result<Attachment> attach_port(const std::string& domain_name, const PortSpec& spec,
                               bool persistent, Libvirt& libvirt, EngineContext& ctx) {
  Result<Attachment> result = attach_port_unlogged(domain_name, spec, persistent, libvirt, ctx);
  ctx.log.record(attach_entry(domain_name, spec, result));
  return result;
}

Result<Detachment> detach_port(const std::string& domain_name, const std::string& alias,
                               bool persistent, std::chrono::milliseconds timeout, Libvirt& libvirt,
                               EngineContext& ctx) {
  Result<Detachment> result =
      detach_port_unlogged(domain_name, alias, persistent, timeout, libvirt, ctx);
  ctx.log.record(detach_entry(domain_name, alias, result));
  return result;
}

Status reattach_port(const std::string& domain_name, const HostdevInterfaceSpec& element,
                     const PortRecord& record, Libvirt& libvirt, EngineContext& ctx) {
  const std::string who = "port " + element.alias + " (VF " + element.host.to_string() + ")";
  VF_ASSIGN(port_only, port_only_domain(domain_name, element, record));
  VF_ASSIGN(interface_xml, render_hostdev_interface(element));
  Outcome prepared = prepare_domain(domain_name, port_only, ctx);
  if (!prepared.ok())
    return fail(prepared.error ? prepared.error->kind : ErrorKind::policy,
                who + ": " + outcome_text(prepared));
  auto undo_with = [&](std::string message, bool detach) -> Status {
    std::string left;
    if (detach) {
      auto gone =
          libvirt.detach_device_and_wait(domain_name, element.alias, std::chrono::seconds(30));
      if (!gone || !*gone) left = "the guest may still have " + element.alias;
    }
    if (left.empty())
      if (std::string problem = undo_claim(domain_name, element.host, ctx); !problem.empty())
        left = "VF " + element.host.to_string() + " could not be restored: " + problem;
    return fail(ErrorKind::os,
                who + ": " + message + (left.empty() ? "; every step was undone" : "; " + left));
  };
  if (auto attached = libvirt.attach_device(domain_name, interface_xml); !attached)
    return undo_with(attached.error().message, false);
  Outcome started = start_domain(domain_name, port_only, ctx);
  if (!started.ok()) return undo_with(outcome_text(started), true);
  ctx.log.info("domain " + printable(domain_name, 255) + ": port " + element.alias +
               " re-attached: VF " + element.host.to_string());
  return ok();
}

}  // namespace vfhook
