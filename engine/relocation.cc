// relocate_domain: the migrate and restore hooks' engine operation (engine/relocation.h).
#include "engine/relocation.h"

#include <algorithm>
#include <map>
#include <set>

#include "engine/claims.h"
#include "engine/decision_log.h"
#include "engine/live_reattach.h"
#include "engine/operations.h"
#include "engine/port_allocation.h"
#include "engine/port_plan.h"
#include "util/printable.h"
#include "vfio/pci_topology.h"

namespace vfhook {
namespace {

// One port's choice, before anything is reserved.
struct Choice {
  size_t ordinal = 0;
  std::string who;
  std::string pool;
  std::optional<PciAddress> from;
  PciAddress to;
  bool kept = false;
  // A port of the live re-attach marker (its index there): no device in the XML to rewrite;
  // the choice is written into the marker.
  std::optional<size_t> reattach_index;
};

// Why an attempt ended without a relocation: a refusal, a failure, or a reservation lost to
// another hook (then the whole choice is made again).
struct AttemptResult {
  std::optional<Relocation> done;  // set unless the attempt lost a race
};

std::string count_text(int n) {
  return std::to_string(n) + (n == 1 ? " VF" : " VFs");
}

// "domain 'a' (running, 2 VFs), domain 'b' (reserved, 1 VF)": who holds the pool's VFs, for a
// refusal that says what to free. The arriving domain's own holdings are not listed.
std::string holders_text(const std::string& pool, const std::string& domain,
                         const Holdings& holdings) {
  std::map<std::string, int> running, reserved;
  std::set<PciAddress> claimed;
  for (const Claim& claim : holdings.claims) {
    if (claim.pool != pool || claim.domain == domain) continue;
    ++running[claim.domain];
    claimed.insert(claim.vf);
  }
  for (const Reservation& reservation : holdings.reservations) {
    if (reservation.pool != pool || reservation.domain == domain) continue;
    if (claimed.count(reservation.vf)) continue;  // its domain runs: counted as running
    ++reserved[reservation.domain];
  }
  std::string text;
  auto add = [&](const std::map<std::string, int>& by_domain, const char* state) {
    for (const auto& [name, n] : by_domain) {
      if (!text.empty()) text += ", ";
      text += "domain '" + printable(name, 255) + "' (" + state + ", " + count_text(n) + ")";
    }
  };
  add(running, "running");
  add(reserved, "reserved while shut off");
  return text.empty() ? "no domain vfhook knows of" : text;
}

std::string vlan_of(const VfPort& port, const PortRecord* record) {
  if (record && record->vlan) return "VLAN " + std::to_string(record->vlan->id);
  if (port.vlan_tag && *port.vlan_tag != 0) return "VLAN " + std::to_string(*port.vlan_tag);
  return "untagged";
}

std::string pool_names(const HostConfig& config) {
  std::string text;
  for (const Pool& pool : config.pools) text += (text.empty() ? "'" : ", '") + pool.name + "'";
  return text.empty() ? "none" : text;
}

// A port whose record names a pool this host does not define.
Refusal missing_pool(const std::string& who, const VfPort& port, const PortRecord* record,
                     const HostConfig& config) {
  return {who, "its port record names pool '" + record->pool + "' (" + vlan_of(port, record) +
                   "), which this host does not define (pools here: " + pool_names(config) +
                   "). Move the domain to a host with that pool, or add it to this host's "
                   "vfhook config."};
}

const char* verb(Arrival arrival) {
  return arrival == Arrival::migrate ? "migration" : "restore";
}

// A teamed port arriving in a pool that does not allow live migration, without a cold-move
// marker that vouches for an offline move.
Refusal failover_refusal(const std::string& who, const std::string& domain, const Pool& pool,
                         bool marker_expired) {
  const std::string why =
      "it is a VF with virtio failover (<teaming type='transient'>), and pool '" + pool.name +
      "' on this host does not allow live migration (failover = false)";
  const std::string expired =
      marker_expired ? " The domain's cold-move marker has expired, so this may be a live move."
                     : "";
  return {who, "live migration refused: " + why + "." + expired + " Move it cold with " +
                   "`vfctl migrate " + domain +
                   " DEST_URI --cold`, or set failover = true for pool '" + pool.name +
                   "' on both hosts."};
}

class Relocator {
 public:
  // `cold`: the domain carries a valid, unexpired cold-move marker (an offline migration);
  // `marker_expired`: it carries one that has expired (for the refusal's text); `reattach`: its
  // valid, unexpired live re-attach marker, nullptr when it has none.
  Relocator(const std::string& name, const DomainXml& domain, Arrival arrival, bool cold,
            bool marker_expired, const MoveMarker* reattach, EngineContext& ctx)
      : name_(name),
        domain_(domain),
        arrival_(arrival),
        cold_(cold),
        marker_expired_(marker_expired),
        reattach_(reattach),
        ctx_(ctx),
        topology_(ctx.sysfs) {}

