// vfctl: the operator's side of vfhook. Subcommands are listed in one table below; every one
// prints a table or text by default and one JSON object with --json.
//
// Exit codes: 0 done; 1 refused or failed, nothing changed; 2 usage error; 3 partly done (the
// output says what is left).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <functional>
#include <iostream>
#include <optional>
#include <string>

#include "cli/dhcp_hosts.h"
#include "cli/doctor.h"
#include "cli/gc.h"
#include "cli/host_files.h"
#include "cli/hotplug.h"
#include "cli/libvirt.h"
#include "cli/migrate.h"
#include "cli/port_commands.h"
#include "cli/process_control.h"
#include "cli/qmp_hotplug.h"
#include "cli/text_files.h"
#include "cli/views.h"
#include "engine/host_backends.h"
#include "engine/inventory.h"
#include "engine/log_fields.h"
#include "engine/vf_provisioning.h"
#include "lldp/frame_listener.h"
#include "lldp/lldpctl_neighbors.h"
#include "policy/config.h"
#include "util/journal_log.h"
#include "util/log.h"
#include "vfio/netlink_libnl.h"

namespace vfhook {
namespace {

constexpr int kExitDone = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitPartly = 3;

struct GlobalOptions {
  std::string config_path = VFHOOK_CONFIG_PATH;
  std::string connect_uri = "qemu:///system";
  bool json = false;
};

// Everything a command needs from the host, opened on first use.
class Host {
 public:
  explicit Host(const GlobalOptions& options) : options_(options) {}

  Result<EngineContext*> engine() {
    if (ctx_) return ctx_.get();
    VF_ASSIGN(config, load_config(options_.config_path));
    config_ = std::move(config);
    VF_ASSIGN(backends, open_host_backends(config_));
    backends_ = std::move(backends);
    ctx_ = std::make_unique<EngineContext>(
        EngineContext{config_, *backends_->sysfs, *backends_->devfs, *backends_->netlink,
                      *backends_->store, backends_->clock, log_});
    return ctx_.get();
  }
  // The command line's subcommands ("attach", "port add"): every entry's EVENT.
  void set_command(const std::string& command) { log_.set(log_field::event, command); }
  Result<Libvirt*> libvirt() {
    if (libvirt_) return libvirt_.get();
    VF_ASSIGN(conn, connect_libvirt(options_.connect_uri));
    libvirt_ = std::move(conn);
    return libvirt_.get();
  }

 private:
  const GlobalOptions& options_;
  HostConfig config_;
  std::unique_ptr<HostBackends> backends_;
  // The journal where journald runs (syslog otherwise); EVENT is the command (set_command).
  std::unique_ptr<Logger> system_log_ = open_system_logger("vfctl");
  ContextLogger log_{*system_log_, {}};
  std::unique_ptr<EngineContext> ctx_;
  std::unique_ptr<Libvirt> libvirt_;
};

int report_error(const GlobalOptions& options, const Error& error) {
  if (options.json) std::cout << error_json(error);
  std::cerr << "vfctl: " << error.message << "\n";
  return kExitFailed;
}

// The options of a port (port add, render), parsed into a PortSpec after CLI11 ran.
struct PortOptions {
  std::string pool;
  std::optional<int> vlan;
  std::optional<int> qos;
  std::optional<std::string> protocol;
  std::optional<std::string> mac;
  std::optional<std::string> ip;
  std::optional<std::string> alias;
  std::optional<std::string> spoofchk;
  std::optional<std::string> trust;
  std::optional<std::string> link_state;
  std::optional<uint32_t> min_rate;
  std::optional<uint32_t> max_rate;

