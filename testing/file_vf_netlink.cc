#include "testing/fake_vf_netlink.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <initializer_list>
#include <limits>
#include <memory>

#include "vfio/sysfs.h"

namespace vfhook {
namespace {

constexpr size_t kMaxFileSize = 8 << 20;
constexpr size_t kMaxVfs = 256;
constexpr int kMaxDepth = 16;

struct JsonPut {
  void operator()(json_object* object) const { json_object_put(object); }
};
using JsonPtr = std::unique_ptr<json_object, JsonPut>;

tl::unexpected<Error> bad(const std::string& where, const std::string& what) {
  return fail(ErrorKind::invalid_input, "netlink fake state: " + where + ": " + what);
}

// Refuses keys outside `allowed`, so a typo in a test's state file is an error, not a no-op.
Status check_keys(json_object* object, std::initializer_list<std::string_view> allowed,
                  const std::string& where) {
  Status result = ok();
  json_object_object_foreach(object, key, value) {
    (void)value;
    bool known = false;
    for (auto name : allowed) known = known || name == key;
    if (!known && result)
      result = bad(where, "unknown key '" + std::string(key).substr(0, 64) + "'");
  }
  return result;
}

Result<json_object*> member(json_object* object, const char* key, json_type type,
                            const std::string& where, bool required) {
  json_object* value = nullptr;
  if (!json_object_object_get_ex(object, key, &value)) {
    if (required) return bad(where, "missing key '" + std::string(key) + "'");
    return nullptr;
  }
  if (!json_object_is_type(value, type)) {
    return bad(where + "." + key, std::string("expected ") + json_type_to_name(type));
  }
  return value;
}

Result<int64_t> int_member(json_object* object, const char* key, const std::string& where,
                           bool required, int64_t fallback, int64_t min, int64_t max) {
  VF_ASSIGN(value, member(object, key, json_type_int, where, required));
  if (!value) return fallback;
  errno = 0;
  int64_t n = json_object_get_int64(value);
  if (errno != 0 || n < min || n > max) {
    return bad(where + "." + key,
               "out of range " + std::to_string(min) + ".." + std::to_string(max));
  }
  return n;
}

Result<bool> bool_member(json_object* object, const char* key, const std::string& where,
                         bool required, bool fallback) {
  VF_ASSIGN(value, member(object, key, json_type_boolean, where, required));
  if (!value) return fallback;
  return static_cast<bool>(json_object_get_boolean(value));
}

Result<std::optional<std::string>> string_member(json_object* object, const char* key,
                                                 const std::string& where) {
  VF_ASSIGN(value, member(object, key, json_type_string, where, false));
  if (!value) return std::optional<std::string>{};
  return std::optional<std::string>(
      std::string(json_object_get_string(value), json_object_get_string_len(value)));
}

Result<VfState> parse_vf(json_object* object, int index, const std::string& where) {
  if (!json_object_is_type(object, json_type_object)) return bad(where, "expected an object");
  VF_TRY(check_keys(object,
                    {"mac", "vlan", "qos", "proto", "spoofchk", "trust", "link_state",
                     "min_tx_rate", "max_tx_rate"},
                    where));
  VfState vf;
  vf.index = index;
  VF_ASSIGN(mac, string_member(object, "mac", where));
  if (mac) {
    auto parsed = MacAddress::parse(*mac);
    if (!parsed) return bad(where + ".mac", parsed.error().message);
    vf.mac = *parsed;
  }
  VF_ASSIGN(vlan, int_member(object, "vlan", where, false, 0, 0, 4095));
  VF_ASSIGN(qos, int_member(object, "qos", where, false, 0, 0, 7));
  vf.vlan.id = static_cast<uint16_t>(vlan);
  vf.vlan.qos = static_cast<uint8_t>(qos);
  VF_ASSIGN(proto, string_member(object, "proto", where));
  if (proto) {
    auto protocol = parse_vlan_protocol(*proto);
    if (!protocol) return bad(where + ".proto", "expected \"802.1Q\" or \"802.1ad\"");
    vf.vlan.protocol = *protocol;
  }
  VF_ASSIGN(spoofchk, bool_member(object, "spoofchk", where, false, true));
  vf.spoofchk = spoofchk;
  json_object* trust = nullptr;
  if (json_object_object_get_ex(object, "trust", &trust)) {
    if (trust == nullptr) {
      vf.trust = std::nullopt;  // JSON null: the driver does not report trust
    } else if (json_object_is_type(trust, json_type_boolean)) {
      vf.trust = static_cast<bool>(json_object_get_boolean(trust));
    } else {
      return bad(where + ".trust", "expected a boolean or null");
    }
  } else {
    vf.trust = false;
  }
  VF_ASSIGN(link_state, string_member(object, "link_state", where));
  if (link_state) {
    auto state = parse_link_state(*link_state);
    if (!state) return bad(where + ".link_state", "expected \"auto\", \"enable\" or \"disable\"");
    vf.link_state = *state;
  }
  constexpr int64_t kMaxRate = std::numeric_limits<uint32_t>::max();
  VF_ASSIGN(min_rate, int_member(object, "min_tx_rate", where, false, 0, 0, kMaxRate));
  VF_ASSIGN(max_rate, int_member(object, "max_tx_rate", where, false, 0, 0, kMaxRate));
  vf.min_tx_rate = static_cast<uint32_t>(min_rate);
  vf.max_tx_rate = static_cast<uint32_t>(max_rate);
  return vf;
}

Status parse_pf(json_object* object, const std::string& name, RecordingVfNetlink& state) {
  const std::string where = "pfs." + name.substr(0, 64);
  if (!is_safe_name(name) || name.size() > 15) return bad(where, "invalid interface name");
  if (!json_object_is_type(object, json_type_object)) return bad(where, "expected an object");
  VF_TRY(check_keys(object, {"ifindex", "up", "refuse", "ignore", "vfs"}, where));
  VF_ASSIGN(ifindex,
            int_member(object, "ifindex", where, true, 0, 1, std::numeric_limits<int32_t>::max()));
  VF_ASSIGN(up, bool_member(object, "up", where, true, false));
  VF_ASSIGN(vfs, member(object, "vfs", json_type_array, where, true));
  size_t count = json_object_array_length(vfs);
  if (count > kMaxVfs) return bad(where + ".vfs", "more than 256 VFs");
  state.add_pf(name, static_cast<int>(ifindex), up, 0);
  PfLink* link = state.pf(name);
  for (size_t i = 0; i < count; ++i) {
    VF_ASSIGN(vf, parse_vf(json_object_array_get_idx(vfs, i), static_cast<int>(i),
                           where + ".vfs[" + std::to_string(i) + "]"));
    link->vfs.push_back(vf);
  }
  VF_ASSIGN(refuse, member(object, "refuse", json_type_object, where, false));
  if (refuse) {
    Status result = ok();
    json_object_object_foreach(refuse, key, value) {
      if (!result) break;
      auto attribute = parse_vf_attribute(key);
      const std::string at = where + ".refuse." + std::string(key).substr(0, 32);
      if (!attribute) {
        result = bad(at, "unknown attribute");
      } else if (!json_object_is_type(value, json_type_int) || json_object_get_int64(value) < 1 ||
                 json_object_get_int64(value) > 4095) {
        result = bad(at, "expected an errno number 1..4095");
      } else {
        state.refuse(*attribute, static_cast<int>(json_object_get_int64(value)), name);
      }
    }
    VF_TRY(result);
  }
  VF_ASSIGN(ignore, member(object, "ignore", json_type_array, where, false));
  if (ignore) {
    for (size_t i = 0; i < json_object_array_length(ignore); ++i) {
      json_object* item = json_object_array_get_idx(ignore, i);
      const std::string at = where + ".ignore[" + std::to_string(i) + "]";
      if (!json_object_is_type(item, json_type_string)) return bad(at, "expected a string");
      auto attribute = parse_vf_attribute(json_object_get_string(item));
      if (!attribute) return bad(at, "unknown attribute");
      state.ignore(*attribute, name);
    }
  }
  return ok();
}

JsonPtr vf_to_json(const VfState& vf) {
  JsonPtr object(json_object_new_object());
  json_object_object_add(object.get(), "mac", json_object_new_string(vf.mac.to_string().c_str()));
  json_object_object_add(object.get(), "vlan", json_object_new_int64(vf.vlan.id));
  json_object_object_add(object.get(), "qos", json_object_new_int64(vf.vlan.qos));
  json_object_object_add(object.get(), "proto",
                         json_object_new_string(std::string(to_string(vf.vlan.protocol)).c_str()));
  json_object_object_add(object.get(), "spoofchk", json_object_new_boolean(vf.spoofchk));
  json_object_object_add(object.get(), "trust",
                         vf.trust ? json_object_new_boolean(*vf.trust) : nullptr);
  json_object_object_add(object.get(), "link_state",
                         json_object_new_string(std::string(to_string(vf.link_state)).c_str()));
  json_object_object_add(object.get(), "min_tx_rate", json_object_new_int64(vf.min_tx_rate));
  json_object_object_add(object.get(), "max_tx_rate", json_object_new_int64(vf.max_tx_rate));
  return object;
}

// An open, exclusively locked state file; the lock goes with the descriptor.
class LockedFile {
 public:
  static Result<LockedFile> open(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return fail(errno_error(errno, "open netlink fake state " + path.string()));
    int rc;
    do {
      rc = ::flock(fd, LOCK_EX);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
      int err = errno;
      ::close(fd);
      return fail(errno_error(err, "lock netlink fake state " + path.string()));
    }
    return LockedFile(fd, path);
  }
  LockedFile(LockedFile&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
    other.fd_ = -1;
  }
  LockedFile& operator=(LockedFile&&) = delete;
  ~LockedFile() {
    if (fd_ >= 0) ::close(fd_);
  }

