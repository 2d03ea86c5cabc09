// The real Libvirt: libvirt's C API over one connection.
#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "cli/libvirt.h"

namespace vfhook {
namespace {

// libvirt delivers domain events only to a process that runs an event loop: the default
// implementation, registered before the connection opens, run on a thread of its own.
class EventLoop {
 public:
  EventLoop() {
    virEventRegisterDefaultImpl();
    thread_ = std::thread([this] {
      while (!stopping_) virEventRunDefaultImpl();
    });
  }
  ~EventLoop() {
    stopping_ = true;
    // A timer that fires at once wakes the loop so that it sees `stopping_`.
    int timer = virEventAddTimeout(
        0, [](int id, void*) { virEventRemoveTimeout(id); }, nullptr, nullptr);
    if (timer >= 0)
      thread_.join();
    else
      thread_.detach();
  }

 private:
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// The state an event callback reaches, owned by the caller and by each registration: libvirt
// drops a registration's reference through its free callback only once no event is being
// delivered to it, so a callback already under way when the caller deregistered and returned
// still finds the state alive.
template <typename T>
void* shared_opaque(const std::shared_ptr<T>& state) {
  return new std::shared_ptr<T>(state);
}
template <typename T>
T& opaque_state(void* opaque) {
  return **static_cast<std::shared_ptr<T>*>(opaque);
}
template <typename T>
void free_opaque(void* opaque) {
  delete static_cast<std::shared_ptr<T>*>(opaque);
}

// What a detach waits for: libvirt's DEVICE_REMOVED or DEVICE_REMOVAL_FAILED for one alias.
struct DetachWait {
  std::string alias;
  std::mutex mutex;
  std::condition_variable changed;
  bool removed = false;
  bool removal_failed = false;
};

void on_device_removed(virConnectPtr, virDomainPtr, const char* alias, void* opaque) {
  auto* wait = &opaque_state<DetachWait>(opaque);
  std::lock_guard lock(wait->mutex);
  if (alias && wait->alias == alias) wait->removed = true;
  wait->changed.notify_all();
}

void on_device_removal_failed(virConnectPtr, virDomainPtr, const char* alias, void* opaque) {
  auto* wait = &opaque_state<DetachWait>(opaque);
  std::lock_guard lock(wait->mutex);
  if (alias && wait->alias == alias) wait->removal_failed = true;
  wait->changed.notify_all();
}

// What a migration's observer is reached through: libvirt's event thread calls on_migration_event
// while `open`; migrate() closes it, under the mutex, before it returns (the observer may be
// gone after that).
struct MigrationWatch {
  const MigrationObserver* observer = nullptr;
  std::mutex mutex;
  bool open = true;
};

void on_migration_event(virConnectPtr, virDomainPtr, const char* event, long long, unsigned int,
                        const char* details, void* opaque) {
  auto* watch = &opaque_state<MigrationWatch>(opaque);
  if (!event || std::string_view(event) != "MIGRATION" || !details) return;
  // Data that does not parse is not a state to act on: the migration's own result still counts.
  auto status = parse_migration_event(details);
  if (!status) return;
  std::lock_guard lock(watch->mutex);
  if (watch->open) (*watch->observer)(*status);
}

// libvirt prints every error to stderr by default; vfctl reports them itself.
void ignore_libvirt_error(void*, virErrorPtr) {}

Error libvirt_error(std::string_view what) {
  virErrorPtr error = virGetLastError();
  ErrorKind kind = ErrorKind::os;
  if (error && (error->code == VIR_ERR_NO_DOMAIN || error->code == VIR_ERR_OPERATION_INVALID))
    kind = error->code == VIR_ERR_NO_DOMAIN ? ErrorKind::not_found : ErrorKind::conflict;
  std::string message = std::string(what) + ": " + virGetLastErrorMessage();
  return Error{kind, std::move(message), 0};
}

struct DomainFree {
  void operator()(virDomainPtr domain) const { virDomainFree(domain); }
};
using DomainPtr = std::unique_ptr<virDomain, DomainFree>;

struct ConnectClose {
  void operator()(virConnectPtr conn) const { virConnectClose(conn); }
};
using ConnectPtr = std::unique_ptr<virConnect, ConnectClose>;

class LibvirtConnection final : public Libvirt {
 public:
  LibvirtConnection(std::unique_ptr<EventLoop> loop, ConnectPtr conn)
      : loop_(std::move(loop)), conn_(std::move(conn)) {}

