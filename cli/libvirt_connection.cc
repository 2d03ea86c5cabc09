// The real Libvirt: libvirt's C API over one connection.
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "cli/libvirt.h"

namespace vfhook {
namespace {

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
  explicit LibvirtConnection(ConnectPtr conn) : conn_(std::move(conn)) {}

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

 private:
  Result<DomainPtr> lookup(const std::string& name) {
    DomainPtr domain(virDomainLookupByName(conn_.get(), name.c_str()));
    if (!domain) return fail(libvirt_error("find domain '" + name + "'"));
    return domain;
  }

  ConnectPtr conn_;
};

}  // namespace

Result<std::unique_ptr<Libvirt>> connect_libvirt(const std::string& uri) {
  virSetErrorFunc(nullptr, ignore_libvirt_error);
  ConnectPtr conn(virConnectOpen(uri.c_str()));
  if (!conn) {
    Error error = libvirt_error("connect to libvirt at " + uri);
    error.message +=
        ". Is libvirtd (or virtqemud) running, and may this user use it? "
        "-c URI picks another connection.";
    return fail(std::move(error));
  }
  return std::unique_ptr<Libvirt>(std::make_unique<LibvirtConnection>(std::move(conn)));
}

}  // namespace vfhook
