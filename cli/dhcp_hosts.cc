#include "cli/dhcp_hosts.h"

#include <json-c/json.h>

#include <algorithm>
#include <map>
#include <memory>
#include <tuple>

#include "cli/port_commands.h"
#include "util/printable.h"

namespace vfhook {
namespace {

// A host name dnsmasq, Kea and libvirt all take: one DNS label.
bool is_host_name(const std::string& name) {
  if (name.empty() || name.size() > 63 || name.front() == '-' || name.back() == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-';
  });
}

std::string describe(const DhcpHost& host) {
  return "domain '" + printable(host.domain, 255) + "' port " +
         (host.alias.empty() ? host.mac.to_string()
                             : host.alias + " (" + host.mac.to_string() + ")") +
         " IP " + host.ip;
}

struct JsonPut {
  void operator()(json_object* object) const { json_object_put(object); }
};
using Json = std::unique_ptr<json_object, JsonPut>;

std::string kea_json(const std::vector<DhcpHost>& hosts, bool v6) {
  Json array(json_object_new_array());
  for (const DhcpHost& host : hosts) {
    json_object* o = json_object_new_object();
    json_object_object_add(o, "hw-address", json_object_new_string(host.mac.to_string().c_str()));
    if (v6) {
      json_object* ips = json_object_new_array();
      json_object_array_add(ips, json_object_new_string(host.ip.c_str()));
      json_object_object_add(o, "ip-addresses", ips);
    } else {
      json_object_object_add(o, "ip-address", json_object_new_string(host.ip.c_str()));
    }
    if (host.hostname)
      json_object_object_add(o, "hostname", json_object_new_string(host.hostname->c_str()));
    json_object_array_add(array.get(), o);
  }
  return std::string(json_object_to_json_string_ext(
             array.get(), JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)) +
         "\n";
}

}  // namespace

std::optional<DhcpFormat> parse_dhcp_format(std::string_view text) {
  for (DhcpFormat format : {DhcpFormat::dnsmasq, DhcpFormat::dnsmasq_hostsfile, DhcpFormat::kea,
                            DhcpFormat::kea6, DhcpFormat::libvirt})
    if (to_string(format) == text) return format;
  return std::nullopt;
}

std::string_view to_string(DhcpFormat format) {
  switch (format) {
    case DhcpFormat::dnsmasq:
      return "dnsmasq";
    case DhcpFormat::dnsmasq_hostsfile:
      return "dnsmasq-hostsfile";
    case DhcpFormat::kea:
      return "kea";
    case DhcpFormat::kea6:
      return "kea6";
    case DhcpFormat::libvirt:
      return "libvirt";
  }
  return "dnsmasq";
}

bool format_carries(DhcpFormat format, const DhcpHost& host) {
  switch (format) {
    case DhcpFormat::dnsmasq:
    case DhcpFormat::dnsmasq_hostsfile:
      return true;
    case DhcpFormat::kea:
    case DhcpFormat::libvirt:
      return !host.ipv6();
    case DhcpFormat::kea6:
      return host.ipv6();
  }
  return false;
}

std::string render_dhcp_hosts(const std::vector<DhcpHost>& hosts, DhcpFormat format) {
  const char* header = "# DHCP reservations of vfhook's VF ports, written by `vfctl dhcp-hosts`.\n";
  std::string text;
  switch (format) {
    case DhcpFormat::dnsmasq:
    case DhcpFormat::dnsmasq_hostsfile:
      text = header;
      for (const DhcpHost& host : hosts) {
        if (format == DhcpFormat::dnsmasq) text += "dhcp-host=";
        text += host.mac.to_string() + "," + (host.ipv6() ? "[" + host.ip + "]" : host.ip);
        if (host.hostname) text += "," + *host.hostname;
        text += "\n";
      }
      return text;
    case DhcpFormat::kea:
    case DhcpFormat::kea6:
      // JSON has no comments; Kea's parser takes //, but a file included into a list is JSON.
      return kea_json(hosts, format == DhcpFormat::kea6);
    case DhcpFormat::libvirt:
      text = "<!-- DHCP reservations of vfhook's VF ports, written by `vfctl dhcp-hosts` -->\n";
      for (const DhcpHost& host : hosts) {
        // Every value is validated (MAC, IP, a DNS label): nothing needs escaping.
        text += "<host mac='" + host.mac.to_string() + "'";
        if (host.hostname) text += " name='" + *host.hostname + "'";
        text += " ip='" + host.ip + "'/>\n";
      }
      return text;
  }
  return text;
}

