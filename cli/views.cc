#include "cli/views.h"

#include <json-c/json.h>

#include <algorithm>
#include <memory>

#include "util/printable.h"

namespace vfhook {
namespace {

struct JsonPut {
  void operator()(json_object* object) const { json_object_put(object); }
};
using Json = std::unique_ptr<json_object, JsonPut>;

Json object() {
  return Json(json_object_new_object());
}
Json array() {
  return Json(json_object_new_array());
}
void put(json_object* target, const char* key, Json value) {
  json_object_object_add(target, key, value.release());
}
void put(json_object* target, const char* key, const std::string& value) {
  json_object_object_add(target, key, json_object_new_string_len(value.data(), value.size()));
}
void put(json_object* target, const char* key, const char* value) {
  json_object_object_add(target, key, json_object_new_string(value));
}
void put(json_object* target, const char* key, int64_t value) {
  json_object_object_add(target, key, json_object_new_int64(value));
}
void put_bool(json_object* target, const char* key, bool value) {
  json_object_object_add(target, key, json_object_new_boolean(value));
}
void put_null(json_object* target, const char* key) {
  json_object_object_add(target, key, nullptr);
}
void append(json_object* target, Json value) {
  json_object_array_add(target, value.release());
}

std::string text_of(const Json& json) {
  return std::string(json_object_to_json_string_ext(
             json.get(), JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)) +
         "\n";
}

std::string vlan_text(const Vlan& vlan) {
  if (vlan.id == 0) return "untagged";
  std::string text = std::to_string(vlan.id);
  if (vlan.qos) text += " qos " + std::to_string(vlan.qos);
  if (vlan.protocol == VlanProtocol::dot1ad) text += " 802.1ad";
  return text;
}

Json vlan_json(const Vlan& vlan) {
  Json out = object();
  put(out.get(), "id", int64_t{vlan.id});
  put(out.get(), "qos", int64_t{vlan.qos});
  put(out.get(), "protocol", vlan.protocol == VlanProtocol::dot1ad ? "802.1ad" : "802.1Q");
  return out;
}

std::string owner_text(const VfStatus& vf) {
  if (vf.claim) return vf.claim->domain;
  if (vf.reservation) return vf.reservation->domain;
  return "-";
}

// Pads each column to its widest cell.
std::string table(const std::vector<std::vector<std::string>>& rows, const std::string& indent) {
  std::vector<size_t> widths;
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], row[i].size());
    }
  std::string out;
  for (const auto& row : rows) {
    std::string line = indent;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

// Text a source promised printable (lldp/lldpdu.h), cut to `max` bytes; anything else through
// printable(), so a source that broke its promise still cannot reach the terminal raw, and
// the parser's escapes are not escaped a second time.
std::string shown(const std::string& text, size_t max) {
  const bool is_printable = std::all_of(text.begin(), text.end(), [](char ch) {
    return static_cast<unsigned char>(ch) >= 0x20 && static_cast<unsigned char>(ch) < 0x7f;
  });
  if (!is_printable) return printable(text, max);
  return text.size() > max ? text.substr(0, max) + "..." : text;
}

// The LLDP answer for a PF, or nullptr when it was not asked (no netdev, or no LLDP source).
const Result<std::vector<LldpNeighbor>>* lldp_of(const PfStatus& pf, const PfNeighbors& lldp) {
  if (!pf.pf || pf.pf->name.empty()) return nullptr;
  const auto found = lldp.find(pf.pf->name);
  return found == lldp.end() ? nullptr : &found->second;
}

// The SWITCH/PORT cell of a PF; a reason for no data is added to `no_lldp` (once per reason,
// with every PF it applies to) for the lines under the table.
std::string switch_port_cell(const PfStatus& pf, const PfNeighbors& lldp,
                             std::vector<std::pair<std::string, std::string>>& no_lldp) {
  const auto* answer = lldp_of(pf, lldp);
  if (!answer) return "-";
  if (!*answer) {
    const std::string& reason = answer->error().message;
    auto same = std::find_if(no_lldp.begin(), no_lldp.end(),
                             [&](const auto& entry) { return entry.first == reason; });
    if (same == no_lldp.end())
      no_lldp.emplace_back(reason, pf.pf->name);
    else
      same->second += ", " + pf.pf->name;
    return "?";
  }
  if ((*answer)->empty()) return "none heard";
  std::string cell;
  for (const LldpNeighbor& neighbor : **answer) {
    if (!cell.empty()) cell += ", ";
    cell +=
        shown(neighbor_switch_text(neighbor), 40) + "/" + shown(neighbor_port_text(neighbor), 40);
  }
  return cell;
}

Json neighbor_json(const LldpNeighbor& n) {
  Json out = object();
  put(out.get(), "switch", neighbor_switch_text(n));
  put(out.get(), "port", neighbor_port_text(n));
  put(out.get(), "chassis_id", n.chassis.value);
  put(out.get(), "chassis_id_subtype", chassis_id_subtype_name(n.chassis.subtype));
  put(out.get(), "port_id", n.port.value);
  put(out.get(), "port_id_subtype", port_id_subtype_name(n.port.subtype));
  put(out.get(), "port_description", n.port_description);
  put(out.get(), "system_name", n.system_name);
  put(out.get(), "system_description", n.system_description);
  Json addresses = array();
  for (const std::string& address : n.management_addresses)
    json_object_array_add(addresses.get(),
                          json_object_new_string_len(address.data(), address.size()));
  put(out.get(), "management_addresses", std::move(addresses));
  if (n.port_vlan_id)
    put(out.get(), "port_vlan_id", int64_t{*n.port_vlan_id});
  else
    put_null(out.get(), "port_vlan_id");
  put(out.get(), "ttl", int64_t{n.ttl_seconds});
  return out;
}

Json lldp_json(const PfStatus& pf, const PfNeighbors& lldp) {
  const auto* answer = lldp_of(pf, lldp);
  if (!answer) return nullptr;
  Json out = object();
  Json neighbors = array();
  if (*answer)
    for (const LldpNeighbor& neighbor : **answer) append(neighbors.get(), neighbor_json(neighbor));
  put(out.get(), "neighbors", std::move(neighbors));
  if (*answer)
    put_null(out.get(), "no_data");
  else
    put(out.get(), "no_data", answer->error().message);
  return out;
}

// ErrorKind as a stable identifier for scripts (to_string(ErrorKind) is prose).
const char* kind_key(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::invalid_input:
      return "invalid_input";
    case ErrorKind::policy:
      return "policy";
    case ErrorKind::not_found:
      return "not_found";
    case ErrorKind::conflict:
      return "conflict";
    case ErrorKind::os:
      return "os";
    case ErrorKind::netlink:
      return "netlink";
    case ErrorKind::timeout:
      return "timeout";
    case ErrorKind::internal:
      return "internal";
  }
  return "internal";
}

}  // namespace

