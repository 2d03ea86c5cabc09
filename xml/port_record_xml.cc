#include "xml/port_record_xml.h"

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>
#include <string_view>

#include "model/names.h"
#include "xml/xml_node.h"

namespace vfhook {
namespace {

using xmlnode::attribute;
using xmlnode::c;
using xmlnode::printable;
using xmlnode::set_attribute;
using xmlnode::x;

bool in_namespace(const xmlNode* node, const char* uri) {
  return node->type == XML_ELEMENT_NODE && node->ns != nullptr && node->ns->href != nullptr &&
         std::strcmp(c(node->ns->href), uri) == 0;
}

bool in_port_namespace(const xmlNode* node) {
  return in_namespace(node, kPortNamespace);
}

// The elements of one namespace under <metadata>, whatever prefix the document gave it.
std::vector<xmlNode*> metadata_elements(const xmlNode* root, const char* uri) {
  std::vector<xmlNode*> found;
  const xmlNode* metadata = xmlnode::first_child(root, "metadata");
  if (metadata == nullptr) return found;
  for (xmlNode* child = metadata->children; child != nullptr; child = child->next)
    if (in_namespace(child, uri)) found.push_back(child);
  return found;
}

// vfhook's port record element(s) under <metadata>.
std::vector<xmlNode*> vfhook_elements(const xmlNode* root) {
  return metadata_elements(root, kPortNamespace);
}

bool parse_decimal(std::string_view text, uint64_t max, uint64_t& out) {
  if (text.empty() || text.size() > 10) return false;
  out = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9') return false;
    out = out * 10 + static_cast<uint64_t>(ch - '0');
  }
  return out <= max;
}

bool is_ip_address(std::string_view text) {
  if (text.empty() || text.size() > 45) return false;  // INET6_ADDRSTRLEN - 1
  std::string copy(text);
  unsigned char buf[16];
  return inet_pton(AF_INET, copy.c_str(), buf) == 1 || inet_pton(AF_INET6, copy.c_str(), buf) == 1;
}

std::string record_label(size_t index, const std::optional<std::string>& alias,
                         const std::optional<std::string>& mac) {
  std::string label = "vfhook port record #" + std::to_string(index + 1);
  if (alias)
    label += " (alias " + printable(*alias) + ")";
  else if (mac)
    label += " (mac " + printable(*mac) + ")";
  return label;
}

std::string record_label(size_t index, const PortRecord& record) {
  return record_label(
      index, record.alias,
      record.mac ? std::optional<std::string>(record.mac->to_string()) : std::nullopt);
}

Result<PortRecord> parse_record(const xmlNode* port, size_t index) {
  const std::string label = record_label(index, attribute(port, "alias"), attribute(port, "mac"));
  auto bad = [&](const std::string& name, std::string_view value, std::string_view why) {
    return fail(ErrorKind::invalid_input,
                label + ": " + name + "='" + printable(value) + "' refused: " + std::string(why));
  };
  PortRecord record;
  std::optional<uint16_t> vlan_id;
  std::optional<uint8_t> qos;
  std::optional<VlanProtocol> protocol;
  std::optional<uint32_t> min_rate, max_rate;
  bool has_pool = false;
  for (const xmlAttr* attr = port->properties; attr != nullptr; attr = attr->next) {
    const std::string name = c(attr->name);
    if (attr->ns != nullptr)
      return fail(ErrorKind::invalid_input,
                  label + ": attribute '" + printable(name) + "' refused: it has a namespace");
    const std::string value = attribute(port, name.c_str()).value_or("");
    uint64_t number = 0;
    if (name == "alias") {
      if (!is_valid_alias(value)) return bad(name, value, "expected 1..64 of [A-Za-z0-9_-]");
      record.alias = value;
    } else if (name == "mac") {
      auto mac = MacAddress::parse_unicast(value);
      if (!mac) return bad(name, value, mac.error().message);
      record.mac = *mac;
    } else if (name == "host") {
      auto host = PciAddress::parse(value);
      if (!host) return bad(name, value, host.error().message);
      record.host = *host;
    } else if (name == "pool") {
      if (!is_safe_name(value)) return bad(name, value, "expected 1..64 of [A-Za-z0-9_.:-]");
      record.pool = value;
      has_pool = true;
    } else if (name == "vlan") {
      if (!parse_decimal(value, 4094, number))
        return bad(name, value, "expected a VLAN ID 1..4094 (0 or absent: untagged)");
      if (number != 0) vlan_id = static_cast<uint16_t>(number);
    } else if (name == "qos") {
      if (!parse_decimal(value, 7, number)) return bad(name, value, "expected a priority 0..7");
      qos = static_cast<uint8_t>(number);
    } else if (name == "protocol") {
      auto parsed = parse_vlan_protocol(value);
      if (!parsed) return bad(name, value, "expected 802.1Q or 802.1ad");
      protocol = *parsed;
    } else if (name == "spoofchk" || name == "trust") {
      if (value != "on" && value != "off") return bad(name, value, "expected on or off");
      (name == "spoofchk" ? record.spoofchk : record.trust) = value == "on";
    } else if (name == "link") {
      record.link_state = parse_link_state(value);
      if (!record.link_state) return bad(name, value, "expected auto, enable or disable");
    } else if (name == "min-tx-rate" || name == "max-tx-rate") {
      if (!parse_decimal(value, UINT32_MAX, number))
        return bad(name, value, "expected a rate in Mbit/s (0..4294967295)");
      (name == "min-tx-rate" ? min_rate : max_rate) = static_cast<uint32_t>(number);
    } else if (name == "ip") {
      if (!is_ip_address(value)) return bad(name, value, "expected an IPv4 or IPv6 address");
      record.ip = value;
    } else {
      return fail(ErrorKind::invalid_input,
                  label + ": unknown attribute '" + printable(name) +
                      "' refused (known: alias mac host pool vlan qos protocol spoofchk trust "
                      "link min-tx-rate max-tx-rate ip)");
    }
  }
  if (!has_pool) return fail(ErrorKind::invalid_input, label + ": attribute pool is required");
  if ((qos || protocol) && !vlan_id)
    return fail(ErrorKind::invalid_input,
                label + ": qos and protocol need a vlan (an untagged port has neither)");
  if (vlan_id)
    record.vlan = Vlan{*vlan_id, qos.value_or(0), protocol.value_or(VlanProtocol::dot1q)};
  if (min_rate || max_rate)
    record.rates = VfSettings::Rates{min_rate.value_or(0), max_rate.value_or(0)};
  auto valid = validate_port_record(record);
  if (!valid) return fail(valid.error().with_context(label));
  return record;
}

// Two records naming the same device would make find_record() depend on their order.
Status check_unique(const std::vector<PortRecord>& records) {
  for (size_t i = 0; i < records.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      const PortRecord& a = records[i];
      const PortRecord& b = records[j];
      const char* same = (a.alias && a.alias == b.alias) ? "alias"
                         : (a.mac && a.mac == b.mac)     ? "mac"
                         : (a.host && a.host == b.host)  ? "host"
                                                         : nullptr;
      if (same != nullptr)
        return fail(ErrorKind::invalid_input, record_label(i, a) + ": same " + same + " as " +
                                                  record_label(j, b) +
                                                  "; each device needs exactly one record");
    }
  }
  return ok();
}

}  // namespace