  // Runs once per object.
  AttemptResult attempt();

 private:
  // The domain that claims or reserves `device` here; nullopt when nobody does.
  [[nodiscard]] std::optional<std::string> holder_of(const PciAddress& device) const {
    for (const Claim& claim : holdings_.claims)
      if (claim.vf == device) return claim.domain;
    for (const Reservation& reservation : holdings_.reservations)
      if (reservation.vf == device) return reservation.domain;
    return std::nullopt;
  }
  [[nodiscard]] bool taken_by_other_port(const PciAddress& device) const {
    return std::any_of(choices_.begin(), choices_.end(),
                       [&](const Choice& c) { return c.to == device; });
  }
  // Whether the VF port may keep the VF its source address names here (see relocation.h).
  Result<bool> may_keep(const VfInfo& vf, const Pool& pool);
  // Adds the choice for one VF port, or a refusal. Errors: the host cannot be read.
  Status choose(const VfPort& port, const PortRecord* record);
  // Adds the choice for one port of the live re-attach marker, or a refusal.
  Status choose_reattach(size_t index, const std::vector<PortRecord>& records);
  // A free VF of `pool` for the port `who`, or a refusal (nullopt). Errors: the host.
  Result<std::optional<PciAddress>> free_vf(const std::string& who, const VfPort& port,
                                            const PortRecord* record, const Pool& pool);
  Relocation refused(std::vector<Refusal> refusals) const {
    Relocation relocation;
    relocation.outcome = Outcome::refused_by(std::move(refusals));
    return relocation;
  }
  Relocation failed(const Error& error) const {
    Relocation relocation;
    relocation.outcome = Outcome::failed_with(error);  // the hook's text names the domain
    return relocation;
  }
  [[nodiscard]] std::string shown() const { return printable(name_, 255); }
  // A teamed port (virtio failover) may be arriving live: refused unless its pool here allows
  // that or a cold-move marker says the move is offline. A restore is never a live move: the
  // guest was saved (libvirt-guests does that at every host shutdown) and comes back paused
  // from a file, so the switch does not apply.
  [[nodiscard]] bool live_failover_refused(const VfPort& port, const Pool& pool) const {
    return arrival_ == Arrival::migrate && port.teamed() && !pool.failover && !cold_;
  }