  Result<std::vector<DomainSummary>> list_domains() override {
    virDomainPtr* domains = nullptr;
    int count = virConnectListAllDomains(conn_.get(), &domains, 0);
    if (count < 0) return fail(libvirt_error("list the domains"));
    std::vector<DomainSummary> out;
    for (int i = 0; i < count; ++i) {
      DomainPtr domain(domains[i]);
      DomainSummary summary;
      if (const char* name = virDomainGetName(domain.get())) summary.name = name;
      summary.active = virDomainIsActive(domain.get()) == 1;
      summary.persistent = virDomainIsPersistent(domain.get()) == 1;
      out.push_back(std::move(summary));
    }
    free(domains);
    return out;
  }

  Result<std::string> domain_xml(const std::string& name, bool live) override {
    VF_ASSIGN(domain, lookup(name));
    if (live && virDomainIsActive(domain.get()) != 1)
      return fail(ErrorKind::not_found, "domain '" + name + "' is not running");
    char* xml = virDomainGetXMLDesc(domain.get(), live ? 0 : VIR_DOMAIN_XML_INACTIVE);
    if (xml == nullptr) return fail(libvirt_error("read the XML of domain '" + name + "'"));
    std::string out(xml);
    free(xml);
    return out;
  }

  Result<bool> is_active(const std::string& name) override {
    VF_ASSIGN(domain, lookup(name));
    int active = virDomainIsActive(domain.get());
    if (active < 0) return fail(libvirt_error("ask whether domain '" + name + "' runs"));
    return active == 1;
  }

  Status define_xml(const std::string& xml) override {
    DomainPtr domain(virDomainDefineXML(conn_.get(), xml.c_str()));
    if (!domain) return fail(libvirt_error("define the domain"));
    return ok();
  }

  Status attach_device(const std::string& name, const std::string& device_xml) override {
    VF_ASSIGN(domain, lookup(name));
    if (virDomainAttachDeviceFlags(domain.get(), device_xml.c_str(), VIR_DOMAIN_AFFECT_LIVE) < 0)
      return fail(libvirt_error("attach the device to domain '" + name + "'"));
    return ok();
  }

  Result<bool> detach_device_and_wait(const std::string& name, const std::string& alias,
                                      std::chrono::milliseconds timeout) override {
    VF_ASSIGN(domain, lookup(name));
    auto shared_wait = std::make_shared<DetachWait>();
    DetachWait& wait = *shared_wait;
    wait.alias = alias;
    // A registration that fails does not call its free callback: the reference is freed here.
    void* removed_opaque = shared_opaque(shared_wait);
    const int removed_id = virConnectDomainEventRegisterAny(
        conn_.get(), domain.get(), VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
        VIR_DOMAIN_EVENT_CALLBACK(on_device_removed), removed_opaque, free_opaque<DetachWait>);
    if (removed_id < 0) {
      free_opaque<DetachWait>(removed_opaque);
      return fail(libvirt_error("watch for the removal of " + alias));
    }
    void* failed_opaque = shared_opaque(shared_wait);
    const int failed_id = virConnectDomainEventRegisterAny(
        conn_.get(), domain.get(), VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED,
        VIR_DOMAIN_EVENT_CALLBACK(on_device_removal_failed), failed_opaque,
        free_opaque<DetachWait>);
    if (failed_id < 0) free_opaque<DetachWait>(failed_opaque);
    auto deregister = [&] {
      virConnectDomainEventDeregisterAny(conn_.get(), removed_id);
      if (failed_id >= 0) virConnectDomainEventDeregisterAny(conn_.get(), failed_id);
    };
    if (virDomainDetachDeviceAlias(domain.get(), alias.c_str(), VIR_DOMAIN_AFFECT_LIVE) < 0) {
      Error error = libvirt_error("ask domain '" + name + "' to release " + alias);
      deregister();
      return fail(std::move(error));
    }
    bool removed = false;
    {
      std::unique_lock lock(wait.mutex);
      wait.changed.wait_for(lock, timeout, [&] { return wait.removed || wait.removal_failed; });
      removed = wait.removed;
    }
    deregister();
    return removed;
  }

  Status shutdown(const std::string& name) override {
    VF_ASSIGN(domain, lookup(name));
    if (virDomainShutdown(domain.get()) < 0)
      return fail(libvirt_error("ask domain '" + name + "' to shut down"));
    return ok();
  }

  Status destroy(const std::string& name) override {
    VF_ASSIGN(domain, lookup(name));
    if (virDomainDestroy(domain.get()) < 0)
      return fail(libvirt_error("stop domain '" + name + "'"));
    return ok();
  }

