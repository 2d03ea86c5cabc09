#include "lldp/lldpctl_neighbors.h"

#include <dlfcn.h>

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

#include "util/printable.h"

// liblldpctl's types, at global scope as the C library declares them: a function called through
// a pointer must have exactly the pointer's type (UBSan's -fsanitize=function checks it).
struct lldpctl_conn_t;
struct lldpctl_atom_t;
struct lldpctl_atom_iter_t;
using lldpctl_send_callback = ssize_t (*)(lldpctl_conn_t* conn, const uint8_t* data, size_t length,
                                          void* user_data);
using lldpctl_recv_callback = ssize_t (*)(lldpctl_conn_t* conn, const uint8_t* data, size_t length,
                                          void* user_data);

namespace vfhook {
namespace {

// The part of liblldpctl's API (liblldpctl.so.4) vfctl uses, declared here instead of
// including <lldpctl.h>, so that building vfctl needs no lldpd package. Signatures and the
// values of the keys and errors are those of lldpctl.h in Debian 12's liblldpctl-dev
// 1.0.16-1+deb12u1 (the enum values are part of the .so.4 ABI; lldpctl_key_t and
// lldpctl_error_t are C enums, passed as int).

enum LldpctlKey : int {
  lldpctl_k_interface_name = 1000,
  lldpctl_k_port_neighbors = 1200,
  lldpctl_k_port_id_subtype = 1203,
  lldpctl_k_port_id = 1204,
  lldpctl_k_port_descr = 1205,
  lldpctl_k_port_hidden = 1206,
  lldpctl_k_port_chassis = 1208,
  lldpctl_k_port_ttl = 1209,
  lldpctl_k_port_vlan_pvid = 1500,
  lldpctl_k_chassis_id_subtype = 1801,
  lldpctl_k_chassis_id = 1802,
  lldpctl_k_chassis_name = 1803,
  lldpctl_k_chassis_descr = 1804,
  lldpctl_k_chassis_mgmt = 1807,
  lldpctl_k_chassis_ttl = 1808,
  lldpctl_k_mgmt_ip = 3000,
};
constexpr int kLldpctlErrCannotConnect = -504;  // LLDPCTL_ERR_CANNOT_CONNECT

struct LldpctlApi {
  lldpctl_conn_t* (*new_conn)(lldpctl_send_callback send, lldpctl_recv_callback recv,
                              void* user_data);
  int (*release)(lldpctl_conn_t*);
  void (*log_callback)(void (*)(int severity, const char* message));
  int (*last_error)(lldpctl_conn_t*);
  const char* (*strerror)(int error);
  lldpctl_atom_t* (*get_interfaces)(lldpctl_conn_t*);
  lldpctl_atom_t* (*get_port)(lldpctl_atom_t*);
  lldpctl_atom_t* (*atom_get)(lldpctl_atom_t*, int key);
  const char* (*atom_get_str)(lldpctl_atom_t*, int key);
  long (*atom_get_int)(lldpctl_atom_t*, int key);
  lldpctl_atom_iter_t* (*atom_iter)(lldpctl_atom_t*);
  lldpctl_atom_iter_t* (*atom_iter_next)(lldpctl_atom_t*, lldpctl_atom_iter_t*);
  lldpctl_atom_t* (*atom_iter_value)(lldpctl_atom_t*, lldpctl_atom_iter_t*);
  void (*atom_dec_ref)(lldpctl_atom_t*);
};

// liblldpctl logs to stderr by default ("unable to connect to socket ..."): vfctl keeps the
// last message instead and puts it in the reason it shows. vfctl asks lldpd from one thread.
std::string& last_library_message() {
  static std::string message;
  return message;
}
void keep_library_message(int /*severity*/, const char* message) {
  if (message) last_library_message() = printable(message, 200);
}

struct DlClose {
  void operator()(void* handle) const { dlclose(handle); }
};
using Library = std::unique_ptr<void, DlClose>;

template <class F>
Status resolve(void* handle, const char* symbol, F& function, const std::string& library) {
  void* address = dlsym(handle, symbol);
  if (!address)
    return fail(ErrorKind::not_found,
                library + " has no " + symbol + ": not the liblldpctl.so.4 of lldpd 1.0.x");
  function = reinterpret_cast<F>(address);
  return ok();
}

// An atom reference dropped when it goes out of scope (every atom liblldpctl hands out, from
// a getter or an iterator, is a new reference).
class Atom {
 public:
  Atom(const LldpctlApi& api, lldpctl_atom_t* atom) : api_(&api), atom_(atom) {}
  Atom(const Atom&) = delete;
  Atom& operator=(const Atom&) = delete;
  ~Atom() {
    if (atom_) api_->atom_dec_ref(atom_);
  }
  lldpctl_atom_t* get() const { return atom_; }
  explicit operator bool() const { return atom_ != nullptr; }

