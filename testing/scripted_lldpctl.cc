// A stand-in for liblldpctl.so.4, built as a shared library that tests hand to
// LldpctlNeighbors by path: the same exported functions with the same signatures (lldpctl.h of
// lldpd 1.0.16), answering from a script the test writes through the scripted_lldpctl_*
// functions below (found with dlsym on the same, still loaded, library). It counts live atom
// references and connections, so a test sees that vfctl drops every reference it was given
// and releases its connection.
#include <sys/types.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Neighbor {
  std::string chassis_id, system_name, system_description, port_id, port_description;
  long chassis_subtype = 0, port_subtype = 0, ttl = 0, pvid = 0, hidden = 0;
  std::vector<std::string> management;
};
struct Interface {
  std::string name;
  std::vector<Neighbor> neighbors;
};
struct Script {
  int connect_error = 0;  // non-zero: lldpctl_get_interfaces fails with it
  std::vector<Interface> interfaces;
  int live_atoms = 0;
  int live_connections = 0;
  int last_error = 0;
} script;

enum class Kind { interfaces, interface, port, neighbors, neighbor, chassis, addresses, address };

}  // namespace

struct lldpctl_conn_t {
  int unused = 0;
};
struct lldpctl_atom_t {
  Kind kind;
  size_t interface = 0, neighbor = 0, address = 0;
  int refs = 1;
};
struct lldpctl_atom_iter_t;

