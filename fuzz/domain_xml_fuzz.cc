// Fuzz target: the domain XML reader (DomainXml::parse, vf_ports, port_records) and the edits
// vfhook makes to a domain (set_port_records, set_host_source, serialize).
//
// Invariants checked on every input that parses:
//  - a refusal is ErrorKind::invalid_input with a message;
//  - ports are numbered in order; each kind carries only what it can (a <hostdev> no MAC or
//    VLAN, an interface_hostdev always a host, a VLAN tag <= 4094, valid aliases);
//  - serialize() gives a document that parses again to the same name, uuid and ports
//    (libvirt gets that text back from migrate/restore);
//  - port_records() round-trips through set_port_records() and a re-parse, and its records
//    are unique by alias, MAC and host;
//  - set_host_source() on each resolved port changes that port's host and nothing else;
//  - a teamed port names a user alias; plain_interfaces(), guest_pci_devices() and
//    move_marker() either succeed or refuse as invalid_input; a marker read has expires > 0
//    and renders to text that reads back the same; remove_move_marker() leaves none, keeps the
//    ports and records, and reports whether there was one.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "model/names.h"
#include "xml/domain_xml.h"

namespace vfhook {
namespace {

std::string opt_text(const std::optional<PciAddress>& a) {
  return a ? a->to_string() : "-";
}

std::string port_text(const VfPort& p) {
  return std::string(to_string(p.kind)) + " #" + std::to_string(p.ordinal) +
         " managed=" + (p.managed ? "yes" : "no") + " host=" + opt_text(p.host) +
         " mac=" + (p.mac ? p.mac->to_string() : "-") +
         " vlan=" + (p.vlan_tag ? std::to_string(*p.vlan_tag) : "-") +
         " network=" + p.network.value_or("-") + " alias=" + p.alias +
         " guest=" + opt_text(p.guest_address) + " teaming=" + p.teaming_persistent.value_or("-");
}

bool same_port(const VfPort& a, const VfPort& b) {
  return a.kind == b.kind && a.ordinal == b.ordinal && a.managed == b.managed && a.host == b.host &&
         a.mac == b.mac && a.vlan_tag == b.vlan_tag && a.network == b.network &&
         a.alias == b.alias && a.guest_address == b.guest_address &&
         a.teaming_persistent == b.teaming_persistent;
}

void check_same_ports(const std::vector<VfPort>& a, const std::vector<VfPort>& b,
                      const char* what) {
  FUZZ_CHECK(a.size() == b.size(), "%s: %zu ports, then %zu", what, a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    FUZZ_CHECK(same_port(a[i], b[i]), "%s: port %zu was '%s', is '%s'", what, i,
               port_text(a[i]).c_str(), port_text(b[i]).c_str());
}

void check_ports(const std::vector<VfPort>& ports) {
  for (size_t i = 0; i < ports.size(); ++i) {
    const VfPort& p = ports[i];
    FUZZ_CHECK(p.ordinal == i, "port %zu has ordinal %zu", i, p.ordinal);
    FUZZ_CHECK(p.alias.empty() || is_valid_alias(p.alias), "alias '%s'", p.alias.c_str());
    FUZZ_CHECK(!p.vlan_tag || *p.vlan_tag <= 4094, "vlan %u", unsigned(*p.vlan_tag));
    FUZZ_CHECK(!p.mac || (!p.mac->is_multicast() && !p.mac->is_zero()), "mac %s",
               p.mac->to_string().c_str());
    if (p.host) {
      auto again = PciAddress::parse(p.host->to_string());
      FUZZ_CHECK(again && *again == *p.host, "host %s", p.host->to_string().c_str());
    }
    FUZZ_CHECK(!p.describe().empty(), "empty describe()");
    FUZZ_CHECK(!p.teaming_persistent || is_valid_user_alias(*p.teaming_persistent), "%s",
               port_text(p).c_str());
    FUZZ_CHECK(!p.teaming_persistent || p.kind != PortKind::hostdev, "%s", port_text(p).c_str());
    switch (p.kind) {
      case PortKind::hostdev:
        FUZZ_CHECK(p.host && !p.mac && !p.vlan_tag && !p.network, "%s", port_text(p).c_str());
        break;
      case PortKind::interface_hostdev:
        FUZZ_CHECK(p.host && !p.network, "%s", port_text(p).c_str());
        break;
      case PortKind::interface_network:
        FUZZ_CHECK(!p.network || is_valid_network_name(*p.network), "%s", port_text(p).c_str());
        // Unresolved (no host): listed only because a record names it, and never managed.
        FUZZ_CHECK(p.host || !p.managed, "%s", port_text(p).c_str());
        break;
    }
  }
}

void check_records_unique(const std::vector<PortRecord>& records) {
  for (size_t i = 0; i < records.size(); ++i)
    for (size_t j = 0; j < i; ++j) {
      const PortRecord& a = records[i];
      const PortRecord& b = records[j];
      FUZZ_CHECK(!(a.alias && a.alias == b.alias), "records %zu and %zu share an alias", i, j);
      FUZZ_CHECK(!(a.mac && a.mac == b.mac), "records %zu and %zu share a MAC", i, j);
      FUZZ_CHECK(!(a.host && a.host == b.host), "records %zu and %zu share a host", i, j);
    }
}

Result<DomainXml> reparse(const DomainXml& doc, const char* what) {
  std::string text = doc.serialize();
  FUZZ_CHECK(!text.empty(), "%s: serialize() is empty", what);
  auto again = DomainXml::parse(text);
  FUZZ_CHECK(again, "%s: our own serialization does not parse: %s\n--- text:\n%s", what,
             again.error().message.c_str(), text.c_str());
  return again;
}

}  // namespace
}  // namespace vfhook

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vfhook;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = DomainXml::parse(text);
  if (!parsed) {
    FUZZ_CHECK(parsed.error().kind == ErrorKind::invalid_input, "refusal of kind %s: %s",
               std::string(to_string(parsed.error().kind)).c_str(), parsed.error().message.c_str());
    FUZZ_CHECK(!parsed.error().message.empty(), "refusal without a message");
    return 0;
  }
  DomainXml& doc = *parsed;
  FUZZ_CHECK(!doc.name().empty() && doc.name().size() <= 255, "name of %zu bytes",
             doc.name().size());
  const std::vector<VfPort> ports = doc.vf_ports();
  check_ports(ports);
  (void)doc.memory_numa_nodes();

