// Typed QMP commands for VF hotplug: the guest's PCI tree (query-pci), a free
// pcie-root-port, device_add of a vfio-pci device and device_del until the guest lets go.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/pci_address.h"
#include "qmp/client.h"
#include "util/clock.h"
#include "util/result.h"

namespace vfhook {

// One PCI function as query-pci shows it. Addresses are the guest's, not the host's.
struct QmpPciDevice {
  int bus = 0;
  int slot = 0;
  int function = 0;
  uint16_t vendor_id = 0;
  uint16_t device_id = 0;
  std::string qdev_id;  // the device's QOM id ("" when it has none)
  bool is_bridge = false;
  int secondary_bus = -1;              // the bus behind a bridge, -1 for other devices
  std::vector<QmpPciDevice> children;  // the devices behind a bridge

  // QEMU's pcie-root-port: vendor 0x1b36 (Red Hat), device 0x000c.
  [[nodiscard]] bool is_pcie_root_port() const;
};

struct QmpPciBus {
  int number = 0;
  std::vector<QmpPciDevice> devices;
};

// Bridges nested deeper than this are refused (a real guest has a handful of levels).
constexpr int kMaxPciBridgeDepth = 16;

// Parses query-pci's "return" value: a list of buses, each with "devices"; a bridge's
// "pci_bridge" holds its own bus and "devices" (absent when none). Every field read is
// type- and range-checked; invalid_input names the field ("return[0].devices[2].slot").
Result<std::vector<QmpPciBus>> parse_query_pci(json_object* value);
Result<std::vector<QmpPciBus>> query_pci(QmpClient& client, Clock::Duration timeout);

// The QOM id of the first pcie-root-port (in query-pci's order) with no device behind it
// and an id to name it by; nullopt when there is none.
std::optional<std::string> first_free_root_port(const std::vector<QmpPciBus>& buses);
// As above, and not_found when the guest has no free pcie-root-port, saying how to give it
// one (ports cannot be hotplugged: they are added while the guest is off).
Result<std::string> free_root_port(const std::vector<QmpPciBus>& buses);
// As above, asking QEMU (query-pci).
Result<std::string> find_free_root_port(QmpClient& client, Clock::Duration timeout);

// A QOM id QEMU accepts for -device id=...: a letter, then letters, digits, '-', '.', '_'
// (at most 128 bytes here).
bool is_valid_qom_id(std::string_view id);

// Hotplugs the host's PCI function `host` into the guest as a vfio-pci device named `id`
// behind the root port `bus`:
//   device_add {"driver":"vfio-pci","host":"DDDD:BB:DD.F","id":ID,"bus":BUS,"addr":"0",
//               "rombar":0}
// The bus is never left to QEMU (it may pick pcie.0, which cannot take a hotplugged device).
// invalid_input for an id or bus that is not a valid QOM id (nothing is sent).
Status device_add_vfio(QmpClient& client, const PciAddress& host, std::string_view id,
                       std::string_view bus, Clock::Duration timeout);

// Asks QEMU to unplug device `id` and waits, within `timeout` in all, for the
// DEVICE_DELETED event that says the guest let it go. DeviceNotFound (no such device) counts
// as already gone. device_del only asks: a guest that ignores the request keeps the device,
// QEMU sends no event and has no unplug timeout, so that is a timeout error ("the guest did
// not release device ID within N s"), never success. Stale DEVICE_DELETED events for `id`
// queued before the request are dropped first.
Status device_del_and_wait(QmpClient& client, std::string_view id, Clock::Duration timeout);

}  // namespace vfhook