std::string status_text(const std::vector<PoolStatus>& pools, const PfNeighbors& lldp) {
  std::string out;
  for (const PoolStatus& pool : pools) {
    out += "pool " + pool.pool->name + " (" + (pool.pool->mode == PoolMode::vf ? "vf" : "pf") +
           "): " + std::to_string(pool.free_vfs) + " free\n";
    std::vector<std::vector<std::string>> pf_rows{
        {"PF", "PCI", "LINK", "NUMA", "VFS", "SWITCH/PORT"}};
    std::vector<std::string> notes;
    // Reasons for "no LLDP data" in order, each with the PFs it applies to.
    std::vector<std::pair<std::string, std::string>> no_lldp;
    for (const PfStatus& pf : pool.pfs) {
      if (!pf.pf) {
        pf_rows.push_back({pf.ref, "-", "-", "-", "-", "-"});
        notes.push_back("PF " + pf.ref + ": " + pf.problem);
        continue;
      }
      const std::string name = pf.pf->name.empty() ? pf.ref : pf.pf->name;
      pf_rows.push_back({name, pf.pf->address.to_string(),
                         pf.link_up ? (*pf.link_up ? "up" : "down") : "unknown",
                         pf.pf->numa_node < 0 ? "-" : std::to_string(pf.pf->numa_node),
                         std::to_string(pf.pf->num_vfs) + "/" + std::to_string(pf.pf->total_vfs),
                         switch_port_cell(pf, lldp, no_lldp)});
      if (!pf.problem.empty()) notes.push_back("PF " + name + ": " + pf.problem);
    }
    out += table(pf_rows, "  ");
    for (const std::string& note : notes) out += "  " + note + "\n";
    for (const auto& [reason, netdevs] : no_lldp)
      out += "  no LLDP data for " + netdevs + ": " + reason + "\n";
    for (const PfStatus& pf : pool.pfs) {
      if (!pf.pf) continue;
      out += "  VFs of PF " + (pf.pf->name.empty() ? pf.ref : pf.pf->name) + ":\n";
      std::vector<std::vector<std::string>> rows{{"VF", "PCI", "DRIVER", "USE", "OWNER", "MAC",
                                                  "VLAN", "SPOOFCHK", "TRUST", "LINK", "RATE"}};
      for (const VfStatus& vf : pf.vfs) {
        std::vector<std::string> row{std::to_string(vf.info.index), vf.info.address.to_string(),
                                     vf.info.driver.value_or("-"), std::string(to_string(vf.use)),
                                     printable(owner_text(vf), 40)};
        if (vf.state) {
          row.push_back(vf.state->mac.to_string());
          row.push_back(vlan_text(vf.state->vlan));
          row.push_back(vf.state->spoofchk ? "on" : "off");
          row.push_back(vf.state->trust ? (*vf.state->trust ? "on" : "off") : "-");
          row.push_back(std::string(to_string(vf.state->link_state)));
          row.push_back(vf.state->max_tx_rate || vf.state->min_tx_rate
                            ? std::to_string(vf.state->min_tx_rate) + "-" +
                                  std::to_string(vf.state->max_tx_rate)
                            : "-");
        } else {
          row.insert(row.end(), 6, "?");
        }
        rows.push_back(std::move(row));
      }
      out += table(rows, "    ");
    }
  }
  if (pools.empty()) out += "no pools in the vfhook config\n";
  return out;
}

