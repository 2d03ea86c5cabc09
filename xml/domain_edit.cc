// DomainXml's edits for vfctl: a new hostdev interface or plain hostdev with its port record,
// and the removal of a port. Each works on a copy of the document and parses the result again.
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include <algorithm>

#include "xml/domain_xml.h"
#include "xml/port_record_xml.h"
#include "xml/safe_parse.h"
#include "xml/xml_node.h"

namespace vfhook {
namespace {

// A private, mutable copy of the document (this object's own text, parsed again).
Result<xmlnode::DocPtr> copy_document(const DomainXml& domain) {
  return xmlnode::parse_untrusted(domain.serialize(), kMaxDomainXmlBytes, "domain XML");
}

Result<std::string> serialized(xmlDoc* doc) {
  xmlnode::BufferPtr buffer(xmlBufferCreate());
  if (!buffer) return fail(ErrorKind::internal, "libxml2 could not allocate a buffer");
  xmlSaveCtxt* save = xmlSaveToBuffer(buffer.get(), "UTF-8", XML_SAVE_NO_DECL);
  if (save == nullptr) return fail(ErrorKind::internal, "libxml2 could not serialize");
  xmlSaveDoc(save, doc);
  xmlSaveClose(save);
  return std::string(xmlnode::c(xmlBufferContent(buffer.get())),
                     static_cast<size_t>(xmlBufferLength(buffer.get())));
}

// The alias of a device element (<alias name>), "" when it has none.
std::string alias_of(const xmlNode* device) {
  return xmlnode::attribute(xmlnode::first_child(device, "alias"), "name").value_or("");
}

// `domain` with the device element `device_text` (already rendered, `what` names it) appended
// to <devices> and `record` added to its port records, parsed again. Refuses an alias any
// device of the domain already has.
Result<DomainXml> with_device(const DomainXml& domain, const std::string& device_text,
                              const std::string& alias, const PortRecord& record,
                              const std::string& what) {
  VF_ASSIGN(fragment, xmlnode::parse_untrusted(device_text, 64 * 1024, what));
  VF_ASSIGN(records, domain.port_records());
  records.push_back(record);

  VF_ASSIGN(doc, copy_document(domain));
  xmlNode* root = xmlDocGetRootElement(doc.get());
  xmlNode* devices = xmlnode::first_child(root, "devices");
  if (devices == nullptr) devices = xmlNewChild(root, nullptr, xmlnode::x("devices"), nullptr);
  // Aliases are unique across all of a domain's devices, not only its VF ports.
  for (xmlNode* child = devices->children; child != nullptr; child = child->next)
    if (child->type == XML_ELEMENT_NODE && alias_of(child) == alias)
      return fail(ErrorKind::invalid_input,
                  "domain '" + domain.name() + "' already has a device with alias '" + alias + "'");
  xmlNode* copy = xmlDocCopyNode(xmlDocGetRootElement(fragment.get()), doc.get(), 1);
  if (copy == nullptr || xmlAddChild(devices, copy) == nullptr)
    return fail(ErrorKind::internal, "libxml2 could not add " + what);
  VF_TRY(write_port_records(root, records));
  VF_ASSIGN(out, serialized(doc.get()));
  return with_context(DomainXml::parse(out), "the domain XML with " + what);
}

}  // namespace

Result<DomainXml> DomainXml::with_hostdev(const HostdevSpec& spec, const PortRecord& record) const {
  for (const VfPort& port : vf_ports()) {
    if (port.alias == spec.alias)
      return fail(ErrorKind::invalid_input, "domain '" + name() + "' already has a device " +
                                                "with alias '" + spec.alias + "' (" +
                                                port.describe() + ")");
    if (port.host && *port.host == spec.host)
      return fail(ErrorKind::invalid_input, "domain '" + name() + "' already has " +
                                                spec.host.to_string() + " (" + port.describe() +
                                                ")");
  }
  VF_ASSIGN(text, render_hostdev(spec));
  return with_device(*this, text, spec.alias, record, "the new hostdev");
}

Result<DomainXml> DomainXml::with_hostdev_interface(const HostdevInterfaceSpec& spec,
                                                    const PortRecord& record) const {
  for (const VfPort& port : vf_ports()) {
    if (port.alias == spec.alias)
      return fail(ErrorKind::invalid_input, "domain '" + name() + "' already has a device " +
                                                "with alias '" + spec.alias + "' (" +
                                                port.describe() + ")");
    if (port.mac && *port.mac == spec.mac)
      return fail(ErrorKind::invalid_input, "domain '" + name() + "' already has MAC " +
                                                spec.mac.to_string() + " (" + port.describe() +
                                                ")");
  }
  VF_ASSIGN(text, render_hostdev_interface(spec));
  return with_device(*this, text, spec.alias, record, "the new interface");
}

Result<DomainXml> DomainXml::without_port(std::string_view alias) const {
  auto port = std::find_if(vf_ports().begin(), vf_ports().end(),
                           [&](const VfPort& p) { return !alias.empty() && p.alias == alias; });
  if (port == vf_ports().end())
    return fail(ErrorKind::not_found, "domain '" + name() + "' has no VF port with alias '" +
                                          xmlnode::printable(std::string(alias)) + "'");
  VF_ASSIGN(records, port_records());
  const PortRecord* described = find_record(records, *port);
  std::vector<PortRecord> kept;
  for (const PortRecord& record : records)
    if (&record != described) kept.push_back(record);

  VF_ASSIGN(doc, copy_document(*this));
  xmlNode* root = xmlDocGetRootElement(doc.get());
  xmlNode* devices = xmlnode::first_child(root, "devices");
  xmlNode* found = nullptr;
  for (xmlNode* child = devices ? devices->children : nullptr; child != nullptr;
       child = child->next)
    if (child->type == XML_ELEMENT_NODE &&
        (xmlnode::is_element(child, "interface") || xmlnode::is_element(child, "hostdev")) &&
        alias_of(child) == alias)
      found = child;
  if (found == nullptr)
    return fail(ErrorKind::internal, "the port with alias '" + std::string(alias) +
                                         "' was listed but its element is gone");
  xmlUnlinkNode(found);
  xmlFreeNode(found);
  VF_TRY(write_port_records(root, kept));
  VF_ASSIGN(out, serialized(doc.get()));
  return with_context(DomainXml::parse(out), "the domain XML without the port");
}

}  // namespace vfhook
