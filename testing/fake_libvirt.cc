#include "testing/fake_libvirt.h"

#include <cstdlib>
#include <iostream>
#include <utility>

#include "xml/domain_xml.h"

namespace vfhook::testing {
namespace {

// A failure set to happen once: returned and cleared.
std::optional<Error> take_failure(std::optional<Error>& once) {
  std::optional<Error> error = std::move(once);
  once.reset();
  return error;
}

}  // namespace

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
  if (auto error = take_failure(fail_next_define)) return fail(std::move(*error));
  // libvirt parses the whole definition; so does the fake, to catch XML vfctl broke.
  auto parsed = DomainXml::parse(xml);
  if (!parsed)
    return fail(ErrorKind::invalid_input, "define the domain: " + parsed.error().message);
  domains[parsed->name()].persistent_xml = xml;
  defines.push_back(xml);
  return ok();
}

Status FakeLibvirt::attach_device(const std::string& name, const std::string& device_xml) {
  if (auto error = take_failure(fail_next_attach)) return fail(std::move(*error));
  auto it = domains.find(name);
  if (it == domains.end() || !it->second.live_xml)
    return fail(ErrorKind::conflict, "domain '" + name + "' is not running");
  std::string& live = *it->second.live_xml;
  const size_t end = live.rfind("</devices>");
  if (end == std::string::npos) return fail(ErrorKind::internal, "fake: no </devices>");
  live.insert(end, device_xml);
  attached.push_back(device_xml);
  calls.push_back("attach " + name);
  return ok();
}