Result<DhcpHosts> collect_dhcp_hosts(const std::optional<std::string>& pool, DhcpFormat format,
                                     Libvirt& libvirt, EngineContext& ctx) {
  if (pool && !ctx.config.find_pool(*pool))
    return fail(ErrorKind::not_found, "no pool '" + printable(*pool, 64) +
                                          "' in the vfhook config; `vfctl status` lists the pools");
  VF_ASSIGN(listing, list_ports(std::nullopt, libvirt, ctx));
  DhcpHosts result;
  result.format = format;
  result.problems = listing.problems;

  std::vector<DhcpHost> all;
  for (const ListedPort& listed : listing.ports) {
    if (!listed.record || !listed.record->ip) continue;
    if (pool && listed.record->pool != *pool) continue;
    const std::string& ip = *listed.record->ip;
    const std::optional<MacAddress> mac =
        listed.port.kind == PortKind::hostdev ? listed.record->mac : listed.port.mac;
    if (!mac) {
      result.problems.push_back("domain '" + printable(listed.domain, 255) + "' port " +
                                listed.port.describe() + " IP " + ip +
                                ": left out, it has no MAC to key a reservation on (give its "
                                "record a mac=)");
      continue;
    }
    // Built whole: g++ 12 warns (-Wmaybe-uninitialized, a false positive) about the optional
    // hostname of a default-constructed DhcpHost assigned field by field.
    DhcpHost host{listed.domain, listed.port.alias, listed.record->pool, *mac, ip, std::nullopt};
    all.push_back(std::move(host));
  }
  std::sort(all.begin(), all.end(), [](const DhcpHost& a, const DhcpHost& b) {
    return std::make_tuple(a.domain, a.alias, a.mac.to_string(), a.ip) <
           std::make_tuple(b.domain, b.alias, b.mac.to_string(), b.ip);
  });

  // Indexes into result.hosts, which grows.
  std::map<std::string, size_t> by_ip;
  std::map<MacAddress, size_t> by_mac;
  std::map<std::string, bool> named;  // domains whose name went out already
  for (DhcpHost& host : all) {
    if (!format_carries(format, host)) {
      result.other_family.push_back(describe(host) + ": left out, the " +
                                    std::string(to_string(format)) + " format carries " +
                                    (host.ipv6() ? "no IPv6" : "no IPv4") + " reservations" +
                                    (format == DhcpFormat::kea    ? " (use --format kea6)"
                                     : format == DhcpFormat::kea6 ? " (use --format kea)"
                                                                  : ""));
      continue;
    }
    if (auto other = by_ip.find(host.ip); other != by_ip.end()) {
      result.problems.push_back(describe(host) + ": left out, " +
                                describe(result.hosts[other->second]) +
                                " has the same IP; give one of them another address");
      continue;
    }
    if (auto other = by_mac.find(host.mac); other != by_mac.end()) {
      result.problems.push_back(describe(host) + ": left out, " +
                                describe(result.hosts[other->second]) + " has the same MAC");
      continue;
    }
    if (is_host_name(host.domain) && !named[host.domain]) {
      host.hostname = host.domain;
      named[host.domain] = true;
    }
    by_ip[host.ip] = result.hosts.size();
    by_mac[host.mac] = result.hosts.size();
    result.hosts.push_back(host);
  }
  result.text = render_dhcp_hosts(result.hosts, format);
  return result;
}

Result<DhcpFileUpdate> write_dhcp_hosts(const DhcpHosts& hosts, const std::string& path,
                                        TextFiles& files) {
  VF_ASSIGN(written, with_context(update_file(files, path, hosts.text),
                                  "writing the DHCP reservations to " + path));
  return DhcpFileUpdate{path, written};
}

}  // namespace vfhook
