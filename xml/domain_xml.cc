#include "xml/domain_xml.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <utility>

#include <libxml/xmlsave.h>

#include "model/names.h"
#include "xml/numa_nodeset.h"
#include "xml/port_record_xml.h"
#include "xml/safe_parse.h"
#include "xml/vf_port_scan.h"
#include "xml/xml_node.h"

namespace vfhook {

std::string_view to_string(PortKind kind) {
  switch (kind) {
    case PortKind::interface_hostdev:
      return "interface type='hostdev'";
    case PortKind::interface_network:
      return "interface type='network'";
    case PortKind::hostdev:
      return "hostdev";
  }
  return "device";
}

namespace {

// text += "#" + std::to_string(n), spelled as two appends: g++ 12 at -O3 reports a false
// -Wrestrict on operator+(const char*, std::string&&) (GCC bug 105651, fixed in g++ 13).
void append_ordinal(std::string& text, size_t ordinal) {
  text += '#';
  text += std::to_string(ordinal);
}

}  // namespace

std::string VfPort::describe() const {
  if (kind == PortKind::hostdev) {
    if (host) return "hostdev " + host->to_string();
    return alias.empty() ? "hostdev #" + std::to_string(ordinal) : "hostdev " + alias;
  }
  std::string text = "interface ";
  if (mac)
    text += mac->to_string();
  else if (!alias.empty())
    text += alias;
  else
    append_ordinal(text, ordinal);
  if (kind == PortKind::interface_network && network) text += " (network " + *network + ")";
  return text;
}

struct DomainXml::Impl {
  xmlnode::DocPtr doc;
  std::string name;
  std::string uuid;
  std::vector<VfPort> ports;
  std::vector<xmlNode*> source_addresses;     // per port; nullptr when unresolved
  std::vector<const xmlNode*> port_elements;  // per port: its <interface> or <hostdev>
  std::vector<int> numa_nodes;

