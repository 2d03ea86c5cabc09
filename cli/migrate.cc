#include "cli/migrate.h"

#include <algorithm>

#include "cli/command_log.h"
#include "cli/hotplug.h"
#include "engine/claims.h"
#include "engine/failover_parking.h"
#include "engine/operations.h"
#include "engine/port_allocation.h"
#include "model/move_marker.h"
#include "model/names.h"
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

// Pairs this host's ports with the destination's: by alias, else by MAC, else by position
// (libvirt's ABI check keeps the devices and their order; a re-attached port comes last).
void pair_ports(const std::vector<VfPort>& here, const std::vector<VfPort>& there,
                MigrationReport& report) {
  for (size_t i = 0; i < here.size(); ++i) {
    MovedPort moved{here[i].describe(), here[i].host, std::nullopt};
    const VfPort* match = nullptr;
    for (const VfPort& candidate : there) {
      if (!here[i].alias.empty() ? candidate.alias == here[i].alias
                                 : here[i].mac && candidate.mac == here[i].mac)
        match = &candidate;
    }
    if (!match && here[i].alias.empty() && !here[i].mac && i < there.size()) match = &there[i];
    if (match) moved.to = match->host;
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

// The report of a move that has not started yet.
MigrationReport empty_report(const MigrationRequest& request) {
  MigrationReport report;
  report.domain = request.domain;
  report.dest_uri = request.dest_uri;
  report.kind = request.kind;
  return report;
}

Result<MigrationReport> migrate_cold(const MigrationRequest& request, Libvirt& source,
                                     Libvirt& dest, EngineContext& ctx,
                                     const MigrationProgress& progress) {
  const std::string name = quoted(request.domain);
  MigrationReport report = empty_report(request);
  VF_ASSIGN(active, source.is_active(request.domain));
  VF_TRY(check_destination_free(request, dest));
  if (active) {
    if (!request.shutdown)
      return fail(ErrorKind::conflict,
                  name +
                      " is running: a cold migration moves it switched off. Shut it down "
                      "first, or pass --shutdown (vfctl asks the guest to shut down, waits, "
                      "and with --force-off stops it hard); or move it live with --live (the "
                      "guest needs a virtio interface, or virtio failover on its VF ports)");
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
  if (auto moved =
          source.migrate(request.domain, request.dest_uri, MigrationKind::offline, nullptr);
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

// A VF port without virtio failover that moves live by being detached here and attached there.
struct ReattachedPort {
  VfPort port;  // as the running guest has it here
  PortRecord record;
  bool detached = false;  // taken out of the guest here
};

// The guest's VF ports without virtio failover, each with its record; refused (nothing
// changed) unless the guest has a virtio interface to keep its network on while they are out,
// and each is an <interface type='hostdev'> with a user alias, a MAC and a port record.
Result<std::vector<ReattachedPort>> plan_reattach(const std::string& domain,
                                                  const DomainXml& live) {
  std::vector<ReattachedPort> planned;
  std::vector<std::string> refusals;
  auto records = live.port_records();
  if (!records) return fail(records.error().with_context("the live XML of " + quoted(domain)));
  for (const VfPort& port : live.vf_ports()) {
    if (port.teamed()) continue;  // QEMU unplugs and the destination's hook re-plugs it
    const std::string who = port.describe();
    if (port.kind != PortKind::interface_hostdev) {
      refusals.push_back(who +
                         ": only an <interface type='hostdev'> port can be detached and "
                         "re-attached (this is a " +
                         std::string(to_string(port.kind)) + ")");
      continue;
    }
    if (!is_valid_user_alias(port.alias) || !port.mac) {
      refusals.push_back(who +
                         ": it needs a user alias (ua-...) and a MAC to be re-attached "
                         "as the same device");
      continue;
    }
    const PortRecord* record = find_record(*records, port);
    if (!record) {
      refusals.push_back(who +
                         ": it has no vfhook port record, so its pool on the destination "
                         "is unknown (vfctl port add and attach --persistent write one)");
      continue;
    }
    planned.push_back({port, *record, false});
  }
  if (!planned.empty()) {
    auto interfaces = live.plain_interfaces();
    if (!interfaces)
      return fail(interfaces.error().with_context("the live XML of " + quoted(domain)));
    const bool virtio_path =
        std::any_of(interfaces->begin(), interfaces->end(),
                    [](const PlainInterface& i) { return i.model == "virtio"; });
    if (!virtio_path)
      refusals.push_back(
          "the guest has no virtio interface to keep its network on while its VF "
          "ports are detached; add one, or give the VF ports virtio failover "
          "(<teaming>), or move it with --cold");
  }
  if (!refusals.empty()) {
    std::string text;
    for (const std::string& refusal : refusals) text += (text.empty() ? "" : "; ") + refusal;
    return fail(ErrorKind::policy, quoted(domain) + " cannot move live: " + text +
                                       ". Nothing was changed; it still runs on this host");
  }
  return planned;
}

HostdevInterfaceSpec interface_of(const ReattachedPort& reattached, const PciAddress& vf) {
  HostdevInterfaceSpec element;
  element.host = vf;
  element.mac = *reattached.port.mac;
  element.vlan_tag = reattached.port.vlan_tag;
  element.managed = false;
  element.alias = reattached.port.alias;
  element.guest_address = reattached.port.guest_address;
  return element;
}

// The `vfctl attach` that gives the guest its port at `dest_uri` by hand.
std::string attach_command(const std::string& domain, const ReattachedPort& reattached,
                           const std::string& dest_uri) {
  const PortRecord& record = reattached.record;
  std::string command = "vfctl attach " + printable(domain, 255) + " --pool " + record.pool +
                        " --alias " + reattached.port.alias + " --mac " +
                        reattached.port.mac->to_string();
  if (record.vlan) {
    command += " --vlan " + std::to_string(record.vlan->id);
    if (record.vlan->qos != 0) command += " --qos " + std::to_string(record.vlan->qos);
    if (record.vlan->protocol == VlanProtocol::dot1ad) command += " --protocol 802.1ad";
  }
  return "`" + command + "` on " + dest_uri;
}

// After the move: attaches each detached port at the destination, on the VF its hook chose and
// its prepare/start hooks made ready (claimed, on vfio-pci, configured), with the same MAC,
// VLAN, alias and guest address; then takes the marker off. What fails goes to left_behind
// with the command that finishes the job there.
void attach_there(const MigrationRequest& request, std::vector<ReattachedPort>& ports,
                  Libvirt& dest, const MigrationProgress& progress, MigrationReport& report) {
  const std::string name = quoted(request.domain);
  std::optional<MoveMarker> marker;
  std::string unreadable;
  if (auto xml = dest.domain_xml(request.domain, true); !xml) {
    unreadable = xml.error().message;
  } else if (auto parsed = DomainXml::parse(*xml); !parsed) {
    unreadable = parsed.error().message;
  } else if (auto read = parsed->move_marker(); !read) {
    unreadable = read.error().message;
  } else if (!*read || (*read)->mode != MoveMode::live_reattach) {
    unreadable = "its live XML there has no live re-attach marker (is vfhook installed there?)";
  } else {
    marker = **read;
  }
  for (const ReattachedPort& reattached : ports) {
    std::optional<PciAddress> vf;
    if (marker)
      for (const ReattachPort& listed : marker->ports)
        if (listed.alias == reattached.port.alias) vf = listed.vf;
    std::string why;
    if (!marker)
      why = "cannot learn the VF chosen for it there: " + unreadable;
    else if (!vf)
      why = "the destination's hook chose no VF for it";
    if (why.empty()) {
      progress("attaching " + reattached.port.alias + " to " + name + " at " + request.dest_uri +
               " on VF " + vf->to_string());
      auto element = render_hostdev_interface(interface_of(reattached, *vf));
      auto attached =
          element ? dest.attach_device(request.domain, *element) : Status(fail(element.error()));
      if (!attached)
        why = "the attach on VF " + vf->to_string() + " failed: " + attached.error().message +
              " (that VF stays held by " + name + " there until it stops)";
    }
    if (!why.empty())
      report.left_behind += name + " runs at " + request.dest_uri + " on its virtio path, but " +
                            reattached.port.alias + " is not re-attached: " + why + ". Run " +
                            attach_command(request.domain, reattached, request.dest_uri) + ". ";
  }
  if (marker)
    if (auto unmarked = dest.set_live_metadata(request.domain, kMoveNamespace, kMoveNamespacePrefix,
                                               std::nullopt);
        !unmarked)
      report.left_behind += "the live re-attach marker stays in the running domain at " +
                            request.dest_uri +
                            " (harmless; it expires): " + unmarked.error().message + ". ";
}

// Puts the detached ports back into the guest here (after a refused or failed move) and takes
// the marker off. Returns "" when that worked, else what is left.
std::string reattach_here(const std::string& domain, std::vector<ReattachedPort>& ports,
                          Libvirt& source, EngineContext& ctx, bool marked) {
  std::string left;
  for (ReattachedPort& reattached : ports) {
    if (!reattached.detached || !reattached.port.host) continue;
    if (auto back = reattach_port(domain, interface_of(reattached, *reattached.port.host),
                                  reattached.record, source, ctx);
        !back)
      left += "port " + reattached.port.alias + " is not back in the guest (" +
              back.error().message + "): run `vfctl attach " + printable(domain, 255) + " --pool " +
              reattached.record.pool + " --alias " + reattached.port.alias + " --mac " +
              reattached.port.mac->to_string() + "` here. ";
    else
      reattached.detached = false;
  }
  if (marked)
    if (auto unmarked =
            source.set_live_metadata(domain, kMoveNamespace, kMoveNamespacePrefix, std::nullopt);
        !unmarked)
      left += "its live re-attach marker could not be removed (it expires by itself): " +
              unmarked.error().message + ". ";
  return left;
}

// The guest's failover VFs on this host across its live migration (engine/failover_parking.h):
// parked once QEMU reports the migration active (by then the guest has let go of them: QEMU
// copies memory only when no unplug is pending), given the port's MAC back when it reports
// failed or cancelled (QEMU plugs them back into the guest). on_status runs on libvirt's event
// thread while Libvirt::migrate blocks the calling one, which uses the engine again only after
// migrate returned.
class FailoverVfs {
 public:
  FailoverVfs(const std::string& domain, std::vector<PciAddress> vfs, EngineContext& ctx,
              const MigrationProgress& progress)
      : domain_(domain), vfs_(std::move(vfs)), ctx_(ctx), progress_(progress) {}

  void on_status(QemuMigrationStatus status) {
    if (vfs_.empty()) return;
    if (status == QemuMigrationStatus::active && !parked_) {
      saw_active_ = true;
      parked_ = true;
      const FailoverParking done = park_failover_vfs(domain_, vfs_, ctx_);
      for (const ParkedVf& vf : done.changed)
        progress_("the guest let go of VF " + vf.vf.to_string() +
                  " (QEMU copies its memory now): parked with MAC " + vf.mac.to_string() +
                  ", so that its frames reach its virtio standby and the destination");
      for (const std::string& problem : done.problems)
        progress_(
            "cannot park a failover VF (it keeps the guest's MAC until the guest has "
            "left this host): " +
            problem);
    } else if (status == QemuMigrationStatus::failed || status == QemuMigrationStatus::cancelled) {
      unpark();
    }
  }

  // After the migration returned a failure: the MACs back now, if no failed or cancelled state
  // came first. Returns what could not be given back ("" when nothing).
  std::string after_failure() { return unpark(); }

  // The migration went through with failover VFs, but QEMU's states never reached vfctl.
  [[nodiscard]] bool unobserved() const { return !vfs_.empty() && !saw_active_; }
  [[nodiscard]] bool empty() const { return vfs_.empty(); }

 private:
  // Gives the parked VFs their MAC back (once); returns every problem met doing so, this time or
  // the time before (the failed state comes on the event thread, the call's error after it).
  std::string unpark() {
    if (parked_) {
      parked_ = false;
      const FailoverParking done = unpark_failover_vfs(domain_, vfs_, ctx_);
      for (const ParkedVf& vf : done.changed)
        progress_("the migration stopped: VF " + vf.vf.to_string() + " has MAC " +
                  vf.mac.to_string() + " again before QEMU plugs it back into the guest");
      for (const std::string& problem : done.problems)
        unpark_problems_ += (unpark_problems_.empty() ? "" : "; ") + problem;
    }
    return unpark_problems_;
  }

  const std::string& domain_;
  const std::vector<PciAddress> vfs_;
  EngineContext& ctx_;
  const MigrationProgress& progress_;
  bool parked_ = false;
  bool saw_active_ = false;
  std::string unpark_problems_;
};

Result<MigrationReport> migrate_live(const MigrationRequest& request, Libvirt& source,
                                     Libvirt& dest, EngineContext& ctx,
                                     const MigrationProgress& progress) {
  const std::string name = quoted(request.domain);
  MigrationReport report = empty_report(request);
  VF_ASSIGN(active, source.is_active(request.domain));
  if (!active)
    return fail(ErrorKind::conflict,
                name +
                    " is not running: move it with --cold (it is started on the "
                    "destination unless --no-start)");
  VF_TRY(check_destination_free(request, dest));
  VF_ASSIGN(live_xml, source.domain_xml(request.domain, true));
  VF_ASSIGN(live, with_context(DomainXml::parse(live_xml), "the live XML of " + name));
  const std::vector<VfPort> here = live.vf_ports();
  VF_ASSIGN(reattached, plan_reattach(request.domain, live));

  // Ports without failover leave the guest first; it keeps its network on its virtio path.
  const bool marked = !reattached.empty();
  const std::string runs_here = name + " still runs on this host";
  if (marked) {
    MoveMarker marker{
        request.now_unix + kColdMoveMarkerLifetimeSeconds, MoveMode::live_reattach, {}};
    for (const ReattachedPort& r : reattached)
      marker.ports.push_back({r.port.alias, *r.port.mac, std::nullopt});
    VF_ASSIGN(marker_xml, render_move_marker(marker));
    if (auto set = source.set_live_metadata(request.domain, kMoveNamespace, kMoveNamespacePrefix,
                                            marker_xml);
        !set)
      return fail(set.error().kind, "cannot mark " + name +
                                        " for a live re-attach move: " + set.error().message +
                                        ". Nothing was changed; " + runs_here + " with its VFs");
    for (ReattachedPort& r : reattached) {
      progress("detaching " + r.port.alias + " (VF " +
               (r.port.host ? r.port.host->to_string() : std::string("?")) + ") from " + name +
               "; its network stays on its virtio interface");
      auto detached =
          detach_port(request.domain, r.port.alias, false, request.detach_timeout, source, ctx);
      std::string why;
      if (!detached)
        why = detached.error().message;
      else if (!detached->released)
        why = detached->left_behind;
      if (detached && detached->released) {
        r.detached = true;
        // Out of the guest, but the VF was not restored: its claim stays, and the release
        // hook here retries when the guest's QEMU ends after the move.
        if (!detached->left_behind.empty())
          report.left_behind += "on this host: " + detached->left_behind + ". ";
      }
      if (!why.empty()) {
        const std::string left = reattach_here(request.domain, reattached, source, ctx, true);
        return fail(detached ? ErrorKind::conflict : detached.error().kind,
                    "live migration of " + name + " to " + request.dest_uri +
                        " stopped before it began: " + r.port.alias + ": " + why + ". " +
                        runs_here + (left.empty() ? " with its VFs; nothing moved" : ". " + left));
      }
    }
  }

  progress("migrating " + name + " live to " + request.dest_uri +
           (marked ? " (the destination's hook picks and prepares VFs for the detached ports)"
            : here.empty() ? ""
                           : " (QEMU unplugs its VFs; the destination's hook picks new ones)"));
  std::vector<PciAddress> teamed;
  for (const VfPort& port : here)
    if (port.teamed() && port.host) teamed.push_back(*port.host);
  FailoverVfs failover(request.domain, std::move(teamed), ctx, progress);
  if (auto moved =
          source.migrate(request.domain, request.dest_uri, MigrationKind::live,
                         [&failover](QemuMigrationStatus status) { failover.on_status(status); });
      !moved) {
    std::string message = "live migration of " + name + " to " + request.dest_uri +
                          " failed: " + moved.error().message + ". " + runs_here;
    const std::string unparked = failover.after_failure();
    if (marked) {
      const std::string left = reattach_here(request.domain, reattached, source, ctx, true);
      message += left.empty() ? " with its VFs (re-attached)" : ". " + left;
    } else {
      // Every VF port here is teamed (plan_reattach took the others): QEMU plugs them back.
      message += failover.empty()
                     ? " with its VFs"
                     : " with its VFs (QEMU plugs back a failover VF it had unplugged)";
    }
    if (!unparked.empty())
      message += ". Its failover VFs could not all get the guest's MAC back (" + unparked +
                 "): the guest stays on its virtio standby for those ports; restart it to have "
                 "them back";
    return fail(moved.error().kind, std::move(message));
  }

  // From here on the guest runs on the destination: failures are left_behind, not errors.
  if (failover.unobserved())
    progress(
        "QEMU's migration states did not reach vfctl (libvirt passed on no MIGRATION "
        "event): the failover VFs here kept the guest's MAC until it had left this host");
  if (marked) attach_there(request, reattached, dest, progress, report);
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