std::string status_json(const std::vector<PoolStatus>& pools, const PfNeighbors& lldp) {
  Json root = object();
  Json pool_list = array();
  for (const PoolStatus& pool : pools) {
    Json p = object();
    put(p.get(), "name", pool.pool->name);
    put(p.get(), "mode", pool.pool->mode == PoolMode::vf ? "vf" : "pf");
    put(p.get(), "free_vfs", int64_t{pool.free_vfs});
    Json pfs = array();
    for (const PfStatus& pf : pool.pfs) {
      Json f = object();
      put(f.get(), "ref", pf.ref);
      if (pf.pf) {
        put(f.get(), "netdev", pf.pf->name);
        put(f.get(), "address", pf.pf->address.to_string());
        put(f.get(), "numa_node", int64_t{pf.pf->numa_node});
        put(f.get(), "num_vfs", int64_t{pf.pf->num_vfs});
        put(f.get(), "total_vfs", int64_t{pf.pf->total_vfs});
      }
      if (pf.link_up)
        put(f.get(), "link", *pf.link_up ? "up" : "down");
      else
        put_null(f.get(), "link");
      if (!pf.problem.empty()) put(f.get(), "problem", pf.problem);
      put(f.get(), "lldp", lldp_json(pf, lldp));
      Json vfs = array();
      for (const VfStatus& vf : pf.vfs) {
        Json v = object();
        put(v.get(), "index", int64_t{vf.info.index});
        put(v.get(), "address", vf.info.address.to_string());
        if (vf.info.driver)
          put(v.get(), "driver", *vf.info.driver);
        else
          put_null(v.get(), "driver");
        put(v.get(), "use", std::string(to_string(vf.use)));
        if (vf.claim) {
          put(v.get(), "domain", vf.claim->domain);
        } else if (vf.reservation) {
          put(v.get(), "domain", vf.reservation->domain);
        } else {
          put_null(v.get(), "domain");
        }
        if (vf.state) {
          put(v.get(), "mac", vf.state->mac.to_string());
          put(v.get(), "vlan", vlan_json(vf.state->vlan));
          put_bool(v.get(), "spoofchk", vf.state->spoofchk);
          if (vf.state->trust)
            put_bool(v.get(), "trust", *vf.state->trust);
          else
            put_null(v.get(), "trust");
          put(v.get(), "link_state", std::string(to_string(vf.state->link_state)));
          put(v.get(), "min_tx_rate", int64_t{vf.state->min_tx_rate});
          put(v.get(), "max_tx_rate", int64_t{vf.state->max_tx_rate});
        }
        append(vfs.get(), std::move(v));
      }
      put(f.get(), "vfs", std::move(vfs));
      append(pfs.get(), std::move(f));
    }
    put(p.get(), "pfs", std::move(pfs));
    append(pool_list.get(), std::move(p));
  }
  put(root.get(), "pools", std::move(pool_list));
  return text_of(root);
}

