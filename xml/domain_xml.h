// DomainXml: a libvirt domain definition read from untrusted input, the VF ports found in it,
// and the edits vfhook makes (host source addresses, port records).
//
// Parsing refuses any DOCTYPE or ENTITY (checked on the raw text before libxml2 runs, and on
// the tree after), so nothing expands and no external entity is read; input over
// kMaxDomainXmlBytes; anything but UTF-8; more elements, attributes, depth or namespace
// declarations than xml/xml_shape.h allows; anything but a namespace-less <domain> root; more
// than kMaxVfPorts VF ports or kMaxPortRecords port records. libxml2 runs with
// XML_PARSE_NONET|XML_PARSE_NOERROR|XML_PARSE_NOWARNING, never NOENT/DTDLOAD/HUGE, and prints
// nothing. Every refusal is ErrorKind::invalid_input with a message for the operator.
//
// parse() refuses two VF port interfaces with one MAC. It also validates, and refuses the whole
// document on a bad value in: <name> (1..255
// bytes, no '/' or control characters), <uuid>, <numatune><memory nodeset>, and every VF
// port (below): PCI addresses, MACs (unicast), aliases ([A-Za-z0-9_-]{1,64}), managed
// (yes/no), VLAN (one tag 0..4094), <teaming> (interfaces only: type='transient' with a
// persistent= user alias 'ua-...'; type='persistent' on a VF, or a second <teaming>, is refused).
// Port records are validated only by port_records(), so a typo in a record never hides which
// devices are VF ports.
//
// Which devices are VF ports (direct children of <devices>, in document order):
//  - <interface type='hostdev'>: host from <source><address>, MAC, VLAN, alias, guest address.
//  - <hostdev mode='subsystem' type='pci'>: host, alias, guest address. usb, scsi, mdev and
//    other hostdevs are not listed.
//  - <interface type='network'> only when it is known to be a VF:
//      * resolved: it has <actual type='hostdev'> (libvirt's status form), whose <source>
//        <address>, managed and <vlan> are used. libvirt may instead show a network-chosen VF
//        directly as <interface type='hostdev'>, which is the first case;
//      * unresolved (prepare, or a definition) and a vfhook port record names it by alias or
//        MAC: listed with no host (set_host_source refuses it) and managed=false.
//    An unresolved network interface without a record may be a plain bridge network and is
//    not listed. One resolved to another <actual> type is not listed either, unless a record
//    names it: then parse() fails (the record expects a VF).
// A VLAN trunk (trunk='yes', several tags, nativeMode) on a VF port makes parse() fail:
// libvirt refuses trunks on hostdev interfaces, and a VF carries one 802.1Q tag.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/mac_address.h"
#include "model/move_marker.h"
#include "model/pci_address.h"
#include "model/port_record.h"
#include "util/result.h"

namespace vfhook {

inline constexpr size_t kMaxDomainXmlBytes = 4 * 1024 * 1024;
// A guest with more VF ports (or vfhook port records) than this is refused: real ones have a
// few, a large NFV guest tens; every port costs host work at each event, and matching records
// to ports grows with both numbers.
inline constexpr size_t kMaxVfPorts = 256;
inline constexpr size_t kMaxPortRecords = 256;

enum class PortKind {
  interface_hostdev,  // <interface type='hostdev'>: libvirt sets MAC and one VLAN tag
  interface_network,  // <interface type='network'> on a hostdev network: libvirt picks the VF
  hostdev,            // <hostdev mode='subsystem' type='pci'>: a VF or a whole PF; no MAC/VLAN
};
std::string_view to_string(PortKind kind);

struct VfPort {
  PortKind kind = PortKind::interface_hostdev;
  size_t ordinal = 0;                       // position among the domain's VF ports (document order)
  bool managed = false;                     // managed='yes': libvirt binds/unbinds vfio-pci itself
  std::optional<PciAddress> host;           // host source; absent for an unresolved network port
  std::optional<MacAddress> mac;            // interfaces: <mac address>
  std::optional<uint16_t> vlan_tag;         // interfaces: libvirt's single <vlan><tag id>
  std::optional<std::string> network;       // interface_network: <source network>
  std::string alias;                        // <alias name>, "" when absent
  std::optional<PciAddress> guest_address;  // <address type='pci'> the guest sees
  // virtio-net failover: the alias ('ua-...') that <teaming type='transient' persistent=...>
  // names, the virtio interface this VF stands in for; nullopt when the port is not teamed.
  std::optional<std::string> teaming_persistent;