Status validate_port_record(const PortRecord& record) {
  auto bad = [](std::string why) { return fail(ErrorKind::invalid_input, std::move(why)); };
  if (!record.alias && !record.mac && !record.host)
    return bad("a port record needs at least one of alias, mac, host to name its device");
  if (record.alias && !is_valid_alias(*record.alias))
    return bad("alias '" + printable(*record.alias) + "' refused: expected 1..64 of [A-Za-z0-9_-]");
  if (record.mac && (record.mac->is_multicast() || record.mac->is_zero()))
    return bad("mac " + record.mac->to_string() + " refused: a VF needs a unicast, non-zero MAC");
  if (!is_safe_name(record.pool))
    return bad("pool '" + printable(record.pool) + "' refused: expected 1..64 of [A-Za-z0-9_.:-]");
  if (record.vlan) {
    if (record.vlan->id < 1 || record.vlan->id > 4094)
      return bad("vlan " + std::to_string(record.vlan->id) +
                 " refused: expected 1..4094 (leave vlan unset for untagged)");
    if (record.vlan->qos > 7)
      return bad("qos " + std::to_string(record.vlan->qos) + " refused: expected 0..7");
  }
  if (record.rates && record.rates->max_tx != 0 && record.rates->min_tx > record.rates->max_tx)
    return bad("min-tx-rate " + std::to_string(record.rates->min_tx) + " above max-tx-rate " +
               std::to_string(record.rates->max_tx) + " refused");
  if (record.ip && !is_ip_address(*record.ip))
    return bad("ip '" + printable(*record.ip) + "' refused: expected an IPv4 or IPv6 address");
  return ok();
}