std::string port_addition_text(const PortAddition& a, bool rendered_only) {
  std::string out;
  if (rendered_only) {
    out += a.interface_xml;
    return out;
  }
  out += "domain " + a.domain + ": port " + a.alias + " added: VF " + a.vf.vf.to_string() +
         " (PF " + a.vf.pf_name + " VF " + std::to_string(a.vf.vf_index) + "), MAC " +
         a.mac.to_string();
  if (a.record.vlan) out += ", VLAN " + vlan_text(*a.record.vlan);
  out += "\n";
  out += a.domain_running ? "The domain is running: the port takes effect at its next start "
                            "(vfctl attach adds one to the running guest).\n"
                          : "It takes effect at the next start.\n";
  return out;
}

std::string port_addition_json(const PortAddition& a, bool rendered_only) {
  Json root = object();
  put(root.get(), "domain", a.domain);
  put(root.get(), "alias", a.alias);
  put(root.get(), "mac", a.mac.to_string());
  put(root.get(), "vf", a.vf.vf.to_string());
  put(root.get(), "pf", a.vf.pf_name);
  put(root.get(), "vf_index", int64_t{a.vf.vf_index});
  if (a.record.vlan)
    put(root.get(), "vlan", vlan_json(*a.record.vlan));
  else
    put_null(root.get(), "vlan");
  put_bool(root.get(), "reserved", !rendered_only);
  put_bool(root.get(), "domain_running", a.domain_running);
  put(root.get(), "interface_xml", a.interface_xml);
  return text_of(root);
}

std::string port_removal_text(const PortRemoval& r) {
  std::string out = "domain " + r.domain + ": port " + r.alias + " removed";
  if (r.vf) out += "; VF " + r.vf->to_string() + (r.left_behind.empty() ? " is free again" : "");
  out += "\n";
  if (!r.left_behind.empty()) out += "left behind: " + r.left_behind + "\n";
  return out;
}

std::string port_removal_json(const PortRemoval& r) {
  Json root = object();
  put(root.get(), "domain", r.domain);
  put(root.get(), "alias", r.alias);
  if (r.vf)
    put(root.get(), "vf", r.vf->to_string());
  else
    put_null(root.get(), "vf");
  if (!r.left_behind.empty()) put(root.get(), "left_behind", r.left_behind);
  return text_of(root);
}

std::string port_listing_text(const PortListing& listing) {
  std::vector<std::vector<std::string>> rows{
      {"DOMAIN", "ALIAS", "KIND", "MAC", "VF", "POOL", "VLAN", "IP", "STATE"}};
  for (const ListedPort& p : listing.ports) {
    std::string state = p.claim ? "claimed" : p.reservation ? "reserved" : "-";
    rows.push_back({printable(p.domain, 40), p.port.alias.empty() ? "-" : p.port.alias,
                    std::string(to_string(p.port.kind)), p.port.mac ? p.port.mac->to_string() : "-",
                    p.port.host ? p.port.host->to_string() : "(network)",
                    p.record ? p.record->pool : "-",
                    p.record && p.record->vlan ? vlan_text(*p.record->vlan) : "-",
                    p.record && p.record->ip ? *p.record->ip : "-", state});
  }
  std::string out = listing.ports.empty() ? "no VF ports\n" : table(rows, "");
  for (const std::string& problem : listing.problems) out += "problem: " + problem + "\n";
  return out;
}