  [[nodiscard]] bool teamed() const { return teaming_persistent.has_value(); }
  // "interface 52:54:00:aa:00:01" / "hostdev 0000:01:10.2": how messages name the port.
  [[nodiscard]] std::string describe() const;
};

// An <interface> of the domain that is not a VF port, as virtio-net failover pairing needs it.
struct PlainInterface {
  size_t position = 0;              // 1-based among all <interface> elements, for messages
  std::string type;                 // <interface type>
  std::string alias;                // <alias name>, "" when absent
  std::optional<MacAddress> mac;    // <mac address>
  std::string model;                // <model type>, "" when absent
  bool teaming_persistent = false;  // it has <teaming type='persistent'/>

  // "interface ua-net0 (mac 52:54:00:aa:00:01)" / "interface #2".
  [[nodiscard]] std::string describe() const;
};

// A device the guest sees at a PCI address: any direct child of <devices> (controllers
// included) with an <address type='pci'>.
struct GuestPciDevice {
  std::string element;  // "interface", "controller", "disk", ...
  std::string alias;    // <alias name> escaped for messages (util/printable.h), "" when absent
  PciAddress address;

  // "<controller> ua-x at 0000:03:00.0".
  [[nodiscard]] std::string describe() const;
};

struct HostdevInterfaceSpec;
struct HostdevSpec;

class DomainXml {
 public:
  static Result<DomainXml> parse(std::string_view text);

  DomainXml(DomainXml&&) noexcept;
  DomainXml& operator=(DomainXml&&) noexcept;
  ~DomainXml();

  [[nodiscard]] const std::string& name() const;
  [[nodiscard]] const std::string& uuid() const;  // "" when absent

  // Every VF port, in document order. Unrelated devices (bridges, disks) are not listed.
  [[nodiscard]] const std::vector<VfPort>& vf_ports() const;

  // NUMA nodes the guest's memory is bound to (<numatune><memory nodeset>), empty if unbound.
  [[nodiscard]] std::vector<int> memory_numa_nodes() const;

  // The guest's memory and its <memtune><hard_limit>, in bytes, from libvirt's number and
  // unit attribute (KiB when absent; b, KB, k/KiB, MB, M/MiB, ... E/EiB). Read on demand, not by
  // parse(): only vfctl's doctor needs them. invalid_input on a bad number, an unknown unit or a
  // size over 2^64; `memory` is nullopt when <memory> is absent.
  struct MemorySizes {
    std::optional<uint64_t> memory;
    std::optional<uint64_t> hard_limit;
  };
  [[nodiscard]] Result<MemorySizes> memory_sizes() const;

  // vfhook's port records from <metadata>, validated; empty when there are none. Refuses
  // unknown attributes or elements, a second vfhook element, two records naming the same
  // alias, MAC or host, a record that describes two of the domain's VF ports (say one by alias,
  // another by MAC) and a port described by two records; errors name the record (#index, alias
  // or MAC), the attribute or the devices.
  [[nodiscard]] Result<std::vector<PortRecord>> port_records() const;
  // Replaces vfhook's metadata element with these records (creating <metadata> if needed;
  // an empty list removes the element). Records are validated first (a Vlan must have an ID
  // 1..4094: untagged is no vlan); on error the document is unchanged. Round-trips with
  // port_records().
  Status set_port_records(const std::vector<PortRecord>& records);

  // The domain's <interface>s that are not VF ports (virtio, bridge, direct, ...), in document
  // order, read on demand. invalid_input, naming the interface, on a bad MAC or alias, or on a
  // <teaming> other than one type='persistent' without attributes.
  [[nodiscard]] Result<std::vector<PlainInterface>> plain_interfaces() const;
  // Every device with a guest PCI address, in document order. invalid_input on a malformed
  // address.
  [[nodiscard]] Result<std::vector<GuestPciDevice>> guest_pci_devices() const;

  // The move marker (model/move_marker.h) from <metadata>, found by its namespace URI
  // whatever prefix the document gives it; nullopt when there is none. Strict: one element
  // at most, named <move>, with exactly mode ("offline" or "live-reattach") and expires=<unix
  // seconds, a positive integer>, no other attribute; an offline marker has no child element,
  // a live re-attach one 1..kMaxVfPorts <port alias mac [vf]/> (no namespace, or the marker's),
  // each alias a user alias, MAC unicast, vf a PCI address, none named twice. invalid_input
  // naming the element otherwise. Whether it has expired is the caller's question
  // (MoveMarker::expired_at).
  [[nodiscard]] Result<std::optional<MoveMarker>> move_marker() const;
  // Removes every element of the marker's namespace from <metadata>, valid or not; the rest of
  // the document stays as it was. Returns whether one was there.
  bool remove_move_marker();
  // Replaces the move marker with `marker` (the migrate hook writes the VFs it chose for a live
  // re-attach). invalid_input for a marker render_move_marker refuses; the document is then
  // unchanged.
  Status set_move_marker(const MoveMarker& marker);