Result<std::vector<PortRecord>> read_port_records(const xmlNode* root) {
  std::vector<xmlNode*> elements = vfhook_elements(root);
  std::vector<PortRecord> records;
  if (elements.empty()) return records;
  if (elements.size() > 1)
    return fail(ErrorKind::invalid_input, "metadata holds " + std::to_string(elements.size()) +
                                              " vfhook elements; expected one <ports>");
  const xmlNode* ports = elements[0];
  if (std::strcmp(c(ports->name), "ports") != 0)
    return fail(ErrorKind::invalid_input, "unknown vfhook metadata element <" +
                                              printable(c(ports->name)) + "> (expected <ports>)");
  for (const xmlNode* child = ports->children; child != nullptr; child = child->next) {
    if (child->type != XML_ELEMENT_NODE) continue;  // whitespace, comments
    if (!in_port_namespace(child) || std::strcmp(c(child->name), "port") != 0)
      return fail(ErrorKind::invalid_input, "unknown element <" + printable(c(child->name)) +
                                                "> in vfhook ports (expected <port>)");
    VF_ASSIGN(record, parse_record(child, records.size()));
    records.push_back(std::move(record));
  }
  VF_TRY(check_unique(records));
  return records;
}

Status write_port_records(xmlNode* root, const std::vector<PortRecord>& records) {
  for (size_t i = 0; i < records.size(); ++i) {
    auto valid = validate_port_record(records[i]);
    if (!valid) return fail(valid.error().with_context(record_label(i, records[i])));
  }
  VF_TRY(check_unique(records));

  xmlNode* metadata = xmlnode::first_child(root, "metadata");
  if (metadata == nullptr) {
    // libvirt reads by name, not position; still put it where libvirt itself writes it:
    // after name/uuid/genid/title/description.
    xmlNode* after = nullptr;
    for (xmlNode* child = root->children; child != nullptr; child = child->next)
      for (const char* name : {"name", "uuid", "genid", "title", "description"})
        if (xmlnode::is_element(child, name)) after = child;
    metadata = xmlNewDocNode(root->doc, nullptr, x("metadata"), nullptr);
    if (after != nullptr)
      xmlAddNextSibling(after, metadata);
    else if (root->children != nullptr)
      xmlAddPrevSibling(root->children, metadata);
    else
      xmlAddChild(root, metadata);
  }
  for (xmlNode* old : vfhook_elements(root)) {
    xmlUnlinkNode(old);
    xmlFreeNode(old);
  }
  if (records.empty()) return ok();

  xmlNode* ports = xmlNewDocNode(root->doc, nullptr, x("ports"), nullptr);
  xmlNs* ns = xmlNewNs(ports, x(kPortNamespace), x(kPortNamespacePrefix));
  xmlSetNs(ports, ns);
  xmlAddChild(metadata, ports);
  for (const PortRecord& record : records) {
    xmlNode* port = xmlNewChild(ports, ns, x("port"), nullptr);
    if (record.alias) set_attribute(port, "alias", *record.alias);
    if (record.mac) set_attribute(port, "mac", record.mac->to_string());
    if (record.host) set_attribute(port, "host", record.host->to_string());
    set_attribute(port, "pool", record.pool);
    if (record.vlan) {
      set_attribute(port, "vlan", std::to_string(record.vlan->id));
      if (record.vlan->qos != 0) set_attribute(port, "qos", std::to_string(record.vlan->qos));
      if (record.vlan->protocol != VlanProtocol::dot1q)
        set_attribute(port, "protocol", std::string(to_string(record.vlan->protocol)));
    }
    if (record.spoofchk) set_attribute(port, "spoofchk", *record.spoofchk ? "on" : "off");
    if (record.trust) set_attribute(port, "trust", *record.trust ? "on" : "off");
    if (record.link_state) set_attribute(port, "link", std::string(to_string(*record.link_state)));
    if (record.rates) {
      set_attribute(port, "min-tx-rate", std::to_string(record.rates->min_tx));
      set_attribute(port, "max-tx-rate", std::to_string(record.rates->max_tx));
    }
    if (record.ip) set_attribute(port, "ip", *record.ip);
  }
  return ok();
}

