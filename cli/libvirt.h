// Libvirt: the few libvirt calls vfctl makes, behind an interface. The real one (libvirt's C
// API, libvirt_connection.cc) is linked only into vfctl, never into the hook: a hook that
// calls back into libvirtd deadlocks it. Tests use testing/fake_libvirt.h.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "util/result.h"

namespace vfhook {

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
};

// Connects to `uri` ("qemu:///system"). Errors carry libvirt's own message.
Result<std::unique_ptr<Libvirt>> connect_libvirt(const std::string& uri);

}  // namespace vfhook
