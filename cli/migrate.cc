#include "cli/migrate.h"

#include <algorithm>

#include "cli/command_log.h"
#include "cli/hotplug.h"
#include "engine/claims.h"
#include "engine/operations.h"
#include "engine/port_allocation.h"
#include "model/move_marker.h"
#include "util/printable.h"
#include "xml/domain_xml.h"

namespace vfhook {
namespace {

constexpr std::chrono::milliseconds kShutdownPoll{500};

std::string quoted(const std::string& domain) {
  return "'" + printable(domain, 255) + "'";
}

// Asks a running guest to shut down and waits for it (then, with force_off, stops it).
Status shut_down(const MigrationRequest& request, Libvirt& source, EngineContext& ctx,
                 const MigrationProgress& progress, MigrationReport& report) {
  const std::string name = quoted(request.domain);
  progress("asking " + name + " to shut down (waiting up to " +
           std::to_string(request.shutdown_timeout.count()) + " s)");
  VF_TRY(source.shutdown(request.domain));
  report.shut_down = true;
  const auto deadline = ctx.clock.now() + request.shutdown_timeout;
  while (true) {
    VF_ASSIGN(active, source.is_active(request.domain));
    if (!active) return ok();
    if (ctx.clock.now() >= deadline) break;
    ctx.clock.sleep_for(kShutdownPoll);
  }
  if (!request.force_off)
    return fail(ErrorKind::conflict,
                name + " did not shut down within " +
                    std::to_string(request.shutdown_timeout.count()) +
                    " s and still runs on this host; nothing was moved. Shut it down from "
                    "inside the guest, give it longer (--shutdown-timeout), or stop it hard "
                    "with --force-off");
  progress(name + " still runs after " + std::to_string(request.shutdown_timeout.count()) +
           " s: stopping it (--force-off)");
  VF_TRY(source.destroy(request.domain));
  report.forced_off = true;
  return ok();
}

// The VF ports of a definition read through `libvirt`.
Result<std::vector<VfPort>> ports_of(Libvirt& libvirt, const std::string& domain, bool live) {
  VF_ASSIGN(xml, libvirt.domain_xml(domain, live));
  VF_ASSIGN(parsed, DomainXml::parse(xml));
  return parsed.vf_ports();
}

// Refuses a destination that already has a domain of that name (libvirt would refuse too, but
// only after the guest was shut down here).
Status check_destination_free(const MigrationRequest& request, Libvirt& dest) {
  auto exists = dest.is_active(request.domain);
  if (exists)
    return fail(ErrorKind::conflict, "a domain named " + quoted(request.domain) +
                                         " already exists at " + request.dest_uri +
                                         "; nothing was done. Remove or rename one of them first");
  if (exists.error().kind != ErrorKind::not_found) return fail(exists.error());
  return ok();
}

// After the move: this host's reservations for the domain go (the destination holds its own
// now), and claims a stopped domain left behind are released (the release hook normally did
// that when its QEMU ended). Problems go to report.left_behind.
void leave_source(const std::string& domain, EngineContext& ctx, MigrationReport& report) {
  auto claims = claims_of_domain(domain, ctx);
  if (claims && !claims->empty()) {
    Outcome released = release_domain(domain, ctx);
    if (!released.ok() || !released.problems.empty())
      report.left_behind +=
          "the VFs " + quoted(domain) +
          " still held on this host were not all restored: " + outcome_text(released) + ". ";
  } else if (!claims) {
    report.left_behind += "cannot read this host's claims: " + claims.error().message + ". ";
  }
  auto holdings = read_holdings(ctx.store);
  if (!holdings) {
    report.left_behind +=
        "cannot read this host's reservations (run `vfctl gc` later): " + holdings.error().message +
        ". ";
    return;
  }
  for (const Reservation& reservation : holdings->reservations) {
    if (reservation.domain != domain) continue;
    if (auto dropped = drop_reservation(reservation.vf, domain, ctx); !dropped)
      report.left_behind +=
          "the reservation of VF " + reservation.vf.to_string() +
          " on this host stays (run `vfctl gc` later): " + dropped.error().message + ". ";
    else
      report.dropped_reservations.push_back(reservation.vf);
  }
}

// Pairs this host's ports with the destination's, by position: libvirt's ABI check keeps the
// devices and their order.
void pair_ports(const std::vector<VfPort>& here, const std::vector<VfPort>& there,
                MigrationReport& report) {
  for (size_t i = 0; i < here.size(); ++i) {
    MovedPort moved{here[i].describe(), here[i].host, std::nullopt};
    if (i < there.size()) moved.to = there[i].host;
    report.ports.push_back(std::move(moved));
  }
}

std::string move_lines(const MigrationReport& report, const std::string& dest_uri) {
  std::string out;
  for (const MovedPort& port : report.ports)
    out += "  " + port.port + ": " + (port.from ? port.from->to_string() : "(none)") + " here -> " +
           (port.to ? port.to->to_string() : "(chosen at start)") + " on " + dest_uri + "\n";
  return out;
}

Result<MigrationReport> migrate_cold(const MigrationRequest& request, Libvirt& source,
                                     Libvirt& dest, EngineContext& ctx,
                                     const MigrationProgress& progress) {
  const std::string name = quoted(request.domain);
  MigrationReport report;
  report.domain = request.domain;
  report.dest_uri = request.dest_uri;
  report.kind = request.kind;
  VF_ASSIGN(active, source.is_active(request.domain));
  VF_TRY(check_destination_free(request, dest));
  if (active) {
    if (!request.shutdown)
      return fail(ErrorKind::conflict,
                  name +
                      " is running: a cold migration moves it switched off. Shut it down "
                      "first, or pass --shutdown (vfctl asks the guest to shut down, waits, "
                      "and with --force-off stops it hard); or move it live with --live if "
                      "its VF ports have virtio failover");
    VF_TRY(shut_down(request, source, ctx, progress, report));
  }
  VF_ASSIGN(here, ports_of(source, request.domain, false));

  VF_ASSIGN(marker,
            render_move_marker(MoveMarker{request.now_unix + kColdMoveMarkerLifetimeSeconds}));
  const std::string stays_here =
      name +
      " is still defined on this host, switched off, with its VFs reserved here; start "
      "it here with `virsh start " +
      printable(request.domain, 255) + "`, or fix the cause and run vfctl migrate again";
  if (auto marked =
          source.set_config_metadata(request.domain, kMoveNamespace, kMoveNamespacePrefix, marker);
      !marked)
    return fail(marked.error().kind, "cannot mark " + name + " for a cold move: " +
                                         marked.error().message + ". " + stays_here);

  progress("moving the definition of " + name + " to " + request.dest_uri +
           " (offline migration; the destination's hook picks its VFs)");
  if (auto moved = source.migrate(request.domain, request.dest_uri, MigrationKind::offline);
      !moved) {
    std::string message = "cold migration of " + name + " to " + request.dest_uri +
                          " failed: " + moved.error().message + ". " + stays_here;
    if (auto unmarked = source.set_config_metadata(request.domain, kMoveNamespace,
                                                   kMoveNamespacePrefix, std::nullopt);
        !unmarked)
      message += " (its cold-move marker could not be removed and expires by itself in " +
                 std::to_string(kColdMoveMarkerLifetimeSeconds / 60) +
                 " minutes: " + unmarked.error().message + ")";
    return fail(moved.error().kind, std::move(message));
  }

  // From here on the domain lives on the destination: failures are left_behind, not errors.
  auto there = ports_of(dest, request.domain, false);
  if (there)
    pair_ports(here, *there, report);
  else
    report.left_behind +=
        "cannot read the definition at " + request.dest_uri + ": " + there.error().message + ". ";
  if (auto xml = dest.domain_xml(request.domain, false);
      xml && xml->find(kMoveNamespace) != std::string::npos) {
    // A destination whose hook did not strip the marker (an older vfhook, or none).
    if (auto unmarked = dest.set_config_metadata(request.domain, kMoveNamespace,
                                                 kMoveNamespacePrefix, std::nullopt);
        !unmarked)
      report.left_behind += "the cold-move marker stays in the definition at " + request.dest_uri +
                            " until it expires: " + unmarked.error().message + ". ";
  }
  leave_source(request.domain, ctx, report);
  std::string moves = move_lines(report, request.dest_uri);
  if (!moves.empty()) moves.pop_back();  // the progress line ends there
  progress(name + " is defined at " + request.dest_uri + (moves.empty() ? "" : ":\n" + moves));

  if (request.start) {
    progress("starting " + name + " at " + request.dest_uri);
    if (auto started = dest.start_domain(request.domain); started)
      report.started = true;
    else
      report.left_behind += name + " is defined at " + request.dest_uri +
                            " but did not start there: " + started.error().message +
                            ". Fix the cause there and run `virsh -c " + request.dest_uri +
                            " start " + printable(request.domain, 255) + "`. ";
  }
  return report;
}

// After a live migration with PERSIST_DEST, libvirt keeps on the destination the SOURCE's
// persistent definition (from the migration cookie), not the XML the migrate hook rewrote: its
// VF ports still name this host's VFs. Points them at the VFs the running guest has there (by
// alias, else by MAC), with the records that name a <hostdev> by address, and defines it.
// Returns "" when that worked or nothing needed it, else what is left.
std::string sync_persistent_sources(const std::string& domain, Libvirt& dest,
                                    const std::string& dest_uri) {
  auto live_xml = dest.domain_xml(domain, true);
  auto config_xml = dest.domain_xml(domain, false);
  if (!live_xml || !config_xml)
    return "cannot read the definition at " + dest_uri + " to point it at the new VFs: " +
           (!live_xml ? live_xml.error().message : config_xml.error().message) + ". ";
  auto live = DomainXml::parse(*live_xml);
  auto config = DomainXml::parse(*config_xml);
  if (!live || !config)
    return "cannot read the definition at " + dest_uri + ": " +
           (!live ? live.error().message : config.error().message) + ". ";
  auto records = config->port_records();
  if (!records)
    return "the port records at " + dest_uri + " are invalid: " + records.error().message;
  std::vector<PortRecord> new_records = *records;
  bool changed = false, records_changed = false;
  for (const VfPort& port : config->vf_ports()) {
    const VfPort* running = nullptr;
    for (const VfPort& candidate : live->vf_ports()) {
      const bool same = !port.alias.empty() ? candidate.alias == port.alias
                                            : port.mac && candidate.mac == port.mac;
      if (same) running = &candidate;
    }
    if (!running || !running->host || !port.host || *running->host == *port.host) continue;
    if (auto set = config->set_host_source(port.ordinal, *running->host); !set)
      return "cannot point " + port.describe() + " at " + running->host->to_string() + ": " +
             set.error().message + ". ";
    changed = true;
    const PortRecord* record = find_record(*records, port);
    if (port.kind == PortKind::hostdev && record && record->host && *record->host == *port.host) {
      new_records[static_cast<size_t>(record - records->data())].host = running->host;
      records_changed = true;
    }
  }
  if (!changed) return "";
  if (records_changed)
    if (auto set = config->set_port_records(new_records); !set)
      return "cannot update the port records at " + dest_uri + ": " + set.error().message + ". ";
  if (auto defined = dest.define_xml(config->serialize()); !defined)
    return "the definition at " + dest_uri + " still names this host's VFs (" +
           defined.error().message + "); the next start there may be refused. ";
  return "";
}

Result<MigrationReport> migrate_live(const MigrationRequest& request, Libvirt& source,
                                     Libvirt& dest, EngineContext& ctx,
                                     const MigrationProgress& progress) {
  const std::string name = quoted(request.domain);
  MigrationReport report;
  report.domain = request.domain;
  report.dest_uri = request.dest_uri;
  report.kind = request.kind;
  VF_ASSIGN(active, source.is_active(request.domain));
  if (!active)
    return fail(ErrorKind::conflict,
                name +
                    " is not running: move it with --cold (it is started on the "
                    "destination unless --no-start)");
  VF_TRY(check_destination_free(request, dest));
  VF_ASSIGN(here, ports_of(source, request.domain, true));

  progress("migrating " + name + " live to " + request.dest_uri +
           (here.empty() ? "" : " (QEMU unplugs its VFs; the destination's hook picks new ones)"));
  if (auto moved = source.migrate(request.domain, request.dest_uri, MigrationKind::live); !moved)
    return fail(moved.error().kind,
                "live migration of " + name + " to " + request.dest_uri +
                    " failed: " + moved.error().message + ". " + name +
                    " still runs on this host with its VFs. A VF port moves live only with "
                    "virtio failover (<teaming>) into a pool with failover = true on the "
                    "destination; otherwise move it with --cold");

  auto there = ports_of(dest, request.domain, true);
  if (there)
    pair_ports(here, *there, report);
  else
    report.left_behind +=
        "cannot read the domain at " + request.dest_uri + ": " + there.error().message + ". ";
  report.left_behind += sync_persistent_sources(request.domain, dest, request.dest_uri);
  leave_source(request.domain, ctx, report);
  report.started = true;
  return report;
}

}  // namespace

Result<MigrationReport> migrate_domain_to(const MigrationRequest& request, Libvirt& source,
                                          Libvirt& dest, EngineContext& ctx,
                                          const MigrationProgress& progress) {
  Result<MigrationReport> result = request.kind == MigrationKind::live
                                       ? migrate_live(request, source, dest, ctx, progress)
                                       : migrate_cold(request, source, dest, ctx, progress);
  ctx.log.record(migrate_entry(request, result));
  return result;
}

std::string migration_text(const MigrationReport& report) {
  const std::string name = quoted(report.domain);
  std::string out;
  if (report.kind == MigrationKind::live)
    out = name + " now runs at " + report.dest_uri + "\n";
  else if (report.started)
    out = name + " moved cold to " + report.dest_uri + " and runs there\n";
  else
    out = name + " moved cold to " + report.dest_uri + " (defined there, not started)\n";
  out += move_lines(report, report.dest_uri);
  for (const PciAddress& vf : report.dropped_reservations)
    out += "  this host's reservation of " + vf.to_string() + " was dropped\n";
  return out;
}

}  // namespace vfhook