std::string port_listing_json(const PortListing& listing) {
  Json root = object();
  Json ports = array();
  for (const ListedPort& p : listing.ports) {
    Json o = object();
    put(o.get(), "domain", p.domain);
    put_bool(o.get(), "domain_running", p.domain_running);
    put(o.get(), "alias", p.port.alias);
    put(o.get(), "kind", std::string(to_string(p.port.kind)));
    if (p.port.mac)
      put(o.get(), "mac", p.port.mac->to_string());
    else
      put_null(o.get(), "mac");
    if (p.port.host)
      put(o.get(), "vf", p.port.host->to_string());
    else
      put_null(o.get(), "vf");
    if (p.record) {
      put(o.get(), "pool", p.record->pool);
      if (p.record->vlan) put(o.get(), "vlan", vlan_json(*p.record->vlan));
      if (p.record->ip) put(o.get(), "ip", *p.record->ip);
    }
    put(o.get(), "state", p.claim ? "claimed" : p.reservation ? "reserved" : "none");
    append(ports.get(), std::move(o));
  }
  put(root.get(), "ports", std::move(ports));
  Json problems = array();
  for (const std::string& problem : listing.problems)
    json_object_array_add(problems.get(), json_object_new_string(problem.c_str()));
  put(root.get(), "problems", std::move(problems));
  return text_of(root);
}

std::string dhcp_update_text(const DhcpHosts& hosts, const DhcpFileUpdate& update) {
  const std::string count = std::to_string(hosts.hosts.size()) +
                            (hosts.hosts.size() == 1 ? " reservation" : " reservations");
  return update.written ? "wrote " + update.path + ": " + count + "\n"
                        : update.path + " is up to date (" + count + "); left as it was\n";
}

std::string dhcp_hosts_json(const DhcpHosts& hosts, const std::optional<DhcpFileUpdate>& update) {
  Json root = object();
  put(root.get(), "format", std::string(to_string(hosts.format)));
  Json list = array();
  for (const DhcpHost& host : hosts.hosts) {
    Json o = object();
    put(o.get(), "domain", host.domain);
    put(o.get(), "alias", host.alias);
    put(o.get(), "pool", host.pool);
    put(o.get(), "mac", host.mac.to_string());
    put(o.get(), "ip", host.ip);
    if (host.hostname)
      put(o.get(), "hostname", *host.hostname);
    else
      put_null(o.get(), "hostname");
    append(list.get(), std::move(o));
  }
  put(root.get(), "hosts", std::move(list));
  Json problems = array();
  for (const std::string& problem : hosts.problems)
    json_object_array_add(problems.get(), json_object_new_string(problem.c_str()));
  put(root.get(), "problems", std::move(problems));
  Json other = array();
  for (const std::string& left_out : hosts.other_family)
    json_object_array_add(other.get(), json_object_new_string(left_out.c_str()));
  put(root.get(), "other_family", std::move(other));
  put(root.get(), "text", hosts.text);
  if (update) {
    Json file = object();
    put(file.get(), "path", update->path);
    put_bool(file.get(), "written", update->written);
    put(root.get(), "file", std::move(file));
  } else {
    put_null(root.get(), "file");
  }
  return text_of(root);
}

std::string attachment_text(const Attachment& a) {
  std::string out = "domain " + a.port.domain + ": port " + a.port.alias + " attached: VF " +
                    a.port.vf.vf.to_string() + " (PF " + a.port.vf.pf_name + " VF " +
                    std::to_string(a.port.vf.vf_index) + "), MAC " + a.port.mac.to_string();
  if (a.port.record.vlan) out += ", VLAN " + vlan_text(*a.port.record.vlan);
  out += a.persistent && a.left_behind.empty() ? "; also in its definition\n" : "\n";
  if (!a.left_behind.empty()) out += "left behind: " + a.left_behind + "\n";
  return out;
}

std::string attachment_json(const Attachment& a) {
  Json root = object();
  put(root.get(), "domain", a.port.domain);
  put(root.get(), "alias", a.port.alias);
  put(root.get(), "mac", a.port.mac.to_string());
  put(root.get(), "vf", a.port.vf.vf.to_string());
  put(root.get(), "pf", a.port.vf.pf_name);
  put(root.get(), "vf_index", int64_t{a.port.vf.vf_index});
  put_bool(root.get(), "persistent", a.persistent && a.left_behind.empty());
  if (!a.left_behind.empty()) put(root.get(), "left_behind", a.left_behind);
  return text_of(root);
}