Result<bool> FakeLibvirt::detach_device_and_wait(const std::string& name, const std::string& alias,
                                                 std::chrono::milliseconds) {
  auto it = domains.find(name);
  if (it == domains.end() || !it->second.live_xml)
    return fail(ErrorKind::conflict, "domain '" + name + "' is not running");
  detach_requests.push_back(alias);
  calls.push_back("detach " + name + " " + alias);
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

Status FakeLibvirt::shutdown(const std::string& name) {
  calls.push_back("shutdown " + name);
  auto it = domains.find(name);
  if (it == domains.end() || !it->second.live_xml)
    return fail(ErrorKind::conflict, "domain '" + name + "' is not running");
  if (!guest_ignores_shutdown) it->second.live_xml.reset();
  return ok();
}

Status FakeLibvirt::destroy(const std::string& name) {
  calls.push_back("destroy " + name);
  auto it = domains.find(name);
  if (it == domains.end() || !it->second.live_xml)
    return fail(ErrorKind::conflict, "domain '" + name + "' is not running");
  it->second.live_xml.reset();
  return ok();
}

Status FakeLibvirt::start_domain(const std::string& name) {
  calls.push_back("start " + name);
  if (auto error = take_failure(fail_next_start)) return fail(std::move(*error));
  auto it = domains.find(name);
  if (it == domains.end()) return fail(ErrorKind::not_found, "find domain '" + name + "'");
  if (it->second.live_xml) return fail(ErrorKind::conflict, "domain is already running");
  if (start_hook) VF_TRY(start_hook(it->second.persistent_xml));
  it->second.live_xml = it->second.persistent_xml;
  return ok();
}

namespace {

// Replaces or removes the <metadata> element of namespace `uri` in `xml` as libvirt's
// virDomainSetMetadata does: only the given element goes into the namespace (its children stay
// in none). The fake only meets elements it wrote itself.
Status edit_metadata(std::string& xml, const std::string& uri, const std::string& prefix,
                     const std::optional<std::string>& element_xml) {
  const std::string declaration = "xmlns:" + prefix + "=\"" + uri + "\"";
  if (size_t at = xml.find(declaration); at != std::string::npos) {
    const size_t open = xml.rfind('<', at);
    const size_t tag_end = xml.find('>', at);
    size_t end = tag_end + 1;  // just past a self-closing element
    if (xml[tag_end - 1] != '/') {
      const size_t end_tag = xml.find("</" + prefix + ":", at);
      if (end_tag == std::string::npos) return fail(ErrorKind::internal, "fake: no end tag");
      end = xml.find('>', end_tag) + 1;
    }
    xml.erase(open, end - open);
  }
  if (element_xml) {
    // <move a="b"/> becomes <prefix:move xmlns:prefix="uri" a="b"/>; a closing </move> too.
    std::string element = *element_xml;
    if (element.size() < 3 || element[0] != '<')
      return fail(ErrorKind::invalid_input, "fake: metadata is not an element");
    const size_t name_end = element.find_first_of(" />", 1);
    const std::string name = element.substr(1, name_end - 1);
    if (element.compare(element.size() - 2, 2, "/>") != 0) {
      const size_t close = element.rfind("</" + name + ">");
      if (close == std::string::npos) return fail(ErrorKind::invalid_input, "fake: no end tag");
      element.insert(close + 2, prefix + ":");
    }
    element.insert(name_end, " " + declaration);
    element.insert(1, prefix + ":");
    if (size_t meta = xml.find("</metadata>"); meta != std::string::npos) {
      xml.insert(meta, element);
    } else {
      const size_t after_name = xml.find("</name>");
      if (after_name == std::string::npos) return fail(ErrorKind::internal, "fake: no </name>");
      xml.insert(after_name + 7, "<metadata>" + element + "</metadata>");
    }
  }
  if (!DomainXml::parse(xml))
    return fail(ErrorKind::internal, "fake: the metadata edit broke the XML");
  return ok();
}

}  // namespace

Status FakeLibvirt::set_config_metadata(const std::string& name, const std::string& uri,
                                        const std::string& prefix,
                                        const std::optional<std::string>& element_xml) {
  calls.push_back("metadata " + name + " " + uri + (element_xml ? " set" : " removed"));
  auto it = domains.find(name);
  if (it == domains.end()) return fail(ErrorKind::not_found, "find domain '" + name + "'");
  return edit_metadata(it->second.persistent_xml, uri, prefix, element_xml);
}

Status FakeLibvirt::set_live_metadata(const std::string& name, const std::string& uri,
                                      const std::string& prefix,
                                      const std::optional<std::string>& element_xml) {
  calls.push_back("live metadata " + name + " " + uri + (element_xml ? " set" : " removed"));
  if (auto error = take_failure(fail_next_live_metadata)) return fail(std::move(*error));
  auto it = domains.find(name);
  if (it == domains.end()) return fail(ErrorKind::not_found, "find domain '" + name + "'");
  if (!it->second.live_xml)
    return fail(ErrorKind::conflict, "domain '" + name + "' is not running");
  return edit_metadata(*it->second.live_xml, uri, prefix, element_xml);
}

Status FakeLibvirt::migrate(const std::string& name, const std::string& dest_uri,
                            MigrationKind kind, const MigrationObserver& observer) {
  const bool live = kind == MigrationKind::live;
  calls.push_back("migrate " + name + " " + dest_uri + (live ? " live" : " offline"));
  auto it = domains.find(name);
  if (it == domains.end()) return fail(ErrorKind::not_found, "find domain '" + name + "'");
  auto peer = peers.find(dest_uri);
  if (peer == peers.end())
    return fail(ErrorKind::os,
                "migrate domain '" + name + "' to " + dest_uri + ": unable to connect to server");
  if (live && !it->second.live_xml)
    return fail(ErrorKind::conflict, "migrate domain '" + name + "': domain is not running");
  FakeLibvirt& dest = *peer->second;
  if (dest.domains.count(name))
    return fail(ErrorKind::conflict, "migrate domain '" + name + "' to " + dest_uri + ": domain '" +
                                         name + "' already exists");
  std::string xml = live ? *it->second.live_xml : it->second.persistent_xml;
  if (dest.migrate_hook) {
    auto hooked = dest.migrate_hook(xml);
    if (!hooked)
      return fail(hooked.error().kind,
                  "migrate domain '" + name + "' to " + dest_uri +
                      ": Hook script execution failed: " + hooked.error().message);
    if (*hooked) xml = **hooked;
  }
  // An incoming live migration starts a QEMU there: its prepare and start hooks run first.
  if (live && dest.start_hook) {
    if (auto started = dest.start_hook(xml); !started)
      return fail(started.error().kind,
                  "migrate domain '" + name + "' to " + dest_uri +
                      ": Hook script execution failed: " + started.error().message);
  }
  if (live) {
    const std::optional<Error> qemu_failure = take_failure(fail_next_migration_in_qemu);
    for (QemuMigrationStatus status : migration_statuses) {
      if (qemu_failure && status == QemuMigrationStatus::completed)
        status = QemuMigrationStatus::failed;
      if (observer) observer(status);
      if (after_migration_status) after_migration_status(status);
    }
    if (qemu_failure) {
      // libvirt's Finish on the destination kills the QEMU it started there (its release hook
      // runs) and undefines what the migration defined.
      if (dest.release_hook) dest.release_hook(name);
      return fail(qemu_failure->kind,
                  "migrate domain '" + name + "' to " + dest_uri + ": " + qemu_failure->message);
    }
  }
  // As libvirt with PERSIST_DEST: a live migration keeps the source's persistent definition
  // (sent in the migration cookie), not the XML the hook rewrote.
  dest.domains[name].persistent_xml = live ? it->second.persistent_xml : xml;
  if (live) dest.domains[name].live_xml = xml;
  domains.erase(it);
  return ok();
}

}  // namespace vfhook::testing