  Status start_domain(const std::string& name) override {
    VF_ASSIGN(domain, lookup(name));
    if (virDomainCreate(domain.get()) < 0)
      return fail(libvirt_error("start domain '" + name + "'"));
    return ok();
  }

  Status set_config_metadata(const std::string& name, const std::string& uri,
                             const std::string& prefix,
                             const std::optional<std::string>& element_xml) override {
    return set_metadata(name, uri, prefix, element_xml, VIR_DOMAIN_AFFECT_CONFIG);
  }

  Status set_live_metadata(const std::string& name, const std::string& uri,
                           const std::string& prefix,
                           const std::optional<std::string>& element_xml) override {
    return set_metadata(name, uri, prefix, element_xml, VIR_DOMAIN_AFFECT_LIVE);
  }

  Status migrate(const std::string& name, const std::string& dest_uri, MigrationKind kind,
                 const MigrationObserver& observer) override {
    VF_ASSIGN(domain, lookup(name));
    unsigned long flags =
        VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_PERSIST_DEST | VIR_MIGRATE_UNDEFINE_SOURCE;
    flags |= kind == MigrationKind::live ? VIR_MIGRATE_LIVE : VIR_MIGRATE_OFFLINE;
    auto shared_watch = std::make_shared<MigrationWatch>();
    MigrationWatch& watch = *shared_watch;
    watch.observer = &observer;
    // Registered before the migration starts, so that no state is missed. A libvirt that
    // refuses (its ACLs, a driver without QEMU monitor events) leaves the migration unwatched.
    int watch_id = -1;
    if (observer && kind == MigrationKind::live) {
      void* opaque = shared_opaque(shared_watch);
      watch_id = virConnectDomainQemuMonitorEventRegister(conn_.get(), domain.get(), "MIGRATION",
                                                          on_migration_event, opaque,
                                                          free_opaque<MigrationWatch>, 0);
      if (watch_id < 0) free_opaque<MigrationWatch>(opaque);
    }
    const bool migrated =
        virDomainMigrateToURI3(domain.get(), dest_uri.c_str(), nullptr, 0, flags) == 0;
    // libvirt's error first: the deregistration below may replace it.
    std::optional<Error> error;
    if (!migrated) error = libvirt_error("migrate domain '" + name + "' to " + dest_uri);
    if (watch_id >= 0) virConnectDomainQemuMonitorEventDeregister(conn_.get(), watch_id);
    {
      // An event being delivered now finishes first; none reaches the observer after this.
      std::lock_guard lock(watch.mutex);
      watch.open = false;
    }
    if (error) return fail(std::move(*error));
    return ok();
  }

 private:
  Status set_metadata(const std::string& name, const std::string& uri, const std::string& prefix,
                      const std::optional<std::string>& element_xml, unsigned int flags) {
    VF_ASSIGN(domain, lookup(name));
    if (virDomainSetMetadata(domain.get(), VIR_DOMAIN_METADATA_ELEMENT,
                             element_xml ? element_xml->c_str() : nullptr,
                             element_xml ? prefix.c_str() : nullptr, uri.c_str(), flags) < 0)
      return fail(libvirt_error(std::string("write the ") +
                                (flags == VIR_DOMAIN_AFFECT_LIVE ? "live " : "") +
                                "metadata of domain '" + name + "'"));
    return ok();
  }

  Result<DomainPtr> lookup(const std::string& name) {
    DomainPtr domain(virDomainLookupByName(conn_.get(), name.c_str()));
    if (!domain) return fail(libvirt_error("find domain '" + name + "'"));
    return domain;
  }

  std::unique_ptr<EventLoop> loop_;  // declared first: it outlives the connection
  ConnectPtr conn_;
};

}  // namespace

Result<std::unique_ptr<Libvirt>> connect_libvirt(const std::string& uri) {
  virSetErrorFunc(nullptr, ignore_libvirt_error);
  auto loop = std::make_unique<EventLoop>();
  ConnectPtr conn(virConnectOpen(uri.c_str()));
  if (!conn) {
    Error error = libvirt_error("connect to libvirt at " + uri);
    error.message +=
        ". Is libvirtd (or virtqemud) running, and may this user use it? "
        "-c URI picks another connection.";
    return fail(std::move(error));
  }
  return std::unique_ptr<Libvirt>(
      std::make_unique<LibvirtConnection>(std::move(loop), std::move(conn)));
}

}  // namespace vfhook
