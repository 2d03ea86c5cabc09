#include "testing/fake_libvirt.h"

#include <cstdlib>
#include <iostream>

#include "xml/domain_xml.h"

namespace vfhook::testing {

void FakeLibvirt::add_domain(const std::string& xml) {
  auto parsed = DomainXml::parse(xml);
  if (!parsed) {
    std::cerr << "FakeLibvirt: bad domain XML: " << parsed.error().message << "\n";
    std::abort();
  }
  domains[parsed->name()].persistent_xml = xml;
}

void FakeLibvirt::start(const std::string& name, std::optional<std::string> live_xml) {
  Domain& domain = domains.at(name);
  domain.live_xml = live_xml ? *live_xml : domain.persistent_xml;
}

void FakeLibvirt::stop(const std::string& name) {
  domains.at(name).live_xml.reset();
}

Result<std::vector<DomainSummary>> FakeLibvirt::list_domains() {
  std::vector<DomainSummary> out;
  for (const auto& [name, domain] : domains)
    out.push_back({name, domain.live_xml.has_value(), true});
  return out;
}

Result<std::string> FakeLibvirt::domain_xml(const std::string& name, bool live) {
  auto it = domains.find(name);
  if (it == domains.end())
    return fail(ErrorKind::not_found, "find domain '" + name + "': Domain not found");
  if (!live) return it->second.persistent_xml;
  if (!it->second.live_xml)
    return fail(ErrorKind::not_found, "domain '" + name + "' is not running");
  return *it->second.live_xml;
}

Result<bool> FakeLibvirt::is_active(const std::string& name) {
  auto it = domains.find(name);
  if (it == domains.end())
    return fail(ErrorKind::not_found, "find domain '" + name + "': Domain not found");
  return it->second.live_xml.has_value();
}

Status FakeLibvirt::define_xml(const std::string& xml) {
  if (fail_next_define) {
    Error error = *fail_next_define;
    fail_next_define.reset();
    return fail(std::move(error));
  }
  // libvirt parses the whole definition; so does the fake, to catch XML vfctl broke.
  auto parsed = DomainXml::parse(xml);
  if (!parsed)
    return fail(ErrorKind::invalid_input, "define the domain: " + parsed.error().message);
  domains[parsed->name()].persistent_xml = xml;
  defines.push_back(xml);
  return ok();
}

Status FakeLibvirt::attach_device(const std::string& name, const std::string& device_xml) {
  if (fail_next_attach) {
    Error error = *fail_next_attach;
    fail_next_attach.reset();
    return fail(std::move(error));
  }
  auto it = domains.find(name);
  if (it == domains.end() || !it->second.live_xml)
    return fail(ErrorKind::conflict, "domain '" + name + "' is not running");
  std::string& live = *it->second.live_xml;
  const size_t end = live.rfind("</devices>");
  if (end == std::string::npos) return fail(ErrorKind::internal, "fake: no </devices>");
  live.insert(end, device_xml);
  attached.push_back(device_xml);
  return ok();
}

Result<bool> FakeLibvirt::detach_device_and_wait(const std::string& name, const std::string& alias,
                                                 std::chrono::milliseconds) {
  auto it = domains.find(name);
  if (it == domains.end() || !it->second.live_xml)
    return fail(ErrorKind::conflict, "domain '" + name + "' is not running");
  detach_requests.push_back(alias);
  if (guest_keeps_devices) return false;
  // Cut the <interface> or <hostdev> element that holds <alias name='ALIAS'/>.
  std::string& live = *it->second.live_xml;
  size_t at = live.find("<alias name='" + alias + "'/>");
  if (at == std::string::npos) at = live.find("<alias name=\"" + alias + "\"/>");
  if (at == std::string::npos) return fail(ErrorKind::not_found, "no device with alias " + alias);
  for (const char* element : {"interface", "hostdev"}) {
    const size_t open = live.rfind("<" + std::string(element) + " ", at);
    const size_t close = live.find("</" + std::string(element) + ">", at);
    if (open == std::string::npos || close == std::string::npos) continue;
    if (live.rfind("</" + std::string(element) + ">", at) != std::string::npos &&
        live.rfind("</" + std::string(element) + ">", at) > open)
      continue;
    live.erase(open, close + std::string(element).size() + 3 - open);
    return true;
  }
  return fail(ErrorKind::internal, "fake: cannot find the element of alias " + alias);
}

}  // namespace vfhook::testing
