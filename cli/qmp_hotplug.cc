#include "cli/qmp_hotplug.h"

#include <algorithm>
#include <set>

#include "engine/operations.h"
#include "engine/port_allocation.h"
#include "model/names.h"
#include "qmp/commands.h"
#include "qmp/json.h"
#include "util/printable.h"
#include "vfio/pci_topology.h"

namespace vfhook {
namespace {

constexpr uint64_t kGiB = uint64_t{1} << 30;
// Far above any guest today (4 PiB), and low enough that RAM + 1 GiB cannot overflow.
constexpr int64_t kMaxGuestRamBytes = int64_t{1} << 52;
// A host address QEMU formats as "dddd:bb:ss.f"; anything much longer is not one.
constexpr size_t kMaxHostAddressBytes = 64;

}  // namespace

std::string qmp_claim_owner(const std::string& name) {
  return std::string(kQmpClaimPrefix) + name;
}

bool is_qmp_claim_owner(std::string_view owner) {
  return owner.substr(0, kQmpClaimPrefix.size()) == kQmpClaimPrefix;
}

namespace {

Status check_domain(const std::string& domain) {
  if (is_safe_name(domain)) return ok();
  return fail(ErrorKind::invalid_input,
              "domain name '" + printable(domain, 255) +
                  "' refused: with --qmp it is only the name the claims are recorded under, and "
                  "must be 1..64 of [A-Za-z0-9_.:-] (not \".\" or \"..\")");
}

void collect_ids(const std::vector<QmpPciDevice>& devices, std::set<std::string>& ids) {
  for (const QmpPciDevice& device : devices) {
    if (!device.qdev_id.empty()) ids.insert(device.qdev_id);
    collect_ids(device.children, ids);  // depth bounded by parse_query_pci
  }
}

// The QOM ids of every PCI device of the guest.
std::set<std::string> device_ids(const std::vector<QmpPciBus>& buses) {
  std::set<std::string> ids;
  for (const QmpPciBus& bus : buses) collect_ids(bus.devices, ids);
  return ids;
}

std::string bytes_text(uint64_t bytes) {
  if (bytes == UINT64_MAX) return "unlimited";
  if (bytes % kGiB == 0) return std::to_string(bytes / kGiB) + " GiB";
  if (bytes % 1024 == 0) return std::to_string(bytes / 1024) + " KiB";
  return std::to_string(bytes) + " bytes";
}

// What libvirt does for a QEMU it starts with a VFIO device: QEMU opens /dev/vfio/<group>
// (and /dev/vfio/vfio, which is world-accessible) and pins all guest RAM for DMA, counted
// against RLIMIT_MEMLOCK. Each change made is appended to `changes`.
Status give_qemu_the_vf(const QemuProcess& qemu, const PciAddress& vf, uint64_t guest_ram,
                        ProcessControl& process, EngineContext& ctx,
                        std::vector<std::string>& changes) {
  if (qemu.uid != 0) {
    PciTopology topology(ctx.sysfs);
    VF_ASSIGN(group, with_context(topology.iommu_group(vf), "VF " + vf.to_string()));
    const std::string node = "/dev/vfio/" + std::to_string(group);
    VF_TRY(process.chown_path(node, qemu.uid, qemu.gid));
    changes.push_back(node + " given to QEMU's user (uid " + std::to_string(qemu.uid) + ", gid " +
                      std::to_string(qemu.gid) + ")");
  }
  const uint64_t wanted = guest_ram + kGiB;
  VF_ASSIGN(limit, process.memlock_limit(qemu.pid));
  if (limit < wanted) {
    VF_TRY(process.raise_memlock(qemu.pid, wanted));
    changes.push_back("RLIMIT_MEMLOCK of QEMU (pid " + std::to_string(qemu.pid) + ") raised from " +
                      bytes_text(limit) + " to " + bytes_text(wanted) + " (guest RAM + 1 GiB)");
  }
  return ok();
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += (text.empty() ? "" : "; ") + line;
  return text;
}

}  // namespace

Result<uint64_t> query_guest_ram(QmpClient& client, Clock::Duration timeout) {
  VF_ASSIGN(value, client.execute("query-memory-size-summary", nullptr, timeout));
  const std::string where = "query-memory-size-summary: return";
  if (!json_object_is_type(value.get(), json_type_object))
    return fail(ErrorKind::invalid_input,
                where + ": expected an object, got " +
                    std::string(json_type_phrase(json_object_get_type(value.get()))));
  VF_ASSIGN(base, json_int_member(value.get(), "base-memory", where, 1, kMaxGuestRamBytes));
  int64_t plugged = 0;
  VF_ASSIGN(has_plugged, json_member(value.get(), "plugged-memory", json_type_int, where, false));
  if (has_plugged) {
    VF_ASSIGN(read, json_int_member(value.get(), "plugged-memory", where, 0, kMaxGuestRamBytes));
    plugged = read;
  }
  return static_cast<uint64_t>(base) + static_cast<uint64_t>(plugged);
}

Result<QmpAttachment> attach_port_qmp(const std::string& name, const PortSpec& spec,
                                      QmpClient& client, const QemuProcess& qemu,
                                      ProcessControl& process, EngineContext& ctx,
                                      const QmpHotplugTimeouts& timeouts,
                                      std::string& left_behind) {
  left_behind.clear();
  VF_TRY(check_domain(name));
  const std::string domain = qmp_claim_owner(name);
  const std::string where = "domain '" + domain + "'";
  if (spec.ip)
    return fail(ErrorKind::invalid_input,
                "--ip is for libvirt's DHCP reservations; with --qmp there is no network "
                "definition to hold it");
  if (spec.alias && (!is_valid_user_alias(*spec.alias) || !is_valid_qom_id(*spec.alias)))
    return fail(ErrorKind::invalid_input,
                "alias '" + printable(*spec.alias) +
                    "' refused: a new device needs an alias 'ua-' followed by [A-Za-z0-9_-]");
  if (qemu.pid <= 0)
    return fail(ErrorKind::invalid_input,
                "the QMP socket does not tell QEMU's process id (it runs in a pid namespace "
                "vfctl cannot see): run vfctl in QEMU's pid namespace");

  // Everything asked of QEMU before anything changes.
  VF_ASSIGN(guest_ram, with_context(query_guest_ram(client, timeouts.command), where));
  VF_ASSIGN(buses, with_context(query_pci(client, timeouts.command), where));
  VF_ASSIGN(root_port, with_context(free_root_port(buses), where));
  const std::set<std::string> ids = device_ids(buses);
  VF_ASSIGN(claims, claims_of_domain(domain, ctx));

  QmpAttachment attachment;
  attachment.domain = domain;
  attachment.root_port = root_port;
  attachment.qemu = qemu;
  attachment.guest_ram_bytes = guest_ram;
  if (spec.alias) {
    if (ids.count(*spec.alias))
      return fail(ErrorKind::conflict, where + ": QEMU already has a device '" + *spec.alias +
                                           "': give the port another --alias");
    attachment.alias = *spec.alias;
  }
  for (int n = 0; attachment.alias.empty(); ++n)
    if (!ids.count("ua-vfhook" + std::to_string(n)))
      attachment.alias = "ua-vfhook" + std::to_string(n);
  const std::string& alias = attachment.alias;
  attachment.mac = spec.mac.value_or(derived_port_mac(domain, alias));
  VfRequest request{domain, spec.pool, {}, {}};
  for (const Claim& claim : claims) {
    request.in_use_by_domain.push_back(claim.vf);
    if (claim.mac == attachment.mac)
      return fail(ErrorKind::conflict, where + ": its VF " + claim.vf.to_string() +
                                           " already has MAC " + attachment.mac.to_string() +
                                           ": give the port another --mac");
  }
  VF_ASSIGN(vf, with_context(choose_free_vf(request, ctx), where));
  attachment.vf = vf;

  attachment.record = port_record_for(spec, alias);  // --ip was refused above
  attachment.record.mac = attachment.mac;
  const PortRecord& record = attachment.record;
  // The domain as the engine sees it: only the new port, a plain <hostdev> whose MAC and VLAN
  // vfhook's prepare sets from the record. The name is a safe name: nothing to escape.
  VF_ASSIGN(named, DomainXml::parse("<domain type='kvm'><name>" + domain +
                                    "</name><devices></devices></domain>"));
  VF_ASSIGN(port_only, named.with_hostdev(HostdevSpec{vf.vf, false, alias}, record));

  Outcome prepared = prepare_domain(domain, port_only, ctx);
  if (!prepared.ok()) {
    Error error{prepared.error ? prepared.error->kind : ErrorKind::policy,
                where + ": " + outcome_text(prepared), 0};
    // prepare keeps the claim of a VF it could not roll back (libvirt would run release
    // next; nothing will here).
    if (std::string problem = undo_claim(domain, vf.vf, ctx); !problem.empty()) {
      left_behind = "VF " + vf.vf.to_string() + " could not be restored: " + problem;
      error.message += "; " + left_behind;
    } else {
      error.message += "; nothing was changed";
    }
    return fail(std::move(error));
  }

  // Undoes the steps so far in reverse. The group node's owner and QEMU's memlock limit are
  // not put back: QEMU runs on and may be given another VF, and a higher limit only lets it
  // pin memory it already has (libvirt does not lower them at unplug either).
  auto undo_with = [&](Error error, bool device_may_be_in_guest) -> Result<QmpAttachment> {
    if (device_may_be_in_guest) {
      if (auto gone = device_del_and_wait(client, alias, timeouts.unplug); !gone)
        left_behind = "QEMU may still have device " + alias + " (VF " + vf.vf.to_string() +
                      "): " + gone.error().message + "; the VF stays claimed by " + where +
                      ": once the guest let go, run vfctl detach " + name + " " + alias +
                      " --qmp SOCKET";
    }
    if (left_behind.empty()) {
      if (std::string problem = undo_claim(domain, vf.vf, ctx); !problem.empty())
        left_behind = "VF " + vf.vf.to_string() + " could not be restored: " + problem;
    }
    error.message += left_behind.empty() ? "; every step was undone" : "; " + left_behind;
    if (!attachment.host_changes.empty())
      error.message += " (kept for QEMU: " + joined(attachment.host_changes) + ")";
    return fail(std::move(error));
  };

  if (auto given = give_qemu_the_vf(qemu, vf.vf, guest_ram, process, ctx, attachment.host_changes);
      !given)
    return undo_with(
        given.error().with_context(where + ": QEMU (pid " + std::to_string(qemu.pid) + ")"), false);
  if (auto added = device_add_vfio(client, vf.vf, alias, root_port, timeouts.device_add); !added) {
    // QEMU's refusal (an error reply) means no device; no reply (a timeout, a broken
    // connection) leaves it unknown, so the undo asks QEMU to remove it.
    const ErrorKind kind = added.error().kind;
    const bool refused = kind == ErrorKind::conflict || kind == ErrorKind::not_found;
    return undo_with(added.error().with_context(where), !refused);
  }
  Outcome started = start_domain(domain, port_only, ctx);
  if (!started.ok())
    return undo_with(Error{started.error ? started.error->kind : ErrorKind::policy,
                           where + ": " + outcome_text(started), 0},
                     true);

  ctx.log.info("domain " + domain + " (QMP, QEMU pid " + std::to_string(qemu.pid) + "): port " +
               alias + " attached: VF " + vf.vf.to_string() + " into " + root_port);
  for (const std::string& change : attachment.host_changes)
    ctx.log.info("domain " + domain + ": " + change);
  return attachment;
}

Result<Detachment> detach_port_qmp(const std::string& name, const std::string& alias,
                                   QmpClient& client, EngineContext& ctx,
                                   const QmpHotplugTimeouts& timeouts) {
  VF_TRY(check_domain(name));
  const std::string domain = qmp_claim_owner(name);
  if (!is_valid_qom_id(alias))
    return fail(ErrorKind::invalid_input,
                "device id '" + printable(alias) +
                    "' refused: a QOM id is a letter, then letters, digits, '-', '.', '_'");
  const std::string where = "domain '" + domain + "': device " + alias;

  // The VF the device has: vfio-pci's "host" property, "dddd:bb:ss.f".
  JsonPtr arguments(json_object_new_object());
  const std::string path = "/machine/peripheral/" + alias;
  json_object_object_add(arguments.get(), "path", json_object_new_string(path.c_str()));
  json_object_object_add(arguments.get(), "property", json_object_new_string("host"));
  auto host = client.execute("qom-get", std::move(arguments), timeouts.command);
  if (!host) {
    if (host.error().kind == ErrorKind::not_found)
      return fail(ErrorKind::not_found,
                  where + ": QEMU has no such device (" + host.error().message + ")");
    if (host.error().kind == ErrorKind::conflict)
      return fail(ErrorKind::policy, where + ": not a vfio-pci device with a host address (" +
                                         host.error().message + "); vfctl detaches only VFs");
    return fail(host.error().with_context(where));
  }
  if (!json_object_is_type(host->get(), json_type_string))
    return fail(ErrorKind::invalid_input,
                where + ": qom-get host: expected a string, got " +
                    std::string(json_type_phrase(json_object_get_type(host->get()))));
  const std::string_view text(json_object_get_string(host->get()),
                              static_cast<size_t>(json_object_get_string_len(host->get())));
  Result<PciAddress> vf = fail(ErrorKind::invalid_input, "too long for a PCI address");
  if (text.size() <= kMaxHostAddressBytes) vf = PciAddress::parse(text);
  if (!vf)
    return fail(ErrorKind::policy, where + ": its host '" + printable(text, 80) +
                                       "' is not a PCI address; vfctl detaches only VFs it "
                                       "attached");
  VF_ASSIGN(claims, claims_of_domain(domain, ctx));
  if (std::none_of(claims.begin(), claims.end(), [&](const Claim& c) { return c.vf == *vf; }))
    return fail(ErrorKind::policy, where + ": its host device " + vf->to_string() +
                                       " is not a VF claimed by domain '" + domain +
                                       "'; nothing was changed");

  Detachment detachment{domain, alias, *vf, false, {}};
  if (auto gone = device_del_and_wait(client, alias, timeouts.unplug); !gone) {
    if (gone.error().kind != ErrorKind::timeout) return fail(gone.error().with_context(where));
    detachment.left_behind = gone.error().message + ". Nothing else was changed: VF " +
                             vf->to_string() +
                             " stays claimed. Try again once the guest has unloaded its "
                             "driver, or stop QEMU";
    return detachment;
  }
  detachment.released = true;
  if (std::string problem = undo_claim(domain, *vf, ctx); !problem.empty())
    detachment.left_behind =
        "VF " + vf->to_string() + " left the guest but could not be restored: " + problem;
  ctx.log.info("domain " + domain + " (QMP): port " + alias + " detached: VF " + vf->to_string());
  return detachment;
}

Result<QmpConnection> connect_qmp(const std::string& socket_path, Clock& clock,
                                  const QmpHotplugTimeouts& timeouts) {
  const Clock::TimePoint deadline = clock.now() + timeouts.command;
  VF_ASSIGN(transport, UnixSocketTransport::connect(socket_path, clock, deadline));
  VF_ASSIGN(peer, transport->peer_credentials());
  VF_ASSIGN(client, QmpClient::start(std::move(transport), socket_path, clock,
                                     std::max(deadline - clock.now(), Clock::Duration::zero())));
  return QmpConnection{std::move(client), QemuProcess{peer.pid, peer.uid, peer.gid}};
}

Result<QmpAttachment> attach_port_qmp(const std::string& domain, const PortSpec& spec,
                                      const std::string& socket_path, ProcessControl& process,
                                      EngineContext& ctx, const QmpHotplugTimeouts& timeouts,
                                      std::string& left_behind) {
  left_behind.clear();
  VF_TRY(check_domain(domain));
  VF_ASSIGN(connection, connect_qmp(socket_path, ctx.clock, timeouts));
  return attach_port_qmp(domain, spec, connection.client, connection.qemu, process, ctx, timeouts,
                         left_behind);
}

Result<Detachment> detach_port_qmp(const std::string& domain, const std::string& alias,
                                   const std::string& socket_path, EngineContext& ctx,
                                   const QmpHotplugTimeouts& timeouts) {
  VF_TRY(check_domain(domain));
  VF_ASSIGN(connection, connect_qmp(socket_path, ctx.clock, timeouts));
  return detach_port_qmp(domain, alias, connection.client, ctx, timeouts);
}

}  // namespace vfhook