  Result<std::string> read_all() {
    std::string text;
    char buf[65536];
    off_t offset = 0;
    for (;;) {
      ssize_t n = ::pread(fd_, buf, sizeof buf, offset);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail(errno_error(errno, "read " + path_.string()));
      if (n == 0) break;
      text.append(buf, static_cast<size_t>(n));
      offset += n;
      if (text.size() > kMaxFileSize) {
        return fail(ErrorKind::invalid_input, path_.string() + ": larger than 8 MiB");
      }
    }
    return text;
  }

  Status write_all(const std::string& text) {
    size_t done = 0;
    while (done < text.size()) {
      ssize_t n = ::pwrite(fd_, text.data() + done, text.size() - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail(errno_error(errno, "write " + path_.string()));
      done += static_cast<size_t>(n);
    }
    if (::ftruncate(fd_, static_cast<off_t>(text.size())) < 0) {
      return fail(errno_error(errno, "truncate " + path_.string()));
    }
    return ok();
  }

 private:
  LockedFile(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::filesystem::path path_;
};

}  // namespace

Result<RecordingVfNetlink> fake_vf_state_from_json(std::string_view json) {
  if (json.size() > kMaxFileSize) return bad("file", "larger than 8 MiB");
  std::unique_ptr<json_tokener, decltype(&json_tokener_free)> tokener(
      json_tokener_new_ex(kMaxDepth), &json_tokener_free);
  if (!tokener) return fail(ErrorKind::internal, "json_tokener_new_ex failed");
  JsonPtr root(json_tokener_parse_ex(tokener.get(), json.data(), static_cast<int>(json.size())));
  auto error = json_tokener_get_error(tokener.get());
  if (!root || error != json_tokener_success) {
    return bad("file", std::string("not valid JSON: ") + (error == json_tokener_continue
                                                              ? "unexpected end of input"
                                                              : json_tokener_error_desc(error)));
  }
  for (size_t i = json_tokener_get_parse_end(tokener.get()); i < json.size(); ++i) {
    if (json[i] != ' ' && json[i] != '\n' && json[i] != '\t' && json[i] != '\r') {
      return bad("file", "trailing data after the JSON object");
    }
  }
  if (!json_object_is_type(root.get(), json_type_object)) return bad("file", "expected an object");
  VF_TRY(check_keys(root.get(), {"pfs", "requests"}, "top level"));
  RecordingVfNetlink state;
  VF_ASSIGN(pfs, member(root.get(), "pfs", json_type_object, "top level", true));
  Status result = ok();
  json_object_object_foreach(pfs, name, pf) {
    if (result) result = parse_pf(pf, name, state);
  }
  VF_TRY(result);
  VF_ASSIGN(requests, member(root.get(), "requests", json_type_array, "top level", false));
  if (requests) {
    std::vector<std::string> lines;
    for (size_t i = 0; i < json_object_array_length(requests); ++i) {
      json_object* item = json_object_array_get_idx(requests, i);
      if (!json_object_is_type(item, json_type_string)) {
        return bad("requests[" + std::to_string(i) + "]", "expected a string");
      }
      lines.emplace_back(json_object_get_string(item), json_object_get_string_len(item));
    }
    state.set_requests(std::move(lines));
  }
  return state;
}

Result<std::string> fake_vf_state_to_json(const RecordingVfNetlink& state) {
  JsonPtr root(json_object_new_object());
  json_object* pfs = json_object_new_object();
  json_object_object_add(root.get(), "pfs", pfs);
  for (const auto& fault : state.faults()) {
    if (fault.vf) {
      return fail(ErrorKind::internal,
                  "netlink fake state: a fault for one VF cannot be written to the file");
    }
  }
  for (const auto& [name, link] : state.pfs()) {
    json_object* pf = json_object_new_object();
    json_object_object_add(pfs, name.c_str(), pf);
    json_object_object_add(pf, "ifindex", json_object_new_int64(link.ifindex));
    json_object_object_add(pf, "up", json_object_new_boolean(link.admin_up));
    json_object* refuse = json_object_new_object();
    json_object* ignore = json_object_new_array();
    for (const auto& fault : state.faults()) {
      if (fault.pf && *fault.pf != name) continue;
      const std::string attribute(to_string(fault.attribute));
      if (fault.error != 0) {
        if (!json_object_object_get_ex(refuse, attribute.c_str(), nullptr)) {
          json_object_object_add(refuse, attribute.c_str(), json_object_new_int64(fault.error));
        }
      } else {
        json_object_array_add(ignore, json_object_new_string(attribute.c_str()));
      }
    }
    json_object_object_add(pf, "refuse", refuse);
    json_object_object_add(pf, "ignore", ignore);
    json_object* vfs = json_object_new_array();
    for (const auto& vf : link.vfs) json_object_array_add(vfs, vf_to_json(vf).release());
    json_object_object_add(pf, "vfs", vfs);
  }
  json_object* requests = json_object_new_array();
  for (const auto& line : state.requests()) {
    json_object_array_add(requests,
                          json_object_new_string_len(line.data(), static_cast<int>(line.size())));
  }
  json_object_object_add(root.get(), "requests", requests);
  std::string text = json_object_to_json_string_ext(
      root.get(), JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
  text += "\n";
  return text;
}

Status FileVfNetlink::save(const std::filesystem::path& path, const RecordingVfNetlink& state) {
  VF_ASSIGN(text, fake_vf_state_to_json(state));
  VF_ASSIGN(file, LockedFile::open(path));
  return file.write_all(text);
}

Result<RecordingVfNetlink> FileVfNetlink::load(const std::filesystem::path& path) {
  VF_ASSIGN(file, LockedFile::open(path));
  VF_ASSIGN(text, file.read_all());
  return with_context(fake_vf_state_from_json(text), path.string());
}

template <class Call>
Status FileVfNetlink::locked_call(Call call) {
  VF_ASSIGN(file, LockedFile::open(path_));
  VF_ASSIGN(text, file.read_all());
  auto state = with_context(fake_vf_state_from_json(text), path_.string());
  if (!state) return fail(state.error());
  Status result = call(*state);
  VF_ASSIGN(updated, fake_vf_state_to_json(*state));
  VF_TRY(file.write_all(updated));
  return result;
}

Result<PfLink> FileVfNetlink::read_pf(std::string_view pf_name) {
  PfLink link;
  VF_TRY(locked_call([&](RecordingVfNetlink& state) -> Status {
    VF_ASSIGN(read, state.read_pf(pf_name));
    link = std::move(read);
    return ok();
  }));
  return link;
}

Status FileVfNetlink::set_mac(std::string_view pf_name, int vf, const MacAddress& mac) {
  return locked_call([&](RecordingVfNetlink& s) { return s.set_mac(pf_name, vf, mac); });
}
Status FileVfNetlink::set_vlan(std::string_view pf_name, int vf, const Vlan& vlan) {
  return locked_call([&](RecordingVfNetlink& s) { return s.set_vlan(pf_name, vf, vlan); });
}
Status FileVfNetlink::set_spoofchk(std::string_view pf_name, int vf, bool on) {
  return locked_call([&](RecordingVfNetlink& s) { return s.set_spoofchk(pf_name, vf, on); });
}
Status FileVfNetlink::set_trust(std::string_view pf_name, int vf, bool on) {
  return locked_call([&](RecordingVfNetlink& s) { return s.set_trust(pf_name, vf, on); });
}
Status FileVfNetlink::set_link_state(std::string_view pf_name, int vf, LinkState state) {
  return locked_call([&](RecordingVfNetlink& s) { return s.set_link_state(pf_name, vf, state); });
}
Status FileVfNetlink::set_rates(std::string_view pf_name, int vf, uint32_t min_tx_mbps,
                                uint32_t max_tx_mbps) {
  return locked_call(
      [&](RecordingVfNetlink& s) { return s.set_rates(pf_name, vf, min_tx_mbps, max_tx_mbps); });
}

}  // namespace vfhook
