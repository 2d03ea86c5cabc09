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

}  // namespace vfhook::testing