  const std::string& name_;
  const DomainXml& domain_;
  Arrival arrival_;
  bool cold_;
  bool marker_expired_;
  const MoveMarker* reattach_;
  EngineContext& ctx_;
  PciTopology topology_;
  Holdings holdings_;
  PoolPfs pools_;
  std::vector<Choice> choices_;
  std::vector<Refusal> refusals_;
};

Result<bool> Relocator::may_keep(const VfInfo& vf, const Pool& pool) {
  if (!pools_.lists(pool, vf.pf) || !pool.includes_vf_index(vf.index)) return false;
  if (taken_by_other_port(vf.address)) return false;
  if (auto holder = holder_of(vf.address)) return *holder == name_;
  if (vf.netdev) {
    // By the device, not the name read earlier: udev may have renamed the VF's netdev since.
    VF_ASSIGN(up, topology_.device_admin_up(vf.address));
    if (up) return false;  // the host uses it
  }
  const std::vector<int> nodes = domain_.memory_numa_nodes();
  if (nodes.empty() || vf.numa_node < 0) return true;
  return std::find(nodes.begin(), nodes.end(), vf.numa_node) != nodes.end();
}

Status Relocator::choose(const VfPort& port, const PortRecord* record) {
  const std::string who = port.describe();
  if (port.kind == PortKind::interface_network) {
    // libvirt's hostdev network on this host chooses the VF at start; only the record's
    // pool and VLAN can be checked now.
    if (!record) return ok();
    const Pool* pool = ctx_.config.find_pool(record->pool);
    if (!pool) {
      refusals_.push_back(missing_pool(who, port, record, ctx_.config));
    } else {
      if (live_failover_refused(port, *pool))
        refusals_.push_back(failover_refusal(who, shown(), *pool, marker_expired_));
      check_port_against_pool(who, port, record, *pool, ctx_.config, refusals_);
    }
    return ok();
  }
  if (!port.host) return ok();  // only network ports lack one

  // The source host's address may name no device here at all: then it is no VF of ours.
  auto found = topology_.vf(*port.host);
  if (!found && found.error().kind != ErrorKind::not_found)
    return fail(found.error().with_context(who));
  const std::optional<VfInfo> vf = found ? *found : std::nullopt;
  const Pool* pool = nullptr;
  if (record) {
    pool = ctx_.config.find_pool(record->pool);
    if (!pool) {
      refusals_.push_back(missing_pool(who, port, record, ctx_.config));
      return ok();
    }
  } else if (vf) {
    pool = pools_.pool_of(vf->pf, PoolMode::vf);
  } else {
    pool = pools_.pool_of(*port.host, PoolMode::pf);
  }
  if (!pool) {
    // No record, and its address is no device of a pool here: not vfhook's port.
    ctx_.log.info("domain " + shown() + ": " + who +
                  " has no vfhook port record and is in no pool here; left to libvirt");
    return ok();
  }

  Choice choice;
  choice.ordinal = port.ordinal;
  choice.who = who;
  choice.pool = pool->name;
  choice.from = port.host;

  if (pool->mode == PoolMode::pf) {
    const std::optional<std::string> holder = holder_of(*port.host);
    if (vf || !pools_.lists(*pool, *port.host) || (holder && *holder != name_) ||
        taken_by_other_port(*port.host)) {
      std::string why = holder && *holder != name_
                            ? "domain '" + printable(*holder, 255) + "' holds it here"
                            : "it is not a device pool '" + pool->name + "' lists here";
      refusals_.push_back({who, "this whole device of pool '" + pool->name +
                                    "' cannot come along: " + why +
                                    ". vfhook does not re-allocate whole devices; give the "
                                    "domain a device of the pool here before the " +
                                    verb(arrival_) + "."});
      return ok();
    }
    choice.to = *port.host;
    choice.kept = true;
    choices_.push_back(std::move(choice));
    return ok();
  }

  const size_t before = refusals_.size();
  if (live_failover_refused(port, *pool))
    refusals_.push_back(failover_refusal(who, shown(), *pool, marker_expired_));
  check_port_against_pool(who, port, record, *pool, ctx_.config, refusals_);
  if (refusals_.size() != before) return ok();

  if (vf) {
    VF_ASSIGN(keep, with_context(may_keep(*vf, *pool), who));
    if (keep) {
      choice.to = vf->address;
      choice.kept = true;
      choices_.push_back(std::move(choice));
      return ok();
    }
  }
  VF_ASSIGN(chosen, free_vf(who, port, record, *pool));
  if (!chosen) return ok();
  choice.to = *chosen;
  choice.kept = port.host && *port.host == *chosen;
  choices_.push_back(std::move(choice));
  return ok();
}

Result<std::optional<PciAddress>> Relocator::free_vf(const std::string& who, const VfPort& port,
                                                     const PortRecord* record, const Pool& pool) {
  VfRequest request;
  request.domain = name_;
  request.pool = pool.name;
  request.guest_numa_nodes = domain_.memory_numa_nodes();
  for (const Choice& other : choices_) request.in_use_by_domain.push_back(other.to);
  auto chosen = choose_free_vf(request, ctx_);
  if (!chosen) {
    if (chosen.error().kind != ErrorKind::policy) return fail(chosen.error().with_context(who));
    refusals_.push_back({who, chosen.error().message + " (" + vlan_of(port, record) +
                                  "). Its VFs are held by " +
                                  holders_text(pool.name, name_, holdings_) +
                                  ". Free one (stop a domain, or `vfctl port remove` a "
                                  "shut-off one's port), or create more VFs (num_vfs), then "
                                  "retry the " +
                                  verb(arrival_) + "."});
    return std::optional<PciAddress>();
  }
  return std::optional<PciAddress>(chosen->vf);
}

Status Relocator::choose_reattach(size_t index, const std::vector<PortRecord>& records) {
  const ReattachPort& listed = reattach_->ports[index];
  const bool present = std::any_of(domain_.vf_ports().begin(), domain_.vf_ports().end(),
                                   [&](const VfPort& p) { return p.alias == listed.alias; });
  if (present) return ok();  // re-attached already (a marker left behind): an ordinary port
  const std::string who = "port " + listed.alias + " (to re-attach after a live migration)";
  const PortRecord* record = find_record(records, reattach_port_as_vf_port(listed, nullptr));
  if (!record) {
    refusals_.push_back({who,
                         "it has no vfhook port record in the domain, so its pool is "
                         "unknown. Re-attach it on the source before migrating."});
    return ok();
  }
  const Pool* pool = ctx_.config.find_pool(record->pool);
  VfPort port = reattach_port_as_vf_port(listed, record);
  port.host.reset();
  if (!pool) {
    refusals_.push_back(missing_pool(who, port, record, ctx_.config));
    return ok();
  }
  if (pool->mode == PoolMode::pf) {
    refusals_.push_back({who, "pool '" + pool->name +
                                  "' gives whole devices here; a VF port cannot be re-attached "
                                  "from it. A pool name must mean a pool of VFs on both hosts: "
                                  "fix this host's vfhook config, or move the domain to a host "
                                  "whose pool '" +
                                  pool->name + "' gives VFs."});
    return ok();
  }
  const size_t before = refusals_.size();
  check_port_against_pool(who, port, record, *pool, ctx_.config, refusals_);
  if (refusals_.size() != before) return ok();
  VF_ASSIGN(chosen, free_vf(who, port, record, *pool));
  if (!chosen) return ok();
  Choice choice;
  choice.who = who;
  choice.pool = pool->name;
  choice.to = *chosen;
  choice.reattach_index = index;
  choices_.push_back(std::move(choice));
  return ok();
}

AttemptResult Relocator::attempt() {
  auto records = domain_.port_records();
  if (!records)
    return {refused({{"", "its vfhook port records are invalid: " + records.error().message}})};
  auto holdings = read_holdings(ctx_.store);
  if (!holdings) return {failed(holdings.error())};
  holdings_ = std::move(*holdings);
  pools_ = resolve_pool_pfs(ctx_.config, ctx_.sysfs);

  for (const VfPort& port : domain_.vf_ports()) {
    if (auto chosen = choose(port, find_record(*records, port)); !chosen)
      return {failed(chosen.error())};
  }
  if (reattach_ != nullptr)
    for (size_t i = 0; i < reattach_->ports.size(); ++i)
      if (auto chosen = choose_reattach(i, *records); !chosen) return {failed(chosen.error())};
  if (!refusals_.empty()) return {refused(refusals_)};

  // The new definition: a copy with the moved ports' host sources rewritten, and the host key
  // of every record that named a moved <hostdev> by its old address.
  auto copy = DomainXml::parse(domain_.serialize());
  if (!copy) return {failed(copy.error().with_context("the domain XML, read again"))};
  // The cold-move marker was for this arrival only: it must not travel on to the next. A live
  // re-attach marker stays, with the VF chosen for each port: prepare and start here read it,
  // then vfctl attaches the ports and removes it.
  bool changed = copy->remove_move_marker();
  if (reattach_ != nullptr) {
    MoveMarker chosen_marker = *reattach_;
    for (const Choice& choice : choices_)
      if (choice.reattach_index) chosen_marker.ports[*choice.reattach_index].vf = choice.to;
    if (auto set = copy->set_move_marker(chosen_marker); !set) return {failed(set.error())};
    changed = true;
  }
  std::vector<PortRecord> new_records = *records;
  bool records_changed = false;
  for (const Choice& choice : choices_) {
    if (choice.kept || choice.reattach_index) continue;
    const VfPort& port = domain_.vf_ports()[choice.ordinal];
    if (auto set = copy->set_host_source(choice.ordinal, choice.to); !set)
      return {failed(set.error().with_context(choice.who))};
    changed = true;
    // A <hostdev>'s record may name it by its host address: it must keep naming it.
    const PortRecord* record = find_record(*records, port);
    if (port.kind == PortKind::hostdev && record && record->host && choice.from &&
        *record->host == *choice.from) {
      new_records[static_cast<size_t>(record - records->data())].host = choice.to;
      records_changed = true;
    }
  }
  if (records_changed) {
    if (auto set = copy->set_port_records(new_records); !set) return {failed(set.error())};
    // Parsed again so that the check below sees the records as libvirt will store them.
    auto again = DomainXml::parse(copy->serialize());
    if (!again) return {failed(again.error().with_context("the rewritten domain XML"))};
    copy = std::move(again);
  }

  // The next start runs prepare on this definition: check it the same way now, so the hook
  // never accepts a domain it will refuse to start. The ports to re-attach are checked as the
  // devices prepare will see them as.
  auto with_reattach = with_reattach_ports(*copy);
  if (!with_reattach) return {failed(with_reattach.error())};
  auto plan = plan_ports(*with_reattach ? **with_reattach : *copy, ctx_, Stage::prepare);
  if (!plan) return {failed(plan.error())};
  if (!plan->refusals.empty()) return {refused(plan->refusals)};

  // Reserve every device for the domain; a VF another hook took meanwhile means choosing again.
  std::set<PciAddress> already_ours;
  for (const Reservation& reservation : holdings_.reservations)
    if (reservation.domain == name_) already_ours.insert(reservation.vf);
  std::vector<PciAddress> reserved_now;
  auto undo = [&](std::vector<std::string>& undo_failures) {
    for (const PciAddress& vf : reserved_now)
      if (auto dropped = drop_reservation(vf, name_, ctx_); !dropped) {
        undo_failures.push_back("drop the reservation of " + vf.to_string() + " for domain '" +
                                shown() + "': " + dropped.error().message);
        LogEntry entry{LogLevel::error, "rollback: " + undo_failures.back(), {}};
        ctx_.log.record(entry.with(log_field::domain, name_)
                            .with(log_field::pci_address, vf.to_string())
                            .with(log_field::outcome, std::string(log_outcome::undo_failed)));
      }
  };
  for (const Choice& choice : choices_) {
    VfRequest request;
    request.domain = name_;
    request.pool = choice.pool;
    auto reserved = reserve_vf(choice.to, request, ctx_);
    if (!reserved) {
      std::vector<std::string> undo_failures;
      undo(undo_failures);
      if (reserved.error().kind == ErrorKind::conflict && undo_failures.empty())
        return {};  // lost a race: choose again
      Relocation relocation = failed(reserved.error().with_context(choice.who));
      relocation.outcome.host_was_changed = !reserved_now.empty();
      relocation.outcome.undo_failures = std::move(undo_failures);
      return {std::move(relocation)};
    }
    if (!already_ours.count(choice.to)) reserved_now.push_back(choice.to);
  }

  Relocation relocation;
  for (const Choice& choice : choices_)
    relocation.moves.push_back(PortMove{choice.who, choice.from, choice.to, choice.kept});
  if (changed) relocation.rewritten_xml = copy->serialize();
  for (const Choice& choice : choices_) {
    LogEntry entry{LogLevel::info,
                   "domain " + shown() + " (" + verb(arrival_) + "): " + choice.who +
                       (choice.kept ? " keeps " : " moves to ") + choice.to.to_string() +
                       ", reserved in pool '" + choice.pool + "'",
                   {}};
    entry.with(log_field::domain, name_)
        .with(log_field::pci_address, choice.to.to_string())
        .with(log_field::from_pci_address,
              choice.from ? std::optional<std::string>(choice.from->to_string()) : std::nullopt)
        .with(log_field::pool, choice.pool)
        .with(log_field::outcome,
              std::string(choice.kept ? log_outcome::kept : log_outcome::moved));
    ctx_.log.record(entry);
  }
  return {std::move(relocation)};
}

}  // namespace

Relocation relocate_domain(const std::string& domain_name, const DomainXml& domain, Arrival arrival,
                           EngineContext& ctx) {
  auto marker = domain.move_marker();
  const bool reattaching =
      marker && *marker && (*marker)->mode == MoveMode::live_reattach && !(*marker)->ports.empty();
  if (domain.vf_ports().empty() && !reattaching) return {};
  if (!marker) {
    Relocation relocation;
    relocation.outcome = Outcome::refused_by(
        {{"", marker.error().message +
                  ". vfhook cannot tell whether this is a cold move. Remove the marker on the "
                  "source (`virsh metadata " +
                  printable(domain_name, 255) + " " + kMoveNamespace +
                  " --config --remove`) and retry with `vfctl migrate --cold`."}});
    return relocation;
  }
  const bool marker_expired = *marker && (*marker)->expired_at(ctx.clock.wall_now());
  const bool cold = *marker && !marker_expired && (*marker)->mode == MoveMode::offline;
  // An expired live re-attach marker counts as absent too: vfctl, which set it, has given up;
  // the guest arrives on its virtio path and `vfctl attach` gives it a VF later.
  const MoveMarker* reattach = reattaching && !marker_expired ? &**marker : nullptr;
  if (*marker && (*marker)->mode == MoveMode::offline)
    ctx.log.info("domain " + printable(domain_name, 255) + ": cold-move marker, expires " +
                 std::to_string((*marker)->expires) +
                 (marker_expired ? " (expired: ignored)" : " (the move is offline)") +
                 "; it is not handed on");
  else if (*marker)
    ctx.log.info("domain " + printable(domain_name, 255) + ": live re-attach marker for " +
                 std::to_string((*marker)->ports.size()) + " port(s), expires " +
                 std::to_string((*marker)->expires) +
                 (marker_expired ? " (expired: ignored, not handed on)"
                                 : " (a VF is chosen here for each)"));
  for (int attempt = 1; attempt <= kRelocationAttempts; ++attempt) {
    // A new Relocator each time: it reads sysfs and the store afresh.
    AttemptResult result =
        Relocator(domain_name, domain, arrival, cold, marker_expired, reattach, ctx).attempt();
    if (result.done) return std::move(*result.done);
    ctx.log.warning("domain " + printable(domain_name, 255) +
                    ": a VF it was given was taken by another domain before it was reserved; "
                    "choosing again (attempt " +
                    std::to_string(attempt) + ")");
  }
  Relocation relocation;
  relocation.outcome = Outcome::refused_by(
      {{"",
        "other domains kept taking the VFs chosen for it (" + std::to_string(kRelocationAttempts) +
            " attempts); nothing was reserved. Retry the " + std::string(verb(arrival)) + "."}});
  return relocation;
}

Relocation migrate_domain(const std::string& domain_name, const DomainXml& domain,
                          EngineContext& ctx) {
  return relocate_domain(domain_name, domain, Arrival::migrate, ctx);
}

Relocation restore_domain(const std::string& domain_name, const DomainXml& domain,
                          EngineContext& ctx) {
  return relocate_domain(domain_name, domain, Arrival::restore, ctx);
}

}  // namespace vfhook