std::string qmp_attachment_text(const QmpAttachment& a) {
  std::string out = "domain " + a.domain + ": port " + a.alias + " attached over QMP into " +
                    a.root_port + ": VF " + a.vf.vf.to_string() + " (PF " + a.vf.pf_name + " VF " +
                    std::to_string(a.vf.vf_index) + "), MAC " + a.mac.to_string();
  if (a.record.vlan) out += ", VLAN " + vlan_text(*a.record.vlan);
  out += "\n";
  for (const std::string& change : a.host_changes) out += "changed for QEMU: " + change + "\n";
  return out;
}

std::string qmp_attachment_json(const QmpAttachment& a) {
  Json root = object();
  put(root.get(), "domain", a.domain);
  put(root.get(), "alias", a.alias);
  put(root.get(), "mac", a.mac.to_string());
  put(root.get(), "vf", a.vf.vf.to_string());
  put(root.get(), "pf", a.vf.pf_name);
  put(root.get(), "vf_index", int64_t{a.vf.vf_index});
  put(root.get(), "root_port", a.root_port);
  put(root.get(), "qemu_pid", int64_t{a.qemu.pid});
  put(root.get(), "guest_ram_bytes", static_cast<int64_t>(a.guest_ram_bytes));
  Json changes = array();
  for (const std::string& change : a.host_changes)
    json_object_array_add(changes.get(), json_object_new_string(change.c_str()));
  put(root.get(), "host_changes", std::move(changes));
  return text_of(root);
}

std::string detachment_text(const Detachment& d) {
  std::string out = "domain " + d.domain + ": port " + d.alias;
  out += d.released ? " detached" : " NOT detached";
  if (d.released && d.vf) out += "; VF " + d.vf->to_string() + " restored";
  out += "\n";
  if (!d.left_behind.empty()) out += "left behind: " + d.left_behind + "\n";
  return out;
}

std::string detachment_json(const Detachment& d) {
  Json root = object();
  put(root.get(), "domain", d.domain);
  put(root.get(), "alias", d.alias);
  if (d.vf)
    put(root.get(), "vf", d.vf->to_string());
  else
    put_null(root.get(), "vf");
  put_bool(root.get(), "released", d.released);
  if (!d.left_behind.empty()) put(root.get(), "left_behind", d.left_behind);
  return text_of(root);
}

std::string migration_json(const MigrationReport& r) {
  Json root = object();
  put(root.get(), "domain", r.domain);
  put(root.get(), "destination", r.dest_uri);
  put(root.get(), "kind", r.kind == MigrationKind::live ? "live" : "cold");
  put_bool(root.get(), "shut_down", r.shut_down);
  put_bool(root.get(), "forced_off", r.forced_off);
  Json ports = array();
  for (const MovedPort& port : r.ports) {
    Json entry = object();
    put(entry.get(), "port", port.port);
    if (port.from)
      put(entry.get(), "from", port.from->to_string());
    else
      put_null(entry.get(), "from");
    if (port.to)
      put(entry.get(), "to", port.to->to_string());
    else
      put_null(entry.get(), "to");
    append(ports.get(), std::move(entry));
  }
  put(root.get(), "ports", std::move(ports));
  Json dropped = array();
  for (const PciAddress& vf : r.dropped_reservations) {
    const std::string text = vf.to_string();
    json_object_array_add(dropped.get(), json_object_new_string_len(text.data(), text.size()));
  }
  put(root.get(), "dropped_reservations", std::move(dropped));
  put_bool(root.get(), "started", r.started);
  if (!r.left_behind.empty()) put(root.get(), "left_behind", r.left_behind);
  return text_of(root);
}

std::string change_report_text(const std::vector<std::string>& changes,
                               const std::vector<std::string>& problems,
                               const std::string& nothing) {
  std::string out;
  for (const std::string& change : changes) out += change + "\n";
  for (const std::string& problem : problems) out += "problem: " + problem + "\n";
  if (out.empty()) out = nothing + "\n";
  return out;
}

std::string change_report_json(const std::vector<std::string>& changes,
                               const std::vector<std::string>& problems) {
  Json root = object();
  Json changed = array();
  for (const std::string& change : changes)
    json_object_array_add(changed.get(), json_object_new_string(change.c_str()));
  Json problem_list = array();
  for (const std::string& problem : problems)
    json_object_array_add(problem_list.get(), json_object_new_string(problem.c_str()));
  put(root.get(), "changes", std::move(changed));
  put(root.get(), "problems", std::move(problem_list));
  return text_of(root);
}

