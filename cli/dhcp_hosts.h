// `vfctl dhcp-hosts`: the IP addresses of the port records, as DHCP reservations keyed on the
// port's MAC. vfhook keeps a port's MAC (and its record, IP included) across hosts, so a DHCP
// server fed from these reservations gives a guest the same address after a migration.
//
// Where the records are: in each persistent domain definition's vfhook metadata (listed by
// list_ports(), cli/port_commands.h). A port without an IP in its record is not listed. The
// MAC is the interface's <mac address>, or the record's MAC for a plain <hostdev> (the admin
// MAC vfhook sets there).
//
// Formats (every one keys on the MAC):
//  - dnsmasq:           "dhcp-host=MAC,IP[,NAME]" lines, for a file in dnsmasq's conf-dir
//                       (read at dnsmasq's start);
//  - dnsmasq-hostsfile: "MAC,IP[,NAME]" lines for --dhcp-hostsfile (re-read on SIGHUP);
//    IPv6 addresses are written in brackets, as dnsmasq wants them;
//  - kea:               a JSON array of Dhcp4 reservations {"hw-address", "ip-address",
//                       "hostname"}, for `"reservations": <?include "FILE"?>`; IPv4 only;
//  - kea6:              the same for Dhcp6 ({"hw-address", "ip-addresses": [IP]}); IPv6 only;
//  - libvirt:           <host mac ip name/> lines for a libvirt network's <dhcp> (or
//                       `virsh net-update NET add ip-dhcp-host`); IPv4 only (libvirt's IPv6
//                       hosts take no MAC).
// NAME is the domain's name when it is a valid host name (a DNS label), on the domain's first
// listed port only: a server that maps a name to one address would otherwise see it twice.
// A second reservation of one IP or one MAC (the later one is left out), a port without a MAC
// and a domain whose definition cannot be read are problems; a port of the address family the
// format does not carry is listed apart (other_family). Output is sorted by domain, then alias,
// then MAC, so the same records always give the same bytes and `--write` leaves an unchanged file
// alone.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/libvirt.h"
#include "cli/text_files.h"
#include "engine/context.h"
#include "model/mac_address.h"

namespace vfhook {

enum class DhcpFormat { dnsmasq, dnsmasq_hostsfile, kea, kea6, libvirt };

std::optional<DhcpFormat> parse_dhcp_format(std::string_view text);
std::string_view to_string(DhcpFormat format);

struct DhcpHost {
  std::string domain;
  std::string alias;  // the port's alias, "" when it has none
  std::string pool;
  MacAddress mac;
  std::string ip;
  std::optional<std::string> hostname;
  [[nodiscard]] bool ipv6() const { return ip.find(':') != std::string::npos; }
};

struct DhcpHosts {
  DhcpFormat format = DhcpFormat::dnsmasq;
  std::vector<DhcpHost> hosts;        // what the text holds, in its order
  std::vector<std::string> problems;  // left out, and why; domains that could not be read
  // Reservations of the address family the format does not carry (IPv6 for kea, say): not a
  // problem, another format's business.
  std::vector<std::string> other_family;
  std::string text;  // the rendered reservations
};

// The reservations of every persistent domain's port records (of pool `pool` only, when given;
// an unknown pool is an error), rendered in `format`.
Result<DhcpHosts> collect_dhcp_hosts(const std::optional<std::string>& pool, DhcpFormat format,
                                     Libvirt& libvirt, EngineContext& ctx);

// Whether `format` can carry the host's address family.
bool format_carries(DhcpFormat format, const DhcpHost& host);

// Renders `hosts` (which `format` carries) in their order, with a first line (a comment, where
// the format has comments) saying vfctl wrote it.
std::string render_dhcp_hosts(const std::vector<DhcpHost>& hosts, DhcpFormat format);

// `--write FILE`: the file now holds `hosts.text`; `written` is false when it already did
// (then it was not touched).
struct DhcpFileUpdate {
  std::string path;
  bool written = false;
};
Result<DhcpFileUpdate> write_dhcp_hosts(const DhcpHosts& hosts, const std::string& path,
                                        TextFiles& files);

}  // namespace vfhook