  [[nodiscard]] xmlNode* root() const { return xmlDocGetRootElement(doc.get()); }
};

namespace {

// "interface 52:54:00:aa:00:01 on 0000:01:10.2": tells apart two ports with one MAC.
std::string describe_with_host(const VfPort& port) {
  std::string text = port.describe();
  if (port.host)
    text += " on " + port.host->to_string();
  else
    text += " (VF port #" + std::to_string(port.ordinal + 1) + ")";
  return text;
}

std::string element_text(const xmlNode* node) {
  xmlnode::XmlCharPtr content(xmlNodeGetContent(node));
  return content ? std::string(xmlnode::c(content.get())) : std::string();
}

}  // namespace

Result<DomainXml> DomainXml::parse(std::string_view text) {
  auto impl = std::make_unique<Impl>();
  VF_ASSIGN(doc, xmlnode::parse_untrusted(text, kMaxDomainXmlBytes, "domain XML"));
  impl->doc = std::move(doc);
  const xmlNode* root = impl->root();
  if (root != nullptr && root->ns != nullptr)
    return fail(ErrorKind::invalid_input,
                "domain XML refused: its root element is in a namespace; libvirt's is not");
  if (!xmlnode::is_element(root, "domain"))
    return fail(ErrorKind::invalid_input,
                "domain XML refused: its root element is <" +
                    xmlnode::printable(root != nullptr ? xmlnode::c(root->name) : "") +
                    ">, not <domain>");

  const xmlNode* name = xmlnode::first_child(root, "name");
  if (name == nullptr)
    return fail(ErrorKind::invalid_input, "domain XML refused: it has no <name>");
  impl->name = element_text(name);
  VF_TRY(check_domain_name(impl->name));
  if (const xmlNode* uuid = xmlnode::first_child(root, "uuid")) {
    impl->uuid = element_text(uuid);
    VF_TRY(check_uuid(impl->uuid));
  }

  const xmlNode* memory = xmlnode::first_child(xmlnode::first_child(root, "numatune"), "memory");
  if (auto nodeset = xmlnode::attribute(memory, "nodeset")) {
    VF_ASSIGN(nodes, with_context(parse_numa_nodeset(*nodeset), "<numatune><memory>"));
    impl->numa_nodes = std::move(nodes);
  }

  // Matching records to ports, and the host work per port, grow with their numbers.
  if (size_t records = count_record_elements(root); records > kMaxPortRecords)
    return fail(ErrorKind::invalid_input,
                "domain XML refused: it has more than " + std::to_string(kMaxPortRecords) +
                    " vfhook port records (" + std::to_string(records) + ")");
  VF_ASSIGN(scanned, scan_vf_ports(root, read_record_keys(root)));
  if (scanned.size() > kMaxVfPorts)
    return fail(ErrorKind::invalid_input, "domain XML refused: it has more than " +
                                              std::to_string(kMaxVfPorts) + " VF ports (" +
                                              std::to_string(scanned.size()) + ")");
  for (ScannedPort& port : scanned) {
    impl->ports.push_back(std::move(port.port));
    impl->source_addresses.push_back(port.source_address);
    impl->port_elements.push_back(port.element);
  }
  // libvirt would set one MAC on two VFs, and a record naming it could not tell them apart.
  for (size_t i = 0; i < impl->ports.size(); ++i) {
    for (size_t j = i + 1; j < impl->ports.size(); ++j) {
      const VfPort& a = impl->ports[i];
      const VfPort& b = impl->ports[j];
      if (a.mac && b.mac && *a.mac == *b.mac)
        return fail(ErrorKind::invalid_input,
                    "domain XML refused: two interfaces have MAC " + a.mac->to_string() + ": " +
                        describe_with_host(a) + " and " + describe_with_host(b) +
                        ". Give each its own MAC.");
    }
  }
  return DomainXml(std::move(impl));
}

DomainXml::DomainXml(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DomainXml::DomainXml(DomainXml&&) noexcept = default;
DomainXml& DomainXml::operator=(DomainXml&&) noexcept = default;
DomainXml::~DomainXml() = default;

const std::string& DomainXml::name() const {
  return impl_->name;
}
const std::string& DomainXml::uuid() const {
  return impl_->uuid;
}
const std::vector<VfPort>& DomainXml::vf_ports() const {
  return impl_->ports;
}
namespace {

// libvirt's scaled integers (virScaleInteger): a decimal number of `unit`s.
Result<uint64_t> memory_bytes(const xmlNode* element, const char* where) {
  const std::string text = element_text(element);
  uint64_t value = 0;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  auto [end, error] = std::from_chars(first, last, value);
  if (text.empty() || error != std::errc{} || end != last)
    return fail(ErrorKind::invalid_input,
                std::string(where) + ": '" + xmlnode::printable(text) + "' is not a size");
  const std::string unit = xmlnode::attribute(element, "unit").value_or("KiB");
  static const std::pair<const char*, uint64_t> kUnits[] = {
      {"b", 1},          {"bytes", 1},        {"KB", 1000ULL},
      {"k", 1ULL << 10}, {"KiB", 1ULL << 10}, {"MB", 1000000ULL},
      {"M", 1ULL << 20}, {"MiB", 1ULL << 20}, {"GB", 1000000000ULL},
      {"G", 1ULL << 30}, {"GiB", 1ULL << 30}, {"TB", 1000000000000ULL},
      {"T", 1ULL << 40}, {"TiB", 1ULL << 40}, {"PB", 1000000000000000ULL},
      {"P", 1ULL << 50}, {"PiB", 1ULL << 50}, {"EB", 1000000000000000000ULL},
      {"E", 1ULL << 60}, {"EiB", 1ULL << 60}};
  for (const auto& [name, scale] : kUnits) {
    if (unit != name) continue;
    if (value > UINT64_MAX / scale)
      return fail(ErrorKind::invalid_input,
                  std::string(where) + ": " + text + " " + unit + " is more than 2^64 bytes");
    return value * scale;
  }
  return fail(ErrorKind::invalid_input,
              std::string(where) + ": unknown unit '" + xmlnode::printable(unit) + "'");
}

}  // namespace

Result<DomainXml::MemorySizes> DomainXml::memory_sizes() const {
  const xmlNode* root = impl_->root();
  MemorySizes sizes;
  if (const xmlNode* memory = xmlnode::first_child(root, "memory")) {
    VF_ASSIGN(bytes, memory_bytes(memory, "<memory>"));
    sizes.memory = bytes;
  }
  if (const xmlNode* limit =
          xmlnode::first_child(xmlnode::first_child(root, "memtune"), "hard_limit")) {
    VF_ASSIGN(bytes, memory_bytes(limit, "<memtune><hard_limit>"));
    sizes.hard_limit = bytes;
  }
  return sizes;
}

std::vector<int> DomainXml::memory_numa_nodes() const {
  return impl_->numa_nodes;
}

Result<std::vector<PortRecord>> DomainXml::port_records() const {
  VF_ASSIGN(records, read_port_records(impl_->root()));
  VF_TRY(check_one_device_per_record(records, impl_->ports));
  return records;
}

Status DomainXml::set_port_records(const std::vector<PortRecord>& records) {
  return write_port_records(impl_->root(), records);
}

std::string PlainInterface::describe() const {
  std::string text = "interface ";
  if (!alias.empty())
    text += alias;
  else
    append_ordinal(text, position);
  if (mac) text += " (mac " + mac->to_string() + ")";
  return text;
}

std::string GuestPciDevice::describe() const {
  std::string text = "<" + element + ">";
  if (!alias.empty()) text += " " + alias;
  return text + " at " + address.to_string();
}

Result<std::vector<PlainInterface>> DomainXml::plain_interfaces() const {
  std::vector<PlainInterface> found;
  size_t position = 0;
  for (const xmlNode* devices : xmlnode::children(impl_->root(), "devices")) {
    for (const xmlNode* node = devices->children; node != nullptr; node = node->next) {
      if (!xmlnode::is_element(node, "interface")) continue;
      ++position;
      if (std::find(impl_->port_elements.begin(), impl_->port_elements.end(), node) !=
          impl_->port_elements.end())
        continue;
      PlainInterface iface;
      iface.position = position;
      const std::string label = "<devices> interface #" + std::to_string(position);
      auto bad = [&](const std::string& why) {
        return fail(ErrorKind::invalid_input, label + ": " + why);
      };
      iface.type = xmlnode::attribute(node, "type").value_or("");
      iface.model = xmlnode::attribute(xmlnode::first_child(node, "model"), "type").value_or("");
      if (auto alias = xmlnode::attribute(xmlnode::first_child(node, "alias"), "name")) {
        if (!is_valid_alias(*alias))
          return bad("alias '" + xmlnode::printable(*alias) +
                     "' refused: expected 1..64 of [A-Za-z0-9_-]");
        iface.alias = *alias;
      }
      if (auto mac = xmlnode::attribute(xmlnode::first_child(node, "mac"), "address")) {
        auto parsed = MacAddress::parse(*mac);
        if (!parsed) return bad(parsed.error().message);
        iface.mac = *parsed;
      }
      std::vector<xmlNode*> teamings = xmlnode::children(node, "teaming");
      if (teamings.size() > 1) return bad("two <teaming> elements refused: an interface has one");
      if (!teamings.empty()) {
        const std::string type = xmlnode::attribute(teamings[0], "type").value_or("");
        if (type == "persistent" && xmlnode::attribute(teamings[0], "persistent"))
          return bad(
              "<teaming type='persistent'> with persistent= refused: only the transient "
              "(VF) side names its partner");
        // A transient side that is not a VF port here (a VF of no pool, or not a VF at all) is
        // libvirt's business; only the persistent side matters for pairing.
        iface.teaming_persistent = type == "persistent";
      }
      found.push_back(std::move(iface));
    }
  }
  return found;
}

Result<std::vector<GuestPciDevice>> DomainXml::guest_pci_devices() const {
  std::vector<GuestPciDevice> found;
  for (const xmlNode* devices : xmlnode::children(impl_->root(), "devices")) {
    for (const xmlNode* node = devices->children; node != nullptr; node = node->next) {
      if (node->type != XML_ELEMENT_NODE || node->ns != nullptr) continue;
      const xmlNode* address = xmlnode::first_child(node, "address");
      if (address == nullptr || xmlnode::attribute(address, "type").value_or("") != "pci") continue;
      GuestPciDevice device;
      device.element = xmlnode::c(node->name);
      // A label for messages only ("pci.1" is a libvirt alias too): escaped, never validated.
      device.alias = xmlnode::printable(
          xmlnode::attribute(xmlnode::first_child(node, "alias"), "name").value_or(""), 64);
      VF_ASSIGN(pci, with_context(xmlnode::read_pci_address(address),
                                  "<devices> <" + xmlnode::printable(device.element, 32) +
                                      "> guest address"));
      device.address = pci;
      found.push_back(std::move(device));
    }
  }
  return found;
}

Result<std::optional<MoveMarker>> DomainXml::move_marker() const {
  return read_move_marker(impl_->root());
}

bool DomainXml::remove_move_marker() {
  return remove_move_markers(impl_->root());
}

Status DomainXml::set_move_marker(const MoveMarker& marker) {
  return write_move_marker(impl_->root(), marker);
}

Result<std::string> render_move_marker(const MoveMarker& marker) {
  return render_move_marker_element(marker);
}

Status DomainXml::set_host_source(size_t ordinal, const PciAddress& host) {
  if (ordinal >= impl_->ports.size())
    return fail(ErrorKind::internal, "no VF port #" + std::to_string(ordinal) +
                                         " (the domain has " + std::to_string(impl_->ports.size()) +
                                         ")");
  VfPort& port = impl_->ports[ordinal];
  xmlNode* address = impl_->source_addresses[ordinal];
  if (address == nullptr)
    return fail(ErrorKind::not_found,
                port.describe() +
                    ": its network has not chosen a VF yet (no <actual>), so there is no host "
                    "source to rewrite");
  xmlnode::write_pci_address(address, host);
  port.host = host;
  return ok();
}

std::string DomainXml::serialize() const {
  xmlnode::BufferPtr buffer(xmlBufferCreate());
  if (!buffer) return {};
  // XML_SAVE_NO_DECL: libvirt accepts a declaration, but its own XML never has one.
  xmlSaveCtxt* save = xmlSaveToBuffer(buffer.get(), "UTF-8", XML_SAVE_NO_DECL);
  if (save == nullptr) return {};
  xmlSaveDoc(save, impl_->doc.get());
  xmlSaveClose(save);
  return std::string(xmlnode::c(xmlBufferContent(buffer.get())),
                     static_cast<size_t>(xmlBufferLength(buffer.get())));
}

const PortRecord* find_record(const std::vector<PortRecord>& records, const VfPort& port) {
  if (!port.alias.empty())
    for (const PortRecord& record : records)
      if (record.alias && *record.alias == port.alias) return &record;
  if (port.kind != PortKind::hostdev && port.mac)
    for (const PortRecord& record : records)
      if (record.mac && *record.mac == *port.mac) return &record;
  if (port.kind == PortKind::hostdev && port.host)
    for (const PortRecord& record : records)
      if (record.host && *record.host == *port.host) return &record;
  return nullptr;
}

}  // namespace vfhook
