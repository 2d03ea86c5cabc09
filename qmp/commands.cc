#include "qmp/commands.h"

#include <algorithm>

#include "util/printable.h"

namespace vfhook {
namespace {

constexpr uint16_t kRedHatVendorId = 0x1b36;
constexpr uint16_t kPcieRootPortDeviceId = 0x000c;
constexpr size_t kMaxQomIdBytes = 128;

Result<std::vector<QmpPciDevice>> parse_devices(json_object* list, const std::string& where,
                                                int depth);

Result<QmpPciDevice> parse_device(json_object* object, const std::string& where, int depth) {
  if (!json_object_is_type(object, json_type_object)) {
    return fail(ErrorKind::invalid_input,
                where + ": expected an object, got " +
                    std::string(json_type_phrase(json_object_get_type(object))));
  }
  QmpPciDevice device;
  VF_ASSIGN(bus, json_int_member(object, "bus", where, 0, 255));
  VF_ASSIGN(slot, json_int_member(object, "slot", where, 0, 31));
  VF_ASSIGN(function, json_int_member(object, "function", where, 0, 7));
  device.bus = static_cast<int>(bus);
  device.slot = static_cast<int>(slot);
  device.function = static_cast<int>(function);
  VF_ASSIGN(id, json_member(object, "id", json_type_object, where, true));
  VF_ASSIGN(vendor, json_int_member(id, "vendor", where + ".id", 0, 0xffff));
  VF_ASSIGN(device_id, json_int_member(id, "device", where + ".id", 0, 0xffff));
  device.vendor_id = static_cast<uint16_t>(vendor);
  device.device_id = static_cast<uint16_t>(device_id);
  VF_ASSIGN(qdev_id, json_string_member(object, "qdev_id", where));
  device.qdev_id = std::move(qdev_id);

  VF_ASSIGN(bridge, json_member(object, "pci_bridge", json_type_object, where, false));
  if (!bridge) return device;
  const std::string bridge_where = where + ".pci_bridge";
  if (depth >= kMaxPciBridgeDepth) {
    return fail(ErrorKind::invalid_input, bridge_where + ": PCI bridges nested deeper than " +
                                              std::to_string(kMaxPciBridgeDepth) + " levels");
  }
  device.is_bridge = true;
  VF_ASSIGN(bridge_bus, json_member(bridge, "bus", json_type_object, bridge_where, true));
  VF_ASSIGN(number, json_int_member(bridge_bus, "number", bridge_where + ".bus", 0, 255));
  device.secondary_bus = static_cast<int>(number);
  // QAPI leaves out an empty optional list: no "devices" means nothing behind the bridge.
  VF_ASSIGN(children, json_member(bridge, "devices", json_type_array, bridge_where, false));
  if (children) {
    VF_ASSIGN(parsed, parse_devices(children, bridge_where + ".devices", depth + 1));
    device.children = std::move(parsed);
  }
  return device;
}

Result<std::vector<QmpPciDevice>> parse_devices(json_object* list, const std::string& where,
                                                int depth) {
  std::vector<QmpPciDevice> devices;
  const size_t count = json_object_array_length(list);
  devices.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    VF_ASSIGN(device, parse_device(json_object_array_get_idx(list, i),
                                   where + "[" + std::to_string(i) + "]", depth));
    devices.push_back(std::move(device));
  }
  return devices;
}

const QmpPciDevice* find_free_port(const std::vector<QmpPciDevice>& devices) {
  for (const QmpPciDevice& device : devices) {
    if (device.is_pcie_root_port() && device.children.empty() && !device.qdev_id.empty()) {
      return &device;
    }
    // Depth is bounded by parse_query_pci.
    if (const QmpPciDevice* port = find_free_port(device.children)) return port;
  }
  return nullptr;
}

}  // namespace

bool QmpPciDevice::is_pcie_root_port() const {
  return is_bridge && vendor_id == kRedHatVendorId && device_id == kPcieRootPortDeviceId;
}

Result<std::vector<QmpPciBus>> parse_query_pci(json_object* value) {
  const std::string where = "query-pci: return";
  if (!json_object_is_type(value, json_type_array)) {
    return fail(ErrorKind::invalid_input,
                where + ": expected an array, got " +
                    std::string(json_type_phrase(json_object_get_type(value))));
  }
  std::vector<QmpPciBus> buses;
  const size_t count = json_object_array_length(value);
  for (size_t i = 0; i < count; ++i) {
    json_object* bus = json_object_array_get_idx(value, i);
    const std::string bus_where = where + "[" + std::to_string(i) + "]";
    if (!json_object_is_type(bus, json_type_object)) {
      return fail(ErrorKind::invalid_input,
                  bus_where + ": expected an object, got " +
                      std::string(json_type_phrase(json_object_get_type(bus))));
    }
    QmpPciBus parsed;
    VF_ASSIGN(number, json_int_member(bus, "bus", bus_where, 0, 255));
    parsed.number = static_cast<int>(number);
    VF_ASSIGN(devices, json_member(bus, "devices", json_type_array, bus_where, true));
    VF_ASSIGN(parsed_devices, parse_devices(devices, bus_where + ".devices", 0));
    parsed.devices = std::move(parsed_devices);
    buses.push_back(std::move(parsed));
  }
  return buses;
}

