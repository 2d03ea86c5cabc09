// DomainXml's edits for vfctl: a new hostdev interface with its port record, and the removal
// of a port. Each works on a copy of the document and parses the result again.
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

}  // namespace

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
  VF_ASSIGN(fragment, xmlnode::parse_untrusted(text, 64 * 1024, "the new interface"));
  VF_ASSIGN(records, port_records());
  records.push_back(record);

  VF_ASSIGN(doc, copy_document(*this));
  xmlNode* root = xmlDocGetRootElement(doc.get());
  xmlNode* devices = xmlnode::first_child(root, "devices");
  if (devices == nullptr) devices = xmlNewChild(root, nullptr, xmlnode::x("devices"), nullptr);
  // Aliases are unique across all of a domain's devices, not only its VF ports.
  for (xmlNode* child = devices->children; child != nullptr; child = child->next)
    if (child->type == XML_ELEMENT_NODE && alias_of(child) == spec.alias)
      return fail(ErrorKind::invalid_input,
                  "domain '" + name() + "' already has a device with alias '" + spec.alias + "'");
  xmlNode* copy = xmlDocCopyNode(xmlDocGetRootElement(fragment.get()), doc.get(), 1);
  if (copy == nullptr || xmlAddChild(devices, copy) == nullptr)
    return fail(ErrorKind::internal, "libxml2 could not add the interface");
  VF_TRY(write_port_records(root, records));
  VF_ASSIGN(out, serialized(doc.get()));
  return with_context(DomainXml::parse(out), "the domain XML with the new interface");
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