namespace {

// "vfhook cold-move marker <vfmove:move>": how errors name it, with the document's prefix.
std::string marker_label(const xmlNode* element) {
  std::string prefix = element->ns != nullptr && element->ns->prefix != nullptr
                           ? printable(c(element->ns->prefix), 32) + ":"
                           : std::string();
  return "vfhook cold-move marker <" + prefix + printable(c(element->name), 32) + "> (" +
         kMoveNamespace + ")";
}

}  // namespace

namespace {

// Unix seconds: 1..19 decimal digits, no sign, no leading zero, within int64_t.
std::optional<int64_t> parse_unix_seconds(const std::string& value) {
  if (value.empty() || value.size() > 19 || value[0] == '0') return std::nullopt;
  int64_t seconds = 0;
  for (char ch : value) {
    if (ch < '0' || ch > '9') return std::nullopt;
    if (seconds > (INT64_MAX - (ch - '0')) / 10) return std::nullopt;
    seconds = seconds * 10 + (ch - '0');
  }
  return seconds;
}

// One <port alias mac [vf]/> of a live re-attach marker; `bad` builds the refusal.
template <typename Bad>
Result<ReattachPort> read_reattach_port(const xmlNode* element, size_t index, const Bad& bad) {
  const std::string label = "<port> #" + std::to_string(index + 1);
  ReattachPort port;
  bool has_alias = false, has_mac = false;
  for (const xmlAttr* attr = element->properties; attr != nullptr; attr = attr->next) {
    const std::string name = c(attr->name);
    if (attr->ns != nullptr)
      return bad(label + ": attribute '" + printable(name, 32) + "' has a namespace");
    const std::string value = attribute(element, name.c_str()).value_or("");
    if (name == "alias") {
      if (!is_valid_user_alias(value))
        return bad(label + ": alias='" + printable(value, 64) + "' is not a user alias (ua-...)");
      port.alias = value;
      has_alias = true;
    } else if (name == "mac") {
      auto mac = MacAddress::parse_unicast(value);
      if (!mac) return bad(label + ": mac='" + printable(value, 32) + "': " + mac.error().message);
      port.mac = *mac;
      has_mac = true;
    } else if (name == "vf") {
      auto vf = PciAddress::parse(value);
      if (!vf) return bad(label + ": vf='" + printable(value, 32) + "': " + vf.error().message);
      port.vf = *vf;
    } else {
      return bad(label + ": unknown attribute '" + printable(name, 32) + "' (known: alias mac vf)");
    }
  }
  for (const xmlNode* child = element->children; child != nullptr; child = child->next)
    if (child->type == XML_ELEMENT_NODE) return bad(label + " has a child element");
  if (!has_alias) return bad(label + ": attribute alias is required");
  if (!has_mac) return bad(label + ": attribute mac is required");
  return port;
}

}  // namespace