  void add_to(CLI::App* command) {
    command->add_option("--pool", pool, "the pool (physical network) the VF comes from")
        ->required();
    command->add_option("--vlan", vlan, "802.1Q VLAN ID 1-4094 (default: untagged)")
        ->check(CLI::Range(1, 4094));
    command->add_option("--qos", qos, "802.1p priority 0-7 of the VLAN")->check(CLI::Range(0, 7));
    command->add_option("--protocol", protocol, "VLAN protocol: 802.1Q (default) or 802.1ad");
    command->add_option("--mac", mac, "the guest's MAC (default: derived from domain and alias)");
    command->add_option("--ip", ip, "the guest's IP address, for DHCP reservations");
    command->add_option("--alias", alias, "the device alias, ua-... (default: ua-vfhookN)");
    command->add_option("--spoofchk", spoofchk, "on|off (default: the pool's)");
    command->add_option("--trust", trust, "on|off (default: the pool's)");
    command->add_option("--link-state", link_state, "auto|enable|disable");
    command->add_option("--min-rate", min_rate, "minimum TX rate, Mbit/s");
    command->add_option("--max-rate", max_rate, "maximum TX rate, Mbit/s");
  }

  Result<PortSpec> spec() const {
    PortSpec spec;
    spec.pool = pool;
    if (qos && !vlan) return fail(ErrorKind::invalid_input, "--qos needs --vlan");
    if (protocol && !vlan) return fail(ErrorKind::invalid_input, "--protocol needs --vlan");
    if (vlan) {
      Vlan v;
      v.id = static_cast<uint16_t>(*vlan);
      v.qos = static_cast<uint8_t>(qos.value_or(0));
      if (protocol) {
        auto parsed = parse_vlan_protocol(*protocol);
        if (!parsed)
          return fail(ErrorKind::invalid_input,
                      "--protocol '" + *protocol + "': expected 802.1Q or 802.1ad");
        v.protocol = *parsed;
      }
      spec.vlan = v;
    }
    if (mac) {
      VF_ASSIGN(parsed, with_context(MacAddress::parse_unicast(*mac), "--mac"));
      spec.mac = parsed;
    }
    spec.ip = ip;
    spec.alias = alias;
    auto on_off = [](const std::optional<std::string>& text,
                     const char* name) -> Result<std::optional<bool>> {
      if (!text) return std::optional<bool>{};
      if (*text == "on") return std::optional<bool>(true);
      if (*text == "off") return std::optional<bool>(false);
      return fail(ErrorKind::invalid_input,
                  std::string(name) + " '" + *text + "': expected on or off");
    };
    VF_ASSIGN(spoof, on_off(spoofchk, "--spoofchk"));
    VF_ASSIGN(trusted, on_off(trust, "--trust"));
    spec.spoofchk = spoof;
    spec.trust = trusted;
    if (link_state) {
      auto parsed = parse_link_state(*link_state);
      if (!parsed)
        return fail(ErrorKind::invalid_input,
                    "--link-state '" + *link_state + "': expected auto, enable or disable");
      spec.link_state = *parsed;
    }
    if (min_rate || max_rate) {
      if (min_rate && max_rate && *max_rate != 0 && *min_rate > *max_rate)
        return fail(ErrorKind::invalid_input, "--min-rate is above --max-rate");
      spec.rates = VfSettings::Rates{min_rate.value_or(0), max_rate.value_or(0)};
    }
    return spec;
  }
};

int run(int argc, char** argv) {
  GlobalOptions options;
  CLI::App app{"vfctl: SR-IOV VF ports for libvirt guests (vfhook)", "vfctl"};
  app.require_subcommand(1);
  app.add_option("--config", options.config_path, "the vfhook config")->capture_default_str();
  app.add_option("-c,--connect", options.connect_uri, "libvirt URI")->capture_default_str();
  app.add_flag("--json", options.json, "print one JSON object instead of text");

  Host host(options);
  std::function<int()> action;

  // The subcommand table.
  std::optional<std::string> status_pool;
  std::optional<int> lldp_listen_seconds;
  CLI::App* status = app.add_subcommand(
      "status",
      "pools, PFs (with the switch port each is cabled to) and VFs, and who holds each VF");
  status->add_option("--pool", status_pool, "only this pool");
  status
      ->add_option("--lldp-listen", lldp_listen_seconds,
                   "hear LLDP frames on the PFs for up to SECONDS (1-600; needs CAP_NET_RAW) "
                   "instead of asking lldpd")
      ->check(CLI::Range(1, 600));
  status->callback([&] {
    action = [&]() -> int {
      auto ctx = host.engine();
      if (!ctx) return report_error(options, ctx.error());
      auto pools = read_inventory(**ctx, status_pool);
      if (!pools) return report_error(options, pools.error());
      // LLDP never fails the status: a source without data is a note per PF.
      PfNeighbors lldp;
      if (lldp_listen_seconds) {
        AfPacketLldpSockets sockets;
        SystemClock clock;
        auto heard = HeardLldpNeighbors::listen(sockets, clock, pf_netdevs(*pools),
                                                std::chrono::seconds(*lldp_listen_seconds));
        lldp = neighbors_of_pfs(*pools, *heard);
      } else {
        LldpctlNeighbors lldpd;
        lldp = neighbors_of_pfs(*pools, lldpd);
      }
      std::cout << (options.json ? status_json(*pools, lldp) : status_text(*pools, lldp));
      return kExitDone;
    };
  });

  // Reads the config only: quick and without side effects, for scripts and the bash completion.
  CLI::App* pools = app.add_subcommand("pools", "the names of the configured pools, one a line");
  pools->callback([&] {
    action = [&]() -> int {
      auto config = load_config(options.config_path);
      if (!config) return report_error(options, config.error());
      std::cout << (options.json ? pools_json(*config) : pool_names_text(*config));
      return kExitDone;
    };
  });

  // The package's removal asks `claims --count` whether a guest still holds a VF; it must not
  // create a state directory on a host where no hook ever ran.
  bool claims_count = false;
  CLI::App* claims = app.add_subcommand(
      "claims", "the VFs and devices running (or starting) domains hold, from the claims store");
  claims->add_flag("--count", claims_count, "print only the number of claims");
  claims->callback([&] {
    action = [&]() -> int {
      auto config = load_config(options.config_path);
      if (!config) return report_error(options, config.error());
      auto store = open_existing_state_store(*config);
      if (!store) return report_error(options, store.error());
      std::vector<Claim> held;
      if (*store) {
        Status read = (*store)->transaction([&](StoreTransaction& tx) -> Status {
          VF_ASSIGN(all, tx.claims());
          held = std::move(all);
          return ok();
        });
        if (!read) return report_error(options, read.error());
      }
      if (claims_count)
        std::cout << (options.json ? "{ \"claims\": " + std::to_string(held.size()) + " }\n"
                                   : std::to_string(held.size()) + "\n");
      else
        std::cout << (options.json ? claims_json(held) : claims_text(held));
      return kExitDone;
    };
  });

  CLI::App* port = app.add_subcommand("port", "VF ports in domain definitions");
  port->require_subcommand(1);

  std::string add_domain;
  PortOptions add_options;
  CLI::App* add = port->add_subcommand("add", "write a new VF port into a domain's definition");
  add->add_option("DOMAIN", add_domain, "the domain")->required();
  add_options.add_to(add);
  add->callback([&] {
    action = [&]() -> int {
      auto spec = add_options.spec();
      if (!spec) return report_error(options, spec.error());
      auto ctx = host.engine();
      if (!ctx) return report_error(options, ctx.error());
      auto lv = host.libvirt();
      if (!lv) return report_error(options, lv.error());
      std::string left_behind;
      auto added = add_port(add_domain, *spec, **lv, **ctx, left_behind);
      if (!added) {
        report_error(options, added.error());
        return left_behind.empty() ? kExitFailed : kExitPartly;
      }
      std::cout << (options.json ? port_addition_json(*added, false)
                                 : port_addition_text(*added, false));
      return kExitDone;
    };
  });

  std::string render_domain;
  PortOptions render_options;
  CLI::App* render =
      app.add_subcommand("render", "print the <interface> `port add` would write; changes nothing");
  render->add_option("DOMAIN", render_domain, "the domain")->required();
  render_options.add_to(render);
  render->callback([&] {
    action = [&]() -> int {
      auto spec = render_options.spec();
      if (!spec) return report_error(options, spec.error());
      auto ctx = host.engine();
      if (!ctx) return report_error(options, ctx.error());
      auto lv = host.libvirt();
      if (!lv) return report_error(options, lv.error());
      auto planned = plan_port_addition(render_domain, *spec, **lv, **ctx);
      if (!planned) return report_error(options, planned.error());
      std::cout << (options.json ? port_addition_json(*planned, true)
                                 : port_addition_text(*planned, true));
      return kExitDone;
    };
  });

  std::string remove_domain, remove_alias;
  CLI::App* remove = port->add_subcommand("remove", "remove a VF port from a domain's definition");
  remove->add_option("DOMAIN", remove_domain, "the domain")->required();
  remove->add_option("ALIAS", remove_alias, "the port's alias (ua-...)")->required();
  remove->callback([&] {
    action = [&]() -> int {
      auto ctx = host.engine();
      if (!ctx) return report_error(options, ctx.error());
      auto lv = host.libvirt();
      if (!lv) return report_error(options, lv.error());
      auto removed = remove_port(remove_domain, remove_alias, **lv, **ctx);
      if (!removed) return report_error(options, removed.error());
      std::cout << (options.json ? port_removal_json(*removed) : port_removal_text(*removed));
      if (!removed->left_behind.empty()) std::cerr << "vfctl: " << removed->left_behind << "\n";
      return removed->left_behind.empty() ? kExitDone : kExitPartly;
    };
  });

  std::optional<std::string> list_domain;
  CLI::App* list = port->add_subcommand("list", "the VF ports of every domain, or of one");
  list->add_option("DOMAIN", list_domain, "only this domain");
  list->callback([&] {
    action = [&]() -> int {
      auto ctx = host.engine();
      if (!ctx) return report_error(options, ctx.error());
      auto lv = host.libvirt();
      if (!lv) return report_error(options, lv.error());
      auto listing = list_ports(list_domain, **lv, **ctx);
      if (!listing) return report_error(options, listing.error());
      std::cout << (options.json ? port_listing_json(*listing) : port_listing_text(*listing));
      return kExitDone;
    };
  });

  std::string attach_domain;
  PortOptions attach_options;
  bool attach_persistent = false;
  std::optional<std::string> attach_qmp;
  CLI::App* attach = app.add_subcommand(
      "attach", "hot-plug a new VF port into a running domain (libvirt), or a QEMU (--qmp)");
  attach
      ->add_option("DOMAIN", attach_domain,
                   "the running domain; with --qmp, a name for that QEMU (its claims are qmp:NAME)")
      ->required();
  attach_options.add_to(attach);
  CLI::Option* attach_persistent_flag = attach->add_flag("--persistent", attach_persistent,
                                                         "also write the port into the definition");
  attach
      ->add_option("--qmp", attach_qmp,
                   "QMP socket of a QEMU libvirt does not manage; libvirt is not contacted")
      ->excludes(attach_persistent_flag);
  attach->callback([&] {
    action = [&]() -> int {
      auto spec = attach_options.spec();
      if (!spec) return report_error(options, spec.error());
      auto ctx = host.engine();
      if (!ctx) return report_error(options, ctx.error());
      if (attach_qmp) {
        SystemProcessControl process;
        std::string left_behind;
        auto attached = attach_port_qmp(attach_domain, *spec, *attach_qmp, process, **ctx,
                                        QmpHotplugTimeouts{}, left_behind);
        if (!attached) {
          report_error(options, attached.error());
          return left_behind.empty() ? kExitFailed : kExitPartly;
        }
        std::cout << (options.json ? qmp_attachment_json(*attached)
                                   : qmp_attachment_text(*attached));
        return kExitDone;
      }
      auto lv = host.libvirt();
      if (!lv) return report_error(options, lv.error());
      auto attached = attach_port(attach_domain, *spec, attach_persistent, **lv, **ctx);
      if (!attached) return report_error(options, attached.error());
      std::cout << (options.json ? attachment_json(*attached) : attachment_text(*attached));
      if (!attached->left_behind.empty()) std::cerr << "vfctl: " << attached->left_behind << "\n";
      return attached->left_behind.empty() ? kExitDone : kExitPartly;
    };
  });

  std::string detach_domain, detach_alias;
  bool detach_persistent = false;
  unsigned detach_timeout = 30;
  std::optional<std::string> detach_qmp;
  CLI::App* detach = app.add_subcommand(
      "detach", "hot-unplug a VF port from a running domain; restore the VF once it is gone");
  detach
      ->add_option("DOMAIN", detach_domain,
                   "the running domain; with --qmp, a name for that QEMU (its claims are qmp:NAME)")
      ->required();
  detach->add_option("ALIAS", detach_alias, "the port's alias (ua-...)")->required();
  CLI::Option* detach_persistent_flag =
      detach->add_flag("--persistent", detach_persistent, "also remove it from the definition");
  detach->add_option("--timeout", detach_timeout, "seconds to wait for the guest to let go")
      ->capture_default_str()
      ->check(CLI::Range(1u, 3600u));
  detach
      ->add_option("--qmp", detach_qmp,
                   "QMP socket of a QEMU libvirt does not manage; libvirt is not contacted")
      ->excludes(detach_persistent_flag);
  detach->callback([&] {
    action = [&]() -> int {
      auto ctx = host.engine();
      if (!ctx) return report_error(options, ctx.error());
      if (detach_qmp) {
        QmpHotplugTimeouts timeouts;
        timeouts.unplug = std::chrono::seconds(detach_timeout);
        auto detached = detach_port_qmp(detach_domain, detach_alias, *detach_qmp, **ctx, timeouts);
        if (!detached) return report_error(options, detached.error());
        std::cout << (options.json ? detachment_json(*detached) : detachment_text(*detached));
        if (!detached->left_behind.empty()) std::cerr << "vfctl: " << detached->left_behind << "\n";
        return detached->left_behind.empty() ? kExitDone : kExitPartly;
      }
      auto lv = host.libvirt();
      if (!lv) return report_error(options, lv.error());
      auto detached = detach_port(detach_domain, detach_alias, detach_persistent,
                                  std::chrono::seconds(detach_timeout), **lv, **ctx);
      if (!detached) return report_error(options, detached.error());
      std::cout << (options.json ? detachment_json(*detached) : detachment_text(*detached));
      if (!detached->left_behind.empty()) std::cerr << "vfctl: " << detached->left_behind << "\n";
      return detached->left_behind.empty() ? kExitDone : kExitPartly;
    };
  });

  MigrationRequest migration;
  bool migrate_cold = false, migrate_live = false, migrate_no_start = false;
  unsigned migrate_shutdown_timeout = 120;
  unsigned migrate_detach_timeout = 30;
  CLI::App* migrate = app.add_subcommand(
      "migrate",
      "move a domain with VF ports to another host: cold (shut down, move, start there on a new "
      "VF) or live (virtio failover, or detach and re-attach around the migration while a "
      "virtio NIC carries the traffic); MAC, VLAN, NIC name and IP stay");
  migrate->add_option("DOMAIN", migration.domain, "the domain")->required();
  migrate->add_option("DEST_URI", migration.dest_uri, "the destination's libvirt URI")->required();
  CLI::Option* cold_flag =
      migrate->add_flag("--cold", migrate_cold, "move it switched off (offline migration)");
  CLI::Option* live_flag = migrate->add_flag(
      "--live", migrate_live,
      "move it running: VF ports with virtio failover (<teaming>) into a pool with "
      "failover = true; other VF ports are detached here and attached there (the guest needs "
      "a virtio NIC)");
  cold_flag->excludes(live_flag);
  CLI::Option* shutdown_flag = migrate->add_flag("--shutdown", migration.shutdown,
                                                 "--cold: ask a running guest to shut down first");
  migrate
      ->add_option("--shutdown-timeout", migrate_shutdown_timeout,
                   "--cold --shutdown: seconds to wait for the guest")
      ->capture_default_str()
      ->check(CLI::Range(1u, 3600u));
  migrate
      ->add_flag("--force-off", migration.force_off,
                 "--cold --shutdown: stop the guest hard if it is still running after the wait")
      ->needs(shutdown_flag);
  migrate
      ->add_option("--detach-timeout", migrate_detach_timeout,
                   "--live: seconds a VF port without failover may take to leave the guest")
      ->capture_default_str()
      ->check(CLI::Range(1u, 600u));
  migrate->add_flag("--no-start", migrate_no_start,
                    "--cold: leave it defined but off on the destination");
  migrate->callback([&] {
    action = [&]() -> int {
      if (migrate_cold == migrate_live) {
        std::cerr << "vfctl: say how to move it: --cold (shut down, move the definition, start "
                     "it there on a free VF of the same pool) or --live (the guest keeps "
                     "running; VF ports without failover are detached and re-attached)\n";
        return kExitUsage;
      }
      if (migrate_live && (migration.shutdown || migrate_no_start)) {
        std::cerr << "vfctl: --shutdown, --force-off and --no-start go with --cold\n";
        return kExitUsage;
      }
      migration.kind = migrate_live ? MigrationKind::live : MigrationKind::offline;
      migration.shutdown_timeout = std::chrono::seconds(migrate_shutdown_timeout);
      migration.detach_timeout = std::chrono::seconds(migrate_detach_timeout);
      migration.start = !migrate_no_start;
      migration.now_unix = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
      auto ctx = host.engine();
      if (!ctx) return report_error(options, ctx.error());
      auto lv = host.libvirt();
      if (!lv) return report_error(options, lv.error());
      auto dest = connect_libvirt(migration.dest_uri);
      if (!dest) return report_error(options, dest.error());
      // Progress goes to stdout as each step begins; with --json, stdout holds the one object.
      auto progress = [&](const std::string& line) {
        if (!options.json) std::cout << "vfctl: " << line << std::endl;
      };
      auto moved = migrate_domain_to(migration, **lv, **dest, **ctx, progress);
      if (!moved) return report_error(options, moved.error());
      std::cout << (options.json ? migration_json(*moved) : migration_text(*moved));
      if (!moved->left_behind.empty()) std::cerr << "vfctl: " << moved->left_behind << "\n";
      return moved->left_behind.empty() ? kExitDone : kExitPartly;
    };
  });

  std::optional<std::string> dhcp_pool;
  std::string dhcp_format = "dnsmasq";
  std::optional<std::string> dhcp_write;
  CLI::App* dhcp = app.add_subcommand(
      "dhcp-hosts", "the port records' IP addresses as DHCP reservations keyed on each port's MAC");
  dhcp->add_option("--pool", dhcp_pool, "only this pool's ports");
  dhcp->add_option("--format", dhcp_format,
                   "dnsmasq (dhcp-host= lines), dnsmasq-hostsfile, kea (Dhcp4 reservations), "
                   "kea6, libvirt (<host/> of a network)")
      ->capture_default_str()
      ->check(CLI::IsMember({"dnsmasq", "dnsmasq-hostsfile", "kea", "kea6", "libvirt"}));
  dhcp->add_option("--write", dhcp_write,
                   "keep FILE up to date instead of printing: replaced atomically, and left "
                   "alone when unchanged");
  dhcp->callback([&] {
    action = [&]() -> int {
      const std::optional<DhcpFormat> format = parse_dhcp_format(dhcp_format);
      if (!format) return kExitUsage;  // CLI11 checked it
      auto ctx = host.engine();
      if (!ctx) return report_error(options, ctx.error());
      auto lv = host.libvirt();
      if (!lv) return report_error(options, lv.error());
      auto hosts = collect_dhcp_hosts(dhcp_pool, *format, **lv, **ctx);
      if (!hosts) return report_error(options, hosts.error());
      std::optional<DhcpFileUpdate> update;
      if (dhcp_write) {
        RealTextFiles files;
        auto written = write_dhcp_hosts(*hosts, *dhcp_write, files);
        if (!written) return report_error(options, written.error());
        update = *written;
      }
      if (options.json)
        std::cout << dhcp_hosts_json(*hosts, update);
      else
        std::cout << (update ? dhcp_update_text(*hosts, *update) : hosts->text);
      for (const std::string& note : hosts->other_family) std::cerr << "vfctl: " << note << "\n";
      for (const std::string& problem : hosts->problems) std::cerr << "vfctl: " << problem << "\n";
      // Some ports or domains are missing from the reservations: the output says which.
      return hosts->problems.empty() ? kExitDone : kExitPartly;
    };
  });

  CLI::App* gc = app.add_subcommand(
      "gc", "release the VFs of domains that are gone or stopped; drop their reservations");
  gc->callback([&] {
    action = [&]() -> int {
      auto ctx = host.engine();
      if (!ctx) return report_error(options, ctx.error());
      auto lv = host.libvirt();
      if (!lv) return report_error(options, lv.error());
      GcReport report = collect_garbage(**lv, **ctx);
      std::cout << (options.json ? change_report_json(report.changes, report.problems)
                                 : change_report_text(report.changes, report.problems,
                                                      "nothing to collect"));
      if (report.problems.empty()) return kExitDone;
      return report.changes.empty() ? kExitFailed : kExitPartly;
    };
  });

  CLI::App* vfs = app.add_subcommand("vfs", "the pools' VFs on this host");
  vfs->require_subcommand(1);
  CLI::App* apply = vfs->add_subcommand(
      "apply",
      "create the VFs each pool asks for (num_vfs), give them admin MACs, pre-bind idle ones");
  unsigned apply_wait = 0;
  apply
      ->add_option("--wait", apply_wait,
                   "seconds to wait for the pools' PFs to appear (at boot, before udev is done)")
      ->capture_default_str()
      ->check(CLI::Range(0u, 600u));
  apply->callback([&] {
    action = [&]() -> int {
      auto ctx = host.engine();
      if (!ctx) return report_error(options, ctx.error());
      ProvisioningReport report = provision_vfs(**ctx, std::chrono::seconds(apply_wait));
      std::cout << (options.json ? change_report_json(report.changes, report.problems)
                                 : change_report_text(report.changes, report.problems,
                                                      "nothing to do: every pool's VFs are as "
                                                      "configured"));
      if (report.problems.empty()) return kExitDone;
      return report.changes.empty() ? kExitFailed : kExitPartly;
    };
  });

  CLI::App* doctor = app.add_subcommand(
      "doctor", "check that this host is ready for vfhook (IOMMU, vfio-pci, PFs, hook, config)");
  doctor->callback([&] {
    action = [&]() -> int {
      // Not through Host: doctor must run its other checks when the config does not load, and
      // must not create the state directory (opening the store would).
      const Result<HostConfig> config = load_config(options.config_path);
      DirSysfs sysfs("/sys");
      RealHostFiles files;
      auto netlink = LibnlVfNetlink::open();
      DoctorInputs inputs{options.config_path,
                          config,
                          sysfs,
                          files,
                          netlink ? Result<VfNetlink*>(netlink->get())
                                  : Result<VfNetlink*>(tl::unexpected(netlink.error())),
                          DoctorPaths{},
                          nullptr,
                          {}};
      inputs.paths.hook_core = VFHOOK_HOOK_CORE_PATH;
      auto lv = host.libvirt();
      if (lv) {
        inputs.libvirt = *lv;
      } else {
        inputs.libvirt_error = lv.error().message;
      }
      const std::vector<DoctorCheck> checks = run_doctor(inputs);
      std::cout << (options.json ? doctor_json(checks) : doctor_text(checks));
      return doctor_passed(checks) ? kExitDone : kExitFailed;
    };
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  std::string command;
  for (const CLI::App* sub = &app; !sub->get_subcommands().empty();) {
    sub = sub->get_subcommands().front();
    command += (command.empty() ? "" : " ") + sub->get_name();
  }
  host.set_command(command);
  return action ? action() : kExitUsage;
}

}  // namespace
}  // namespace vfhook

int main(int argc, char** argv) {
  return vfhook::run(argc, argv);
}
