#include "xml/xml_node.h"

#include <cstdio>
#include <cstring>

#include "util/printable.h"

namespace vfhook::xmlnode {

bool is_element(const xmlNode* node, const char* name) {
  return node != nullptr && node->type == XML_ELEMENT_NODE && node->ns == nullptr &&
         std::strcmp(c(node->name), name) == 0;
}

std::vector<xmlNode*> children(const xmlNode* parent, const char* name) {
  std::vector<xmlNode*> found;
  if (parent == nullptr) return found;
  for (xmlNode* child = parent->children; child != nullptr; child = child->next)
    if (is_element(child, name)) found.push_back(child);
  return found;
}

xmlNode* first_child(const xmlNode* parent, const char* name) {
  if (parent == nullptr) return nullptr;
  for (xmlNode* child = parent->children; child != nullptr; child = child->next)
    if (is_element(child, name)) return child;
  return nullptr;
}

std::optional<std::string> attribute(const xmlNode* node, const char* name) {
  if (node == nullptr) return std::nullopt;
  XmlCharPtr value(xmlGetNoNsProp(node, x(name)));
  if (!value) return std::nullopt;
  return std::string(c(value.get()));
}

void set_attribute(xmlNode* node, const char* name, const std::string& value) {
  xmlSetProp(node, x(name), x(value.c_str()));
}

Result<PciAddress> read_pci_address(const xmlNode* address) {
  auto type = attribute(address, "type");
  if (type && *type != "pci")
    return fail(ErrorKind::invalid_input,
                "address type='" + printable(*type) + "' is not a PCI address");
  auto domain = attribute(address, "domain");
  auto bus = attribute(address, "bus");
  auto slot = attribute(address, "slot");
  auto function = attribute(address, "function");
  if (!domain || !bus || !slot || !function)
    return fail(ErrorKind::invalid_input,
                "PCI address lacks one of domain, bus, slot, function (libvirt writes all four)");
  return PciAddress::from_xml_parts(*domain, *bus, *slot, *function);
}

void write_pci_address(xmlNode* address, const PciAddress& pci) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04x", pci.domain);
  set_attribute(address, "domain", buf);
  std::snprintf(buf, sizeof buf, "0x%02x", pci.bus);
  set_attribute(address, "bus", buf);
  std::snprintf(buf, sizeof buf, "0x%02x", pci.slot);
  set_attribute(address, "slot", buf);
  std::snprintf(buf, sizeof buf, "0x%x", pci.function);
  set_attribute(address, "function", buf);
}

}  // namespace vfhook::xmlnode