namespace {

lldpctl_atom_t* make(Kind kind, size_t interface = 0, size_t neighbor = 0, size_t address = 0) {
  ++script.live_atoms;
  return new lldpctl_atom_t{kind, interface, neighbor, address, 1};
}
size_t length_of(const lldpctl_atom_t* list) {
  switch (list->kind) {
    case Kind::interfaces:
      return script.interfaces.size();
    case Kind::neighbors:
      return script.interfaces[list->interface].neighbors.size();
    case Kind::addresses:
      return script.interfaces[list->interface].neighbors[list->neighbor].management.size();
    default:
      return 0;
  }
}
const Neighbor* neighbor_of(const lldpctl_atom_t* atom) {
  if (atom->kind != Kind::neighbor && atom->kind != Kind::chassis) return nullptr;
  return &script.interfaces[atom->interface].neighbors[atom->neighbor];
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) void scripted_lldpctl_reset(int connect_error) {
  script = Script{};
  script.connect_error = connect_error;
}
__attribute__((visibility("default"))) void scripted_lldpctl_add_interface(const char* name) {
  script.interfaces.push_back(Interface{name, {}});
}
// A neighbour on the interface added last.
__attribute__((visibility("default"))) void scripted_lldpctl_add_neighbor(
    long chassis_subtype, const char* chassis_id, const char* system_name, long port_subtype,
    const char* port_id, const char* port_description, long ttl, long pvid, const char* address,
    long hidden) {
  Neighbor n;
  n.chassis_subtype = chassis_subtype;
  n.chassis_id = chassis_id;
  n.system_name = system_name;
  n.system_description = "Debian GNU/Linux 12 (bookworm)";
  n.port_subtype = port_subtype;
  n.port_id = port_id;
  n.port_description = port_description;
  n.ttl = ttl;
  n.pvid = pvid;
  if (address && *address) n.management.push_back(address);
  n.hidden = hidden;
  script.interfaces.back().neighbors.push_back(n);
}
__attribute__((visibility("default"))) int scripted_lldpctl_live_atoms() {
  return script.live_atoms;
}
__attribute__((visibility("default"))) int scripted_lldpctl_live_connections() {
  return script.live_connections;
}

// ---- the liblldpctl API ----

__attribute__((visibility("default"))) lldpctl_conn_t* lldpctl_new(
    ssize_t (*)(lldpctl_conn_t*, const uint8_t*, size_t, void*),
    ssize_t (*)(lldpctl_conn_t*, const uint8_t*, size_t, void*), void*) {
  ++script.live_connections;
  return new lldpctl_conn_t;
}
__attribute__((visibility("default"))) int lldpctl_release(lldpctl_conn_t* conn) {
  --script.live_connections;
  delete conn;
  return 0;
}
__attribute__((visibility("default"))) void lldpctl_log_callback(void (*cb)(int, const char*)) {
  if (cb && script.connect_error) cb(1, "unable to connect to socket /run/lldpd.socket");
}
__attribute__((visibility("default"))) int lldpctl_last_error(lldpctl_conn_t*) {
  return script.last_error;
}
__attribute__((visibility("default"))) const char* lldpctl_strerror(int error) {
  return error == -504 ? "cannot connect to lldpd" : "scripted error";
}
__attribute__((visibility("default"))) lldpctl_atom_t* lldpctl_get_interfaces(lldpctl_conn_t*) {
  if (script.connect_error) {
    script.last_error = script.connect_error;
    return nullptr;
  }
  return make(Kind::interfaces);
}
__attribute__((visibility("default"))) lldpctl_atom_t* lldpctl_get_port(lldpctl_atom_t* atom) {
  if (atom->kind != Kind::interface) return nullptr;
  return make(Kind::port, atom->interface);
}
__attribute__((visibility("default"))) lldpctl_atom_t* lldpctl_atom_get(lldpctl_atom_t* atom,
                                                                        int key) {
  if (atom->kind == Kind::port && key == 1200) return make(Kind::neighbors, atom->interface);
  if (atom->kind == Kind::neighbor && key == 1208)
    return make(Kind::chassis, atom->interface, atom->neighbor);
  if (atom->kind == Kind::chassis && key == 1807)
    return make(Kind::addresses, atom->interface, atom->neighbor);
  return nullptr;
}
__attribute__((visibility("default"))) const char* lldpctl_atom_get_str(lldpctl_atom_t* atom,
                                                                        int key) {
  if (atom->kind == Kind::interface && key == 1000)
    return script.interfaces[atom->interface].name.c_str();
  if (atom->kind == Kind::address && key == 3000)
    return script.interfaces[atom->interface]
        .neighbors[atom->neighbor]
        .management[atom->address]
        .c_str();
  const Neighbor* n = neighbor_of(atom);
  if (!n) return nullptr;
  if (atom->kind == Kind::neighbor) {
    if (key == 1204) return n->port_id.c_str();
    if (key == 1205) return n->port_description.c_str();
  } else {
    if (key == 1802) return n->chassis_id.c_str();
    if (key == 1803) return n->system_name.c_str();
    if (key == 1804) return n->system_description.c_str();
  }
  return nullptr;
}
__attribute__((visibility("default"))) long lldpctl_atom_get_int(lldpctl_atom_t* atom, int key) {
  const Neighbor* n = neighbor_of(atom);
  if (!n) return -503;
  if (atom->kind == Kind::neighbor) {
    if (key == 1203) return n->port_subtype;
    if (key == 1209) return n->ttl;
    if (key == 1500) return n->pvid;
    if (key == 1206) return n->hidden;
  } else if (key == 1801) {
    return n->chassis_subtype;
  }
  return -503;  // LLDPCTL_ERR_NOT_EXIST
}
// An iterator is the index of the next item plus one, so nothing needs freeing.
__attribute__((visibility("default"))) lldpctl_atom_iter_t* lldpctl_atom_iter(
    lldpctl_atom_t* list) {
  return length_of(list) > 0 ? reinterpret_cast<lldpctl_atom_iter_t*>(uintptr_t{1}) : nullptr;
}
__attribute__((visibility("default"))) lldpctl_atom_iter_t* lldpctl_atom_iter_next(
    lldpctl_atom_t* list, lldpctl_atom_iter_t* iter) {
  const auto next = reinterpret_cast<uintptr_t>(iter) + 1;
  return next <= length_of(list) ? reinterpret_cast<lldpctl_atom_iter_t*>(next) : nullptr;
}
__attribute__((visibility("default"))) lldpctl_atom_t* lldpctl_atom_iter_value(
    lldpctl_atom_t* list, lldpctl_atom_iter_t* iter) {
  const size_t i = reinterpret_cast<uintptr_t>(iter) - 1;
  switch (list->kind) {
    case Kind::interfaces:
      return make(Kind::interface, i);
    case Kind::neighbors:
      return make(Kind::neighbor, list->interface, i);
    case Kind::addresses:
      return make(Kind::address, list->interface, list->neighbor, i);
    default:
      return nullptr;
  }
}
__attribute__((visibility("default"))) void lldpctl_atom_dec_ref(lldpctl_atom_t* atom) {
  if (atom && --atom->refs == 0) {
    --script.live_atoms;
    delete atom;
  }
}

}  // extern "C"