Result<std::optional<MoveMarker>> read_move_marker(const xmlNode* root) {
  std::vector<xmlNode*> elements = metadata_elements(root, kMoveNamespace);
  if (elements.empty()) return std::optional<MoveMarker>();
  const std::string label = marker_label(elements[0]);
  auto bad = [&](const std::string& why) {
    return fail(ErrorKind::invalid_input, label + " refused: " + why);
  };
  if (elements.size() > 1)
    return bad("metadata holds " + std::to_string(elements.size()) +
               " elements of its namespace; expected one <" + kMoveElement + ">");
  const xmlNode* move = elements[0];
  if (std::strcmp(c(move->name), kMoveElement) != 0)
    return bad(std::string("expected the element <") + kMoveElement + ">");
  std::optional<MoveMarker> marker = MoveMarker{};
  bool has_mode = false, has_expires = false;
  for (const xmlAttr* attr = move->properties; attr != nullptr; attr = attr->next) {
    const std::string name = c(attr->name);
    if (attr->ns != nullptr) return bad("attribute '" + printable(name, 32) + "' has a namespace");
    const std::string value = attribute(move, name.c_str()).value_or("");
    if (name == "mode") {
      if (value == kMoveModeOffline)
        marker->mode = MoveMode::offline;
      else if (value == kMoveModeLiveReattach)
        marker->mode = MoveMode::live_reattach;
      else
        return bad("mode='" + printable(value, 32) + "': the modes are '" + kMoveModeOffline +
                   "' and '" + kMoveModeLiveReattach + "'");
      has_mode = true;
    } else if (name == "expires") {
      auto seconds = parse_unix_seconds(value);
      if (!seconds)
        return bad("expires='" + printable(value, 32) +
                   "': expected unix seconds, a positive integer");
      marker->expires = *seconds;
      has_expires = true;
    } else {
      return bad("unknown attribute '" + printable(name, 32) + "' (known: mode expires)");
    }
  }
  if (!has_mode) return bad("attribute mode is required (mode='offline')");
  if (!has_expires) return bad("attribute expires is required (unix seconds)");
  // Children: <port> elements of a live re-attach marker only, in no namespace (as libvirt
  // stores what virDomainSetMetadata was given) or in the marker's own.
  for (const xmlNode* child = move->children; child != nullptr; child = child->next) {
    if (child->type != XML_ELEMENT_NODE) continue;
    const bool our_namespace = child->ns == nullptr || in_namespace(child, kMoveNamespace);
    if (marker->mode == MoveMode::offline || !our_namespace ||
        std::strcmp(c(child->name), kMovePortElement) != 0)
      return bad("it has a child element <" + printable(c(child->name), 32) + ">; " +
                 (marker->mode == MoveMode::offline
                      ? std::string("an offline marker carries attributes only")
                      : std::string("a live re-attach marker holds <port> elements only")));
    if (marker->ports.size() >= kMaxVfPorts)
      return bad("more than " + std::to_string(kMaxVfPorts) + " <port> elements");
    VF_ASSIGN(port, read_reattach_port(child, marker->ports.size(), bad));
    for (const ReattachPort& other : marker->ports) {
      if (other.alias == port.alias) return bad("two <port> elements name alias " + port.alias);
      if (other.mac == port.mac) return bad("two <port> elements name mac " + port.mac.to_string());
      if (other.vf && port.vf && *other.vf == *port.vf)
        return bad("two <port> elements name vf " + port.vf->to_string());
    }
    marker->ports.push_back(std::move(port));
  }
  if (marker->mode == MoveMode::live_reattach && marker->ports.empty())
    return bad("a live re-attach marker lists no <port>");
  return marker;
}

bool remove_move_markers(xmlNode* root) {
  std::vector<xmlNode*> elements = metadata_elements(root, kMoveNamespace);
  for (xmlNode* element : elements) {
    // The white space libvirt indents it with goes too, so no blank line is left behind.
    xmlNode* before = element->prev;
    if (before != nullptr && xmlIsBlankNode(before)) {
      xmlUnlinkNode(before);
      xmlFreeNode(before);
    }
    xmlUnlinkNode(element);
    xmlFreeNode(element);
  }
  return !elements.empty();
}

namespace {

Status check_move_marker(const MoveMarker& marker) {
  if (marker.expires <= 0)
    return fail(ErrorKind::invalid_input, "move marker: expires " + std::to_string(marker.expires) +
                                              " refused: expected unix seconds, > 0");
  const bool live = marker.mode == MoveMode::live_reattach;
  if (live == marker.ports.empty())
    return fail(ErrorKind::invalid_input,
                live ? "live re-attach marker: it lists no port"
                     : "offline move marker: it cannot list ports to re-attach");
  for (const ReattachPort& port : marker.ports)
    if (!is_valid_user_alias(port.alias))
      return fail(ErrorKind::invalid_input, "live re-attach marker: alias '" +
                                                printable(port.alias, 64) +
                                                "' is not a user alias (ua-...)");
  return ok();
}

// The marker's attributes and <port> children, on an element already created.
void fill_move_marker(xmlNode* move, const MoveMarker& marker) {
  set_attribute(move, "mode",
                marker.mode == MoveMode::live_reattach ? kMoveModeLiveReattach : kMoveModeOffline);
  set_attribute(move, "expires", std::to_string(marker.expires));
  for (const ReattachPort& port : marker.ports) {
    // No namespace: what libvirt stores for the children of a metadata element.
    xmlNode* child = xmlNewChild(move, nullptr, x(kMovePortElement), nullptr);
    set_attribute(child, "alias", port.alias);
    set_attribute(child, "mac", port.mac.to_string());
    if (port.vf) set_attribute(child, "vf", port.vf->to_string());
  }
}

}  // namespace