 private:
  const LldpctlApi* api_;
  lldpctl_atom_t* atom_;
};

// Calls `visit` with each atom of the list `list` (a borrowed reference for the call).
template <class Visit>
void for_each_atom(const LldpctlApi& api, lldpctl_atom_t* list, Visit visit) {
  if (!list) return;
  for (lldpctl_atom_iter_t* iter = api.atom_iter(list); iter;
       iter = api.atom_iter_next(list, iter)) {
    Atom value(api, api.atom_iter_value(list, iter));
    if (!value) break;
    visit(value.get());
  }
}

std::string text_of(const LldpctlApi& api, lldpctl_atom_t* atom, int key) {
  const char* text = api.atom_get_str(atom, key);
  return text ? printable(text, 511) : std::string();
}

LldpNeighbor neighbor_of(const LldpctlApi& api, lldpctl_atom_t* remote_port) {
  LldpNeighbor neighbor;
  auto small = [](long value, long max) -> long { return value < 0 || value > max ? 0 : value; };
  neighbor.port.subtype =
      static_cast<uint8_t>(small(api.atom_get_int(remote_port, lldpctl_k_port_id_subtype), 255));
  neighbor.port.value = text_of(api, remote_port, lldpctl_k_port_id);
  neighbor.port_description = text_of(api, remote_port, lldpctl_k_port_descr);
  long ttl = api.atom_get_int(remote_port, lldpctl_k_port_ttl);
  const long pvid = api.atom_get_int(remote_port, lldpctl_k_port_vlan_pvid);
  if (pvid > 0 && pvid < 4096) neighbor.port_vlan_id = static_cast<uint16_t>(pvid);
  Atom chassis(api, api.atom_get(remote_port, lldpctl_k_port_chassis));
  if (chassis) {
    neighbor.chassis.subtype = static_cast<uint8_t>(
        small(api.atom_get_int(chassis.get(), lldpctl_k_chassis_id_subtype), 255));
    neighbor.chassis.value = text_of(api, chassis.get(), lldpctl_k_chassis_id);
    neighbor.system_name = text_of(api, chassis.get(), lldpctl_k_chassis_name);
    neighbor.system_description = text_of(api, chassis.get(), lldpctl_k_chassis_descr);
    // Older lldpd kept the TTL on the chassis; 1.0.x reports 0 on the port then.
    if (ttl <= 0) ttl = api.atom_get_int(chassis.get(), lldpctl_k_chassis_ttl);
    Atom addresses(api, api.atom_get(chassis.get(), lldpctl_k_chassis_mgmt));
    for_each_atom(api, addresses.get(), [&](lldpctl_atom_t* address) {
      if (neighbor.management_addresses.size() < LldpNeighbor::kMaxManagementAddresses)
        neighbor.management_addresses.push_back(text_of(api, address, lldpctl_k_mgmt_ip));
    });
  }
  neighbor.ttl_seconds = static_cast<uint16_t>(small(ttl, 65535));
  return neighbor;
}

}  // namespace

LldpctlNeighbors::LldpctlNeighbors(std::string library) : library_(std::move(library)) {}
LldpctlNeighbors::~LldpctlNeighbors() = default;

Result<std::vector<LldpNeighbor>> LldpctlNeighbors::neighbors_of(const std::string& netdev) {
  if (!snapshot_) snapshot_ = ask_lldpd();
  if (!*snapshot_) return fail(snapshot_->error());
  const auto found = (*snapshot_)->find(netdev);
  if (found == (*snapshot_)->end())
    return fail(ErrorKind::not_found,
                "lldpd does not watch " + printable(netdev) +
                    " (its interface pattern leaves it out, or the link is down): see `lldpcli "
                    "show configuration` and `lldpcli configure system interface pattern`");
  return found->second;
}

Result<LldpctlNeighbors::ByInterface> LldpctlNeighbors::ask_lldpd() {
  dlerror();
  Library handle(dlopen(library_.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (!handle) {
    const char* why = dlerror();
    return fail(ErrorKind::not_found,
                "cannot load " + library_ + " (" + printable(why ? why : "?", 200) +
                    "): install lldpd and start it, or use --lldp-listen SECONDS");
  }
  LldpctlApi api{};
  VF_TRY(resolve(handle.get(), "lldpctl_new", api.new_conn, library_));
  VF_TRY(resolve(handle.get(), "lldpctl_release", api.release, library_));
  VF_TRY(resolve(handle.get(), "lldpctl_log_callback", api.log_callback, library_));
  VF_TRY(resolve(handle.get(), "lldpctl_last_error", api.last_error, library_));
  VF_TRY(resolve(handle.get(), "lldpctl_strerror", api.strerror, library_));
  VF_TRY(resolve(handle.get(), "lldpctl_get_interfaces", api.get_interfaces, library_));
  VF_TRY(resolve(handle.get(), "lldpctl_get_port", api.get_port, library_));
  VF_TRY(resolve(handle.get(), "lldpctl_atom_get", api.atom_get, library_));
  VF_TRY(resolve(handle.get(), "lldpctl_atom_get_str", api.atom_get_str, library_));
  VF_TRY(resolve(handle.get(), "lldpctl_atom_get_int", api.atom_get_int, library_));
  VF_TRY(resolve(handle.get(), "lldpctl_atom_iter", api.atom_iter, library_));
  VF_TRY(resolve(handle.get(), "lldpctl_atom_iter_next", api.atom_iter_next, library_));
  VF_TRY(resolve(handle.get(), "lldpctl_atom_iter_value", api.atom_iter_value, library_));
  VF_TRY(resolve(handle.get(), "lldpctl_atom_dec_ref", api.atom_dec_ref, library_));

  last_library_message().clear();
  api.log_callback(keep_library_message);
  // Both callbacks null: the library's own synchronous I/O on lldpd's default socket.
  std::unique_ptr<lldpctl_conn_t, int (*)(lldpctl_conn_t*)> conn(
      api.new_conn(nullptr, nullptr, nullptr), api.release);
  if (!conn) return fail(ErrorKind::os, "liblldpctl: lldpctl_new failed (out of memory?)");

  Atom interfaces(api, api.get_interfaces(conn.get()));
  if (!interfaces) {
    const int error = api.last_error(conn.get());
    const char* what = api.strerror(error);
    std::string reason = "lldpd: " + printable(what ? what : "?", 200);
    if (!last_library_message().empty()) reason += " (" + last_library_message() + ")";
    if (error == kLldpctlErrCannotConnect)
      reason +=
          ": is lldpd running (systemctl start lldpd)? Its socket is for root and group "
          "_lldpd; or use --lldp-listen SECONDS";
    return fail(ErrorKind::not_found, reason);
  }
  ByInterface by_interface;
  for_each_atom(api, interfaces.get(), [&](lldpctl_atom_t* interface) {
    const char* name = api.atom_get_str(interface, lldpctl_k_interface_name);
    if (!name) return;
    std::vector<LldpNeighbor>& neighbors = by_interface[name];
    Atom port(api, api.get_port(interface));
    if (!port) return;
    Atom remote_ports(api, api.atom_get(port.get(), lldpctl_k_port_neighbors));
    for_each_atom(api, remote_ports.get(), [&](lldpctl_atom_t* remote_port) {
      // lldpd hides a neighbour its smart filter judged redundant (lldpcli shows it with -a).
      if (api.atom_get_int(remote_port, lldpctl_k_port_hidden) > 0) return;
      neighbors.push_back(neighbor_of(api, remote_port));
    });
  });
  // Destroyed in reverse order: the atoms, then the connection, then the library.
  return by_interface;
}

}  // namespace vfhook