  // What vfhook prints back to libvirt must read the same.
  {
    auto again = reparse(doc, "serialize");
    FUZZ_CHECK(again->name() == doc.name() && again->uuid() == doc.uuid(), "name/uuid changed");
    check_same_ports(ports, again->vf_ports(), "serialize");
    auto before = doc.port_records();
    auto after = again->port_records();
    FUZZ_CHECK(bool(before) == bool(after), "port_records() %s, after serialize %s",
               before ? "ok" : before.error().message.c_str(),
               after ? "ok" : after.error().message.c_str());
    if (before) FUZZ_CHECK(*before == *after, "port records changed by serialize");
  }

  auto records = doc.port_records();
  if (records) {
    check_records_unique(*records);
    for (const VfPort& port : ports) (void)find_record(*records, port);
    auto written = doc.set_port_records(*records);
    FUZZ_CHECK(written, "set_port_records(port_records()) failed: %s",
               written.error().message.c_str());
    auto reread = doc.port_records();
    FUZZ_CHECK(reread && *reread == *records, "port records do not round-trip: %s",
               reread ? "they differ" : reread.error().message.c_str());
    auto again = reparse(doc, "set_port_records");
    check_same_ports(ports, again->vf_ports(), "set_port_records");
    auto third = again->port_records();
    FUZZ_CHECK(third && *third == *records, "port records differ after a re-parse");
  } else {
    FUZZ_CHECK(records.error().kind == ErrorKind::invalid_input, "records refused as %s",
               std::string(to_string(records.error().kind)).c_str());
  }

  // What prepare's failover check reads.
  if (auto interfaces = doc.plain_interfaces(); !interfaces)
    FUZZ_CHECK(interfaces.error().kind == ErrorKind::invalid_input, "plain_interfaces: %s",
               interfaces.error().message.c_str());
  if (auto devices = doc.guest_pci_devices(); !devices)
    FUZZ_CHECK(devices.error().kind == ErrorKind::invalid_input, "guest_pci_devices: %s",
               devices.error().message.c_str());

  // The cold-move marker: read strictly, rendered back alike, removed entirely.
  {
    auto marker = doc.move_marker();
    if (!marker) {
      FUZZ_CHECK(marker.error().kind == ErrorKind::invalid_input, "move_marker: %s",
                 marker.error().message.c_str());
    } else if (*marker) {
      FUZZ_CHECK((*marker)->expires > 0, "marker expires %lld",
                 static_cast<long long>((*marker)->expires));
      auto text = render_move_marker(**marker);
      FUZZ_CHECK(text, "render_move_marker: %s", text.error().message.c_str());
    }
    auto copy = reparse(doc, "marker copy");
    const bool had = marker ? bool(*marker) : true;
    const bool removed = copy->remove_move_marker();
    FUZZ_CHECK(removed == had, "remove_move_marker() said %d, the reader %s", int(removed),
               marker ? (*marker ? "found one" : "found none") : marker.error().message.c_str());
    auto after = reparse(*copy, "remove_move_marker");
    auto none = after->move_marker();
    FUZZ_CHECK(none && !*none, "a marker is left after remove_move_marker()");
    check_same_ports(ports, after->vf_ports(), "remove_move_marker");
    auto before_records = doc.port_records();
    auto after_records = after->port_records();
    FUZZ_CHECK(bool(before_records) == bool(after_records) &&
                   (!before_records || *before_records == *after_records),
               "remove_move_marker changed the port records");
  }

  // Migrate/restore rewrite host sources: only the host of that one port may change.
  const PciAddress moved{0x0001, 0xfe, 0x1f, 0x7};
  std::vector<VfPort> expected = ports;
  for (size_t i = 0; i < ports.size(); ++i) {
    auto st = doc.set_host_source(i, moved);
    if (!ports[i].host) {
      FUZZ_CHECK(!st && st.error().kind == ErrorKind::not_found,
                 "set_host_source on an unresolved port: %s",
                 st ? "succeeded" : st.error().message.c_str());
      continue;
    }
    FUZZ_CHECK(st, "set_host_source(%zu): %s", i, st.error().message.c_str());
    expected[i].host = moved;
  }
  check_same_ports(expected, doc.vf_ports(), "set_host_source (in memory)");
  auto again = reparse(doc, "set_host_source");
  check_same_ports(expected, again->vf_ports(), "set_host_source (re-parsed)");
  FUZZ_CHECK(!doc.set_host_source(ports.size(), moved), "set_host_source past the end");
  return 0;
}