  // Points the port with this ordinal at a different host PCI function: rewrites only the
  // attributes of its host <source><address> (inside <actual> for a resolved network port),
  // so MAC, alias and guest address stay byte-identical for libvirt's ABI check. Fails
  // (not_found) for an unresolved network port, which has no host source yet.
  Status set_host_source(size_t ordinal, const PciAddress& host);

  // The document as UTF-8, without an XML declaration (libvirt writes none).
  [[nodiscard]] std::string serialize() const;

  // Edits for vfctl, on a copy: the copy is serialized and parsed again, so it is checked like
  // any input and its ports and records are consistent. This document is never changed.
  //
  // A new <interface type='hostdev'> (render_hostdev_interface's) appended to <devices>, and
  // `record` added to the port records. Refuses an alias or MAC another device of the domain
  // already has.
  [[nodiscard]] Result<DomainXml> with_hostdev_interface(const HostdevInterfaceSpec& spec,
                                                         const PortRecord& record) const;
  // A new plain <hostdev mode='subsystem' type='pci' managed=...> (render_hostdev's) appended
  // to <devices>, and `record` added to the port records. libvirt sets no MAC or VLAN on such
  // a device: the record's are what vfhook's prepare sets. Refuses an alias another device of
  // the domain already has, or a host another VF port already uses.
  [[nodiscard]] Result<DomainXml> with_hostdev(const HostdevSpec& spec,
                                               const PortRecord& record) const;
  // Without the VF port whose alias is `alias`, and without the record describing it.
  // not_found when no VF port has that alias.
  [[nodiscard]] Result<DomainXml> without_port(std::string_view alias) const;

 private:
  struct Impl;
  explicit DomainXml(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The text virDomainSetMetadata(VIR_DOMAIN_METADATA_ELEMENT, text, key kMoveNamespacePrefix,
// uri kMoveNamespace, VIR_DOMAIN_AFFECT_CONFIG) takes for the marker: <move mode="offline"
// expires="..."/>, WITHOUT a namespace: libvirt puts the element into `uri` with prefix `key`
// itself (its xmlNewNs fails on an element that already declares that prefix), and stores
// <vfmove:move xmlns:vfmove="urn:vfhook:move:1" .../>, which move_marker() reads. Built with
// libxml2. A live re-attach marker's <port> children are written without a namespace: libvirt
// stores them that way. Refuses expires <= 0, a live re-attach marker without ports, an offline
// one with ports, and an alias that is not a user alias. Used with VIR_DOMAIN_AFFECT_LIVE for
// the live re-attach marker.
Result<std::string> render_move_marker(const MoveMarker& marker);

// Finds the record that describes a port: by alias, by MAC (interfaces), or by host address
// (hostdev). Returns nullptr when none does.
const PortRecord* find_record(const std::vector<PortRecord>& records, const VfPort& port);

// What a new <interface type='hostdev'> for a port holds.
struct HostdevInterfaceSpec {
  PciAddress host;
  MacAddress mac;
  std::optional<uint16_t> vlan_tag;  // one 802.1Q tag; QoS/802.1ad live in the port record
  bool managed = false;
  std::string alias;                        // must start with "ua-" (libvirt's user alias rule)
  std::optional<PciAddress> guest_address;  // keeps the guest's NIC name across VFs
};
// The element as text (built with libxml2, never by pasting strings). Refuses an alias that
// is not a valid user alias, a multicast or zero MAC, and a VLAN tag outside 1..4094.
Result<std::string> render_hostdev_interface(const HostdevInterfaceSpec& spec);

// What a new plain <hostdev mode='subsystem' type='pci'> for a port holds: no MAC and no VLAN
// (the port record carries them).
struct HostdevSpec {
  PciAddress host;
  bool managed = false;
  std::string alias;  // must start with "ua-" (libvirt's user alias rule)
};
// The element as text (built with libxml2). Refuses an alias that is not a valid user alias.
Result<std::string> render_hostdev(const HostdevSpec& spec);

}  // namespace vfhook