Result<std::string> render_move_marker_element(const MoveMarker& marker) {
  VF_TRY(check_move_marker(marker));
  xmlnode::DocPtr doc(xmlNewDoc(x("1.0")));
  if (!doc) return fail(ErrorKind::internal, "libxml2 could not allocate a document");
  xmlNode* move = xmlNewDocNode(doc.get(), nullptr, x(kMoveElement), nullptr);
  xmlDocSetRootElement(doc.get(), move);
  // No namespace here: virDomainSetMetadata injects kMoveNamespace with the key it is given.
  fill_move_marker(move, marker);
  xmlnode::BufferPtr buffer(xmlBufferCreate());
  if (!buffer || xmlNodeDump(buffer.get(), doc.get(), move, 0, 0) < 0)
    return fail(ErrorKind::internal, "libxml2 could not write the move marker");
  return std::string(c(xmlBufferContent(buffer.get())),
                     static_cast<size_t>(xmlBufferLength(buffer.get())));
}

Status write_move_marker(xmlNode* root, const MoveMarker& marker) {
  VF_TRY(check_move_marker(marker));  // before anything changes
  remove_move_markers(root);
  xmlNode* metadata = xmlnode::first_child(root, "metadata");
  if (metadata == nullptr) {
    metadata = xmlNewDocNode(root->doc, nullptr, x("metadata"), nullptr);
    xmlAddChild(root, metadata);
  }
  xmlNode* move = xmlNewDocNode(root->doc, nullptr, x(kMoveElement), nullptr);
  xmlNs* ns = xmlNewNs(move, x(kMoveNamespace), x(kMoveNamespacePrefix));
  xmlSetNs(move, ns);
  xmlAddChild(metadata, move);
  fill_move_marker(move, marker);
  return ok();
}

RecordKeys read_record_keys(const xmlNode* root) {
  RecordKeys keys;
  for (const xmlNode* ports : vfhook_elements(root)) {
    for (const xmlNode* port = ports->children; port != nullptr; port = port->next) {
      if (!in_port_namespace(port)) continue;
      if (auto alias = attribute(port, "alias"); alias && is_valid_alias(*alias))
        keys.aliases.push_back(*alias);
      if (auto mac = attribute(port, "mac"))
        if (auto parsed = MacAddress::parse_unicast(*mac)) keys.macs.push_back(*parsed);
    }
  }
  return keys;
}

size_t count_record_elements(const xmlNode* root) {
  size_t count = 0;
  for (const xmlNode* ports : vfhook_elements(root))
    for (const xmlNode* port = ports->children; port != nullptr; port = port->next)
      if (port->type == XML_ELEMENT_NODE) ++count;
  return count;
}

bool record_describes(const PortRecord& record, const VfPort& port) {
  if (record.alias && !port.alias.empty() && *record.alias == port.alias) return true;
  if (port.kind != PortKind::hostdev) return record.mac && port.mac && *record.mac == *port.mac;
  return record.host && port.host && *record.host == *port.host;
}

Status check_one_device_per_record(const std::vector<PortRecord>& records,
                                   const std::vector<VfPort>& ports) {
  for (size_t r = 0; r < records.size(); ++r) {
    const VfPort* first = nullptr;
    for (const VfPort& port : ports) {
      if (!record_describes(records[r], port)) continue;
      if (first != nullptr)
        return fail(ErrorKind::invalid_input,
                    record_label(r, records[r]) + " describes two devices, " + first->describe() +
                        " and " + port.describe() +
                        "; both would get its MAC, VLAN and settings. Name one device per "
                        "record (by alias, mac or host).");
      first = &port;
    }
  }
  for (const VfPort& port : ports) {
    std::optional<size_t> first;
    for (size_t r = 0; r < records.size(); ++r) {
      if (!record_describes(records[r], port)) continue;
      if (first)
        return fail(ErrorKind::invalid_input, port.describe() +
                                                  " is described by two vfhook port records, " +
                                                  record_label(*first, records[*first]) + " and " +
                                                  record_label(r, records[r]) + "; keep one.");
      first = r;
    }
  }
  return ok();
}

}  // namespace vfhook