Result<std::vector<QmpPciBus>> query_pci(QmpClient& client, Clock::Duration timeout) {
  VF_ASSIGN(value, client.execute("query-pci", nullptr, timeout));
  return parse_query_pci(value.get());
}

std::optional<std::string> first_free_root_port(const std::vector<QmpPciBus>& buses) {
  for (const QmpPciBus& bus : buses) {
    if (const QmpPciDevice* port = find_free_port(bus.devices)) return port->qdev_id;
  }
  return std::nullopt;
}

Result<std::string> find_free_root_port(QmpClient& client, Clock::Duration timeout) {
  VF_ASSIGN(buses, query_pci(client, timeout));
  return free_root_port(buses);
}

Result<std::string> free_root_port(const std::vector<QmpPciBus>& buses) {
  if (auto port = first_free_root_port(buses)) return *port;
  return fail(ErrorKind::not_found,
              "the guest has no free pcie-root-port to hotplug a device into (each one holds a "
              "device, or there is none): give it more while it is off, with "
              "<controller type='pci' model='pcie-root-port'/> in the libvirt domain XML or "
              "-device pcie-root-port,id=rpN,chassis=N,bus=pcie.0 on QEMU's command line");
}

bool is_valid_qom_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxQomIdBytes) return false;
  auto is_letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!is_letter(id.front())) return false;
  for (char c : id) {
    if (!is_letter(c) && !(c >= '0' && c <= '9') && c != '-' && c != '.' && c != '_') {
      return false;
    }
  }
  return true;
}

Status device_add_vfio(QmpClient& client, const PciAddress& host, std::string_view id,
                       std::string_view bus, Clock::Duration timeout) {
  if (!is_valid_qom_id(id)) {
    return fail(ErrorKind::invalid_input,
                "device_add: device id '" + printable(id) +
                    "' is not a QOM id (a letter, then letters, digits, '-', '.', '_')");
  }
  if (!is_valid_qom_id(bus)) {
    return fail(ErrorKind::invalid_input,
                "device_add: bus '" + printable(bus) +
                    "' is not a QOM id (a letter, then letters, digits, '-', '.', '_')");
  }
  const std::string host_text = host.to_string();
  JsonPtr arguments(json_object_new_object());
  json_object* object = arguments.get();
  json_object_object_add(object, "driver", json_object_new_string("vfio-pci"));
  json_object_object_add(object, "host", json_object_new_string(host_text.c_str()));
  json_object_object_add(object, "id",
                         json_object_new_string_len(id.data(), static_cast<int>(id.size())));
  json_object_object_add(object, "bus",
                         json_object_new_string_len(bus.data(), static_cast<int>(bus.size())));
  // Function 0 of the port's only slot; no option ROM (a VF has none worth running).
  json_object_object_add(object, "addr", json_object_new_string("0"));
  json_object_object_add(object, "rombar", json_object_new_int(0));
  auto added = client.execute("device_add", std::move(arguments), timeout);
  if (!added) {
    return fail(added.error().with_context("hotplug of host device " + host_text + " as " +
                                           std::string(id) + " into " + std::string(bus)));
  }
  return ok();
}

Status device_del_and_wait(QmpClient& client, std::string_view id, Clock::Duration timeout) {
  if (!is_valid_qom_id(id)) {
    return fail(ErrorKind::invalid_input,
                "device_del: device id '" + printable(id) + "' is not a QOM id");
  }
  const std::string context = "unplug of device " + std::string(id);
  auto is_this_device = [id](const QmpEvent& event) {
    json_object* device = nullptr;
    // By length: a "\u0000" in the name must not make "vf0\u0000x" pass for "vf0".
    return json_object_object_get_ex(event.data.get(), "device", &device) &&
           json_object_is_type(device, json_type_string) &&
           std::string_view(json_object_get_string(device),
                            static_cast<size_t>(json_object_get_string_len(device))) == id;
  };
  client.discard_events("DEVICE_DELETED", is_this_device);

  Clock& clock = client.clock();
  const Clock::TimePoint deadline = clock.now() + timeout;
  JsonPtr arguments(json_object_new_object());
  json_object_object_add(arguments.get(), "id",
                         json_object_new_string_len(id.data(), static_cast<int>(id.size())));
  auto response = client.execute_raw("device_del", std::move(arguments), timeout);
  if (!response) return fail(response.error().with_context(context));
  if (response->error) {
    if (response->error->error_class == "DeviceNotFound") return ok();  // already gone
    return fail(qmp_error_kind(response->error->error_class),
                context + ": QEMU refused device_del: " + printable(response->error->error_class) +
                    ": " + printable(response->error->desc, 1000));
  }
  // The event may already be queued (QEMU can send it before device_del's reply).
  const Clock::Duration left = std::max(deadline - clock.now(), Clock::Duration::zero());
  auto deleted = client.wait_for_event("DEVICE_DELETED", is_this_device, left);
  if (deleted) return ok();
  if (deleted.error().kind == ErrorKind::timeout) {
    return fail(ErrorKind::timeout,
                "the guest did not release device " + std::string(id) + " within " +
                    format_seconds(timeout) +
                    ": QEMU asked it to (device_del) and no DEVICE_DELETED event came; a guest "
                    "that ignores the request keeps the device, and QEMU never gives up on it");
  }
  return fail(deleted.error().with_context(context));
}

}  // namespace vfhook
