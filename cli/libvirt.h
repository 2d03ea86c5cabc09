// Libvirt: the few libvirt calls vfctl makes, behind an interface. The real one (libvirt's C
// API, libvirt_connection.cc) is linked only into vfctl, never into the hook: a hook that
// calls back into libvirtd deadlocks it. Tests use testing/fake_libvirt.h.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "qmp/migration_status.h"
#include "util/result.h"

namespace vfhook {

// How a domain moves to another host (Libvirt::migrate).
enum class MigrationKind {
  offline,  // the definition only; the domain is off
  live,     // the running guest (libvirt refuses a VF port without virtio failover)
};

// Sees each state QEMU reports for the domain's migration on this host (its MIGRATION events).
// Called on libvirt's event thread while Libvirt::migrate runs, one call at a time, and never
// after migrate returned.
using MigrationObserver = std::function<void(QemuMigrationStatus)>;

struct DomainSummary {
  std::string name;
  bool active = false;
  bool persistent = false;
};

class Libvirt {
 public:
  virtual ~Libvirt() = default;
  virtual Result<std::vector<DomainSummary>> list_domains() = 0;
  // The persistent definition (what the next start uses) when !live; the running domain's XML
  // when live. not_found when there is no such domain (or it is not running, for live).
  virtual Result<std::string> domain_xml(const std::string& name, bool live) = 0;
  virtual Result<bool> is_active(const std::string& name) = 0;
  // Defines (or redefines) a domain from XML: virDomainDefineXML.
  virtual Status define_xml(const std::string& xml) = 0;

  // Hot-plugs a device into the running domain only (virDomainAttachDeviceFlags, AFFECT_LIVE):
  // vfctl writes the definition itself, with the port record beside the device.
  virtual Status attach_device(const std::string& name, const std::string& device_xml) = 0;
  // Asks the running domain to let go of the device with this alias (virDomainDetachDeviceAlias,
  // AFFECT_LIVE) and waits at most `timeout` for libvirt's DEVICE_REMOVED event for it, which
  // is registered for before asking. true: the event came; false: the time ran out or
  // DEVICE_REMOVAL_FAILED came, and the guest still has the device. libvirt's own return only
  // means "requested": it reports success after 5 s even when the guest ignored the request.
  virtual Result<bool> detach_device_and_wait(const std::string& name, const std::string& alias,
                                              std::chrono::milliseconds timeout) = 0;

  // Asks the guest to shut down (virDomainShutdown: ACPI or the guest agent, as libvirt
  // chooses). Returns when asked; the guest may take its time, or ignore it.
  virtual Status shutdown(const std::string& name) = 0;
  // Stops the guest at once (virDomainDestroy); libvirt runs the stopped/release hooks.
  virtual Status destroy(const std::string& name) = 0;
  // Starts a defined domain (virDomainCreate); the prepare/start hooks run on that host.
  virtual Status start_domain(const std::string& name) = 0;
  // Sets the metadata element of namespace `uri` (prefix `prefix`) in the persistent definition
  // to `element_xml` (one element, written without a prefix), or removes it when nullopt
  // (virDomainSetMetadata, VIR_DOMAIN_METADATA_ELEMENT, AFFECT_CONFIG).
  virtual Status set_config_metadata(const std::string& name, const std::string& uri,
                                     const std::string& prefix,
                                     const std::optional<std::string>& element_xml) = 0;
  // The same in the running domain's XML only (VIR_DOMAIN_AFFECT_LIVE): it travels with a live
  // migration and is gone when the guest stops. conflict when the domain is not running.
  virtual Status set_live_metadata(const std::string& name, const std::string& uri,
                                   const std::string& prefix,
                                   const std::optional<std::string>& element_xml) = 0;
  // Moves the domain to the libvirt at `dest_uri`, peer to peer (this side's libvirtd connects
  // to the destination itself), keeping it defined there and undefining it here
  // (PERSIST_DEST | UNDEFINE_SOURCE; offline adds OFFLINE, live adds LIVE). The destination's
  // migrate hook runs and may refuse. On failure the domain is still here, as it was.
  // `observer` (may be empty) follows a live migration's states as QEMU reports them (through
  // libvirt's QEMU monitor events, virConnectDomainQemuMonitorEventRegister); when libvirt
  // cannot report them, the migration runs without it.
  virtual Status migrate(const std::string& name, const std::string& dest_uri, MigrationKind kind,
                         const MigrationObserver& observer) = 0;
};

// Connects to `uri` ("qemu:///system"). Errors carry libvirt's own message.
Result<std::unique_ptr<Libvirt>> connect_libvirt(const std::string& uri);

}  // namespace vfhook
