// Small RAII owners for libxml2 objects and the few node helpers the xml/ module needs.
// Internal to xml/: nothing outside this directory includes libxml2.
//
// Helpers look only at elements and attributes WITHOUT a namespace (libvirt's own), so an
// element such as <qemu:commandline> can never be mistaken for a libvirt one.
#pragma once

#include <libxml/tree.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/pci_address.h"
#include "util/printable.h"
#include "util/result.h"

namespace vfhook::xmlnode {

// util's printable(), as the XML code has always spelled it.
using ::vfhook::printable;

struct DocFree {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocFree>;

struct NodeFree {
  void operator()(xmlNode* node) const { xmlFreeNode(node); }
};
using NodePtr = std::unique_ptr<xmlNode, NodeFree>;

struct XmlCharFree {
  void operator()(xmlChar* text) const { xmlFree(text); }
};
using XmlCharPtr = std::unique_ptr<xmlChar, XmlCharFree>;

struct BufferFree {
  void operator()(xmlBuffer* buffer) const { xmlBufferFree(buffer); }
};
using BufferPtr = std::unique_ptr<xmlBuffer, BufferFree>;

inline const xmlChar* x(const char* text) {
  return reinterpret_cast<const xmlChar*>(text);
}
inline const char* c(const xmlChar* text) {
  return reinterpret_cast<const char*>(text);
}

// An element with this local name and no namespace.
bool is_element(const xmlNode* node, const char* name);
// Direct child elements with this name (no namespace), in document order.
std::vector<xmlNode*> children(const xmlNode* parent, const char* name);
// The first such child, or nullptr.
xmlNode* first_child(const xmlNode* parent, const char* name);
// A namespace-less attribute's value, or nullopt when absent.
std::optional<std::string> attribute(const xmlNode* node, const char* name);
void set_attribute(xmlNode* node, const char* name, const std::string& value);

// Reads <address domain= bus= slot= function=/> (libvirt's PCI form) strictly.
Result<PciAddress> read_pci_address(const xmlNode* address);
// Writes the four attributes in libvirt's own spelling (domain='0x0000' bus='0x01' ...).
void write_pci_address(xmlNode* address, const PciAddress& pci);

// Untrusted text made safe to quote in a message (util/printable.h).
using ::vfhook::printable;


}  // namespace vfhook::xmlnode
