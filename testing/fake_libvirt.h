// FakeLibvirt: domains held in memory, for tests of vfctl's commands. Records every call that
// would change something, and can be told to fail the next define.
#pragma once

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

  std::map<std::string, Domain> domains;
  std::vector<std::string> defines;          // the XML of every successful define, in order
  std::optional<Error> fail_next_define;     // returned (once) by the next define_xml
  std::optional<Error> fail_next_attach;     // returned (once) by the next attach_device
  bool guest_keeps_devices = false;          // a guest that ignores unplug requests
  std::vector<std::string> attached;         // every attached device's XML, in order
  std::vector<std::string> detach_requests;  // aliases asked for
};

}  // namespace vfhook::testing