std::string doctor_text(const std::vector<DoctorCheck>& checks) {
  std::string out;
  int warnings = 0, failures = 0;
  for (const DoctorCheck& check : checks) {
    const char* label = "ok      ";
    if (check.status == DoctorCheck::Status::warning) {
      label = "warning ";
      ++warnings;
    } else if (check.status == DoctorCheck::Status::failed) {
      label = "FAILED  ";
      ++failures;
    }
    out += label + check.name + ": " + check.found + "\n";
    if (check.status != DoctorCheck::Status::ok && !check.fix.empty())
      out += "  fix: " + check.fix + "\n";
  }
  out += std::to_string(checks.size()) + " checks: " + std::to_string(failures) + " failed, " +
         std::to_string(warnings) + (warnings == 1 ? " warning\n" : " warnings\n");
  return out;
}

std::string doctor_json(const std::vector<DoctorCheck>& checks) {
  Json root = object();
  Json list = array();
  for (const DoctorCheck& check : checks) {
    Json c = object();
    put(c.get(), "name", check.name);
    put(c.get(), "status", std::string(to_string(check.status)));
    put(c.get(), "found", check.found);
    if (check.status == DoctorCheck::Status::ok)
      put_null(c.get(), "fix");
    else
      put(c.get(), "fix", check.fix);
    append(list.get(), std::move(c));
  }
  put(root.get(), "checks", std::move(list));
  put_bool(root.get(), "ok", doctor_passed(checks));
  return text_of(root);
}

std::string claims_text(const std::vector<Claim>& claims) {
  if (claims.empty()) return "no claims\n";
  std::vector<std::vector<std::string>> rows{{"DOMAIN", "POOL", "VF", "PF", "INDEX", "MAC"}};
  for (const Claim& claim : claims) {
    const bool whole_device = claim.vf_index < 0;
    rows.push_back({printable(claim.domain, 40), claim.pool, claim.vf.to_string(),
                    whole_device ? "(whole device)" : claim.pf,
                    whole_device ? "-" : std::to_string(claim.vf_index),
                    claim.mac ? claim.mac->to_string() : "-"});
  }
  return table(rows, "");
}

std::string claims_json(const std::vector<Claim>& claims) {
  Json root = object();
  Json list = array();
  for (const Claim& claim : claims) {
    Json c = object();
    put(c.get(), "domain", claim.domain);
    put(c.get(), "pool", claim.pool);
    put(c.get(), "vf", claim.vf.to_string());
    if (claim.vf_index < 0) {
      put_null(c.get(), "pf");
      put_null(c.get(), "vf_index");
    } else {
      put(c.get(), "pf", claim.pf);
      put(c.get(), "vf_index", int64_t{claim.vf_index});
    }
    if (claim.mac)
      put(c.get(), "mac", claim.mac->to_string());
    else
      put_null(c.get(), "mac");
    append(list.get(), std::move(c));
  }
  put(root.get(), "claims", std::move(list));
  return text_of(root);
}

std::string pool_names_text(const HostConfig& config) {
  std::string out;
  for (const Pool& pool : config.pools) out += pool.name + "\n";
  return out;
}

std::string pools_json(const HostConfig& config) {
  Json root = object();
  Json list = array();
  for (const Pool& pool : config.pools) {
    Json p = object();
    put(p.get(), "name", pool.name);
    put(p.get(), "mode", pool.mode == PoolMode::pf ? "pf" : "vf");
    Json pfs = array();
    for (const PoolPf& pf : pool.pfs)
      json_object_array_add(pfs.get(), json_object_new_string_len(pf.ref.data(), pf.ref.size()));
    put(p.get(), "pfs", std::move(pfs));
    append(list.get(), std::move(p));
  }
  put(root.get(), "pools", std::move(list));
  return text_of(root);
}

std::string error_json(const Error& error) {
  Json root = object();
  Json e = object();
  put(e.get(), "kind", kind_key(error.kind));
  put(e.get(), "message", error.message);
  put(root.get(), "error", std::move(e));
  return text_of(root);
}

}  // namespace vfhook
