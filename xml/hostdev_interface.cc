// render_hostdev_interface() and render_hostdev(): a new <interface type='hostdev'> or plain
// <hostdev> built as a libxml2 tree, so no value is ever pasted into markup by hand.
#include <libxml/tree.h>

#include "model/names.h"
#include "xml/domain_xml.h"
#include "xml/xml_node.h"

namespace vfhook {

namespace {

Status check_user_alias(const std::string& alias) {
  if (is_valid_user_alias(alias)) return ok();
  return fail(ErrorKind::invalid_input,
              "alias '" + xmlnode::printable(alias) +
                  "' refused: a new device needs a user alias 'ua-' followed by [A-Za-z0-9_-]");
}

Result<std::string> element_text(xmlDoc* doc, xmlNode* element) {
  xmlnode::BufferPtr buffer(xmlBufferCreate());
  if (!buffer) return fail(ErrorKind::internal, "libxml2 could not allocate a buffer");
  if (xmlNodeDump(buffer.get(), doc, element, 0, 1) < 0)
    return fail(ErrorKind::internal, "libxml2 could not serialize the device");
  std::string text(xmlnode::c(xmlBufferContent(buffer.get())),
                   static_cast<size_t>(xmlBufferLength(buffer.get())));
  text += '\n';
  return text;
}

}  // namespace

Result<std::string> render_hostdev(const HostdevSpec& spec) {
  using xmlnode::set_attribute;
  using xmlnode::x;
  VF_TRY(check_user_alias(spec.alias));
  xmlnode::DocPtr doc(xmlNewDoc(x("1.0")));
  if (!doc) return fail(ErrorKind::internal, "libxml2 could not allocate a document");
  xmlNode* hostdev = xmlNewDocNode(doc.get(), nullptr, x("hostdev"), nullptr);
  xmlDocSetRootElement(doc.get(), hostdev);
  set_attribute(hostdev, "mode", "subsystem");
  set_attribute(hostdev, "type", "pci");
  set_attribute(hostdev, "managed", spec.managed ? "yes" : "no");
  xmlNode* source = xmlNewChild(hostdev, nullptr, x("source"), nullptr);
  xmlnode::write_pci_address(xmlNewChild(source, nullptr, x("address"), nullptr), spec.host);
  set_attribute(xmlNewChild(hostdev, nullptr, x("alias"), nullptr), "name", spec.alias);
  return element_text(doc.get(), hostdev);
}

Result<std::string> render_hostdev_interface(const HostdevInterfaceSpec& spec) {
  using xmlnode::set_attribute;
  using xmlnode::x;
  VF_TRY(check_user_alias(spec.alias));
  if (spec.mac.is_multicast() || spec.mac.is_zero())
    return fail(ErrorKind::invalid_input,
                "MAC " + spec.mac.to_string() + " refused: a VF needs a unicast, non-zero MAC");
  if (spec.vlan_tag && (*spec.vlan_tag < 1 || *spec.vlan_tag > 4094))
    return fail(ErrorKind::invalid_input, "VLAN tag " + std::to_string(*spec.vlan_tag) +
                                              " refused: expected 1..4094 (unset: untagged)");

  xmlnode::DocPtr doc(xmlNewDoc(x("1.0")));
  if (!doc) return fail(ErrorKind::internal, "libxml2 could not allocate a document");
  xmlNode* iface = xmlNewDocNode(doc.get(), nullptr, x("interface"), nullptr);
  xmlDocSetRootElement(doc.get(), iface);
  set_attribute(iface, "type", "hostdev");
  set_attribute(iface, "managed", spec.managed ? "yes" : "no");
  set_attribute(xmlNewChild(iface, nullptr, x("mac"), nullptr), "address", spec.mac.to_string());
  xmlNode* source = xmlNewChild(iface, nullptr, x("source"), nullptr);
  xmlNode* host = xmlNewChild(source, nullptr, x("address"), nullptr);
  set_attribute(host, "type", "pci");
  xmlnode::write_pci_address(host, spec.host);
  if (spec.vlan_tag) {
    xmlNode* vlan = xmlNewChild(iface, nullptr, x("vlan"), nullptr);
    set_attribute(xmlNewChild(vlan, nullptr, x("tag"), nullptr), "id",
                  std::to_string(*spec.vlan_tag));
  }
  set_attribute(xmlNewChild(iface, nullptr, x("alias"), nullptr), "name", spec.alias);
  if (spec.guest_address) {
    xmlNode* guest = xmlNewChild(iface, nullptr, x("address"), nullptr);
    set_attribute(guest, "type", "pci");
    xmlnode::write_pci_address(guest, *spec.guest_address);
  }

  return element_text(doc.get(), iface);
}

}  // namespace vfhook
