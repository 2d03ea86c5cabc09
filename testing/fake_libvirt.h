// FakeLibvirt: domains held in memory, for tests of vfctl's commands. Records every call that
// would change something, and can be told to fail the next define.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/libvirt.h"

namespace vfhook::testing {

class FakeLibvirt final : public Libvirt {
 public:
  struct Domain {
    std::string persistent_xml;
    std::optional<std::string> live_xml;  // set while it runs
  };

  // Adds a persistent domain from its XML (its <name> is read from it); aborts on bad XML.
  void add_domain(const std::string& xml);
  // Marks it running with this live XML (by default its persistent one).
  void start(const std::string& name, std::optional<std::string> live_xml = std::nullopt);
  void stop(const std::string& name);

  Result<std::vector<DomainSummary>> list_domains() override;
  Result<std::string> domain_xml(const std::string& name, bool live) override;
  Result<bool> is_active(const std::string& name) override;
  Status define_xml(const std::string& xml) override;
  // Adds the device to the live XML's <devices> (the fake's stand-in for QEMU's hotplug).
  Status attach_device(const std::string& name, const std::string& device_xml) override;
  // Removes the device with that alias from the live XML unless `guest_keeps_devices`.
  Result<bool> detach_device_and_wait(const std::string& name, const std::string& alias,
                                      std::chrono::milliseconds timeout) override;

  Status shutdown(const std::string& name) override;
  Status destroy(const std::string& name) override;
  Status start_domain(const std::string& name) override;
  // Edits the persistent XML's <metadata>: the element of namespace `uri` is replaced or
  // removed (the fake writes it as <prefix:element xmlns:prefix="uri" .../>).
  Status set_config_metadata(const std::string& name, const std::string& uri,
                             const std::string& prefix,
                             const std::optional<std::string>& element_xml) override;
  // The same for the live XML; conflict when the domain is not running.
  Status set_live_metadata(const std::string& name, const std::string& uri,
                           const std::string& prefix,
                           const std::optional<std::string>& element_xml) override;
  // Hands the domain to the FakeLibvirt registered in `peers` under `dest_uri`: its
  // `migrate_hook` (the destination's hook) gets the XML and may refuse or rewrite it; then the
  // domain is defined there (running, for live) and gone from here. Like libvirt, a live
  // migration defines the SOURCE's persistent XML there, not the hook's; it runs the
  // destination's `start_hook` with the hook's XML first (a failure aborts the migration).
  // Then, for a live migration, `observer` sees `migration_statuses` as QEMU would report them
  // (libvirt's Prepare, and the hooks, come before QEMU's migration starts); with
  // `fail_next_migration_in_qemu` set, `failed` takes the place of `completed` and the domain
  // stays here, running.
  Status migrate(const std::string& name, const std::string& dest_uri, MigrationKind kind,
                 const MigrationObserver& observer) override;

  // What the destination's migrate hook returns: an error (the migration is aborted with its
  // message), nullopt (the XML stands) or the XML to use instead.
  using MigrateHook = std::function<Result<std::optional<std::string>>(const std::string& xml)>;

  std::map<std::string, Domain> domains;
  std::map<std::string, FakeLibvirt*> peers;  // other hosts, by URI
  MigrateHook migrate_hook;                   // this host as a destination; unset: accept
  // This host's prepare and start hooks (and release after a failure), with the XML a starting
  // QEMU gets: run by start_domain and by an incoming live migration. An error aborts either.
  std::function<Status(const std::string& xml)> start_hook;
  // This host's release hook, run when a QEMU started here for an incoming migration ends
  // because the migration failed.
  std::function<void(const std::string& name)> release_hook;
  std::vector<QemuMigrationStatus> migration_statuses{
      QemuMigrationStatus::setup, QemuMigrationStatus::wait_unplug, QemuMigrationStatus::active,
      QemuMigrationStatus::completed};
  // Called after each state reached the observer: a test looks at the hosts at that moment.
  std::function<void(QemuMigrationStatus)> after_migration_status;
  std::optional<Error> fail_next_migration_in_qemu;  // QEMU fails the next live migration (once)
  std::optional<Error> fail_next_live_metadata;  // returned (once) by the next set_live_metadata
  bool guest_ignores_shutdown = false;           // shutdown() leaves it running
  std::optional<Error> fail_next_start;          // returned (once) by the next start_domain
  // "shutdown web1", "migrate web1 URI live", "detach web1 ua-x", "attach web1", ...
  std::vector<std::string> calls;
  std::vector<std::string> defines;          // the XML of every successful define, in order
  std::optional<Error> fail_next_define;     // returned (once) by the next define_xml
  std::optional<Error> fail_next_attach;     // returned (once) by the next attach_device
  bool guest_keeps_devices = false;          // a guest that ignores unplug requests
  std::vector<std::string> attached;         // every attached device's XML, in order
  std::vector<std::string> detach_requests;  // aliases asked for
};

}  // namespace vfhook::testing
