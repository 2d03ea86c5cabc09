#include "qmp/commands.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "testing/fake_clock.h"
#include "testing/memory_qmp_transport.h"
#include "testing/scripted_qmp_server.h"

namespace vfhook {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

#define ASSERT_OK(result) ASSERT_TRUE(result) << (result).error().message

constexpr auto kTimeout = 5s;

// A query-pci device: bus/slot/function, vendor:device, qdev_id, and for a bridge the bus
// behind it and its devices (nullopt: a bridge QEMU shows without "devices", as it shows an
// empty one).
std::string device(int bus, int slot, int function, int vendor, int device_id,
                   const std::string& qdev_id, std::optional<int> secondary = std::nullopt,
                   std::optional<std::string> children = std::nullopt) {
  std::string text = "{\"bus\": " + std::to_string(bus) + ", \"slot\": " + std::to_string(slot) +
                     ", \"function\": " + std::to_string(function) +
                     ", \"class_info\": {\"class\": 1540, \"desc\": \"PCI bridge\"}"
                     ", \"id\": {\"vendor\": " +
                     std::to_string(vendor) + ", \"device\": " + std::to_string(device_id) +
                     ", \"subsystem\": 0, \"subsystem-vendor\": 0}, \"irq_pin\": 1"
                     ", \"qdev_id\": \"" +
                     qdev_id + "\", \"regions\": []";
  if (secondary) {
    text += ", \"pci_bridge\": {\"bus\": {\"number\": " + std::to_string(*secondary) +
            ", \"secondary\": " + std::to_string(*secondary) +
            ", \"subordinate\": " + std::to_string(*secondary) +
            ", \"io_range\": {\"base\": 0, \"limit\": 0}}";
    if (children) text += ", \"devices\": [" + *children + "]";
    text += "}";
  }
  return text + "}";
}

constexpr int kRedHat = 0x1b36;
constexpr int kRootPort = 0x000c;
constexpr int kPciePciBridge = 0x000e;
constexpr int kTiSwitchUp = 0x8232;
constexpr int kTiSwitchDown = 0x8233;
constexpr int kTi = 0x104c;
constexpr int kVirtio = 0x1af4;
constexpr int kVirtioNet = 0x1041;
constexpr int kIntel = 0x8086;

// A q35 guest: an occupied root port, a root port whose switch leads to an occupied port,
// a pcie-pci-bridge with nothing behind it (not a root port), a free port without an id,
// then (when `with_nested_free`) a port whose switch leads to a free root port, and last a
// free root port "pci.6".
std::string q35_tree(bool with_nested_free, bool with_last_free = true) {
  std::string devices =
      device(0, 0, 0, kIntel, 0x29c0, "") + ", " +
      device(0, 1, 0, kRedHat, kRootPort, "pci.1", 1,
             device(1, 0, 0, kVirtio, kVirtioNet, "net0")) +
      ", " +
      device(0, 1, 1, kRedHat, kRootPort, "pci.2", 2,
             device(2, 0, 0, kTi, kTiSwitchUp, "sw0", 3,
                    device(3, 0, 0, kTi, kTiSwitchDown, "sw0-down0", 4,
                           device(4, 0, 0, kRedHat, kRootPort, "deep-busy", 5,
                                  device(5, 0, 0, kVirtio, kVirtioNet, "net1"))))) +
      ", " + device(0, 1, 2, kRedHat, kPciePciBridge, "pci.3", 6) + ", " +
      device(0, 1, 3, kRedHat, kRootPort, "", 7);
  if (with_nested_free) {
    devices +=
        ", " + device(0, 1, 4, kRedHat, kRootPort, "pci.4", 8,
                      device(8, 0, 0, kTi, kTiSwitchUp, "sw1", 9,
                             device(9, 0, 0, kTi, kTiSwitchDown, "sw1-down0", 10,
                                    device(10, 0, 0, kRedHat, kRootPort, "deep-free", 11, ""))));
  }
  if (with_last_free) devices += ", " + device(0, 1, 5, kRedHat, kRootPort, "pci.6", 12);
  return "[{\"bus\": 0, \"devices\": [" + devices + "]}]";
}

Result<std::vector<QmpPciBus>> parse(const std::string& text) {
  // Deeper than json_tokener_parse's default of 32, for the nesting test.
  std::unique_ptr<json_tokener, void (*)(json_tokener*)> tokener(json_tokener_new_ex(200),
                                                                 json_tokener_free);
  JsonPtr value(json_tokener_parse_ex(tokener.get(), text.c_str(), static_cast<int>(text.size())));
  if (!value) return fail(ErrorKind::internal, "test JSON does not parse: " + text);
  return parse_query_pci(value.get());
}

TEST(QueryPciTest, ParsesTheTreeWithNestedBridges) {
  auto buses = parse(q35_tree(true));
  ASSERT_OK(buses);
  ASSERT_EQ(buses->size(), 1u);
  const auto& devices = (*buses)[0].devices;
  ASSERT_EQ(devices.size(), 7u);
  EXPECT_FALSE(devices[0].is_bridge);
  EXPECT_EQ(devices[0].vendor_id, kIntel);
  EXPECT_TRUE(devices[1].is_pcie_root_port());
  EXPECT_EQ(devices[1].qdev_id, "pci.1");
  EXPECT_EQ(devices[1].secondary_bus, 1);
  ASSERT_EQ(devices[1].children.size(), 1u);
  EXPECT_EQ(devices[1].children[0].qdev_id, "net0");
  EXPECT_EQ(devices[1].children[0].bus, 1);
  const QmpPciDevice& deep = devices[2].children[0].children[0].children[0];
  EXPECT_EQ(deep.qdev_id, "deep-busy");
  EXPECT_TRUE(deep.is_pcie_root_port());
  EXPECT_EQ(deep.bus, 4);
  EXPECT_TRUE(devices[3].is_bridge);
  EXPECT_FALSE(devices[3].is_pcie_root_port());  // a pcie-pci-bridge
  EXPECT_EQ(devices[4].slot, 1);
  EXPECT_EQ(devices[4].function, 3);
}

TEST(QueryPciTest, TheFirstFreeRootPortMayBeBehindBridges) {
  auto buses = parse(q35_tree(true));
  ASSERT_OK(buses);
  // Skips the occupied ports, the pcie-pci-bridge and the port without an id.
  EXPECT_EQ(first_free_root_port(*buses), "deep-free");
}

TEST(QueryPciTest, AnEmptyDevicesListAndNoDevicesListBothMeanFree) {
  auto absent = parse(q35_tree(false));
  ASSERT_OK(absent);
  EXPECT_EQ(first_free_root_port(*absent), "pci.6");
  auto empty = parse("[{\"bus\": 0, \"devices\": [" +
                     device(0, 2, 0, kRedHat, kRootPort, "pci.9", 1, "") + "]}]");
  ASSERT_OK(empty);
  EXPECT_EQ(first_free_root_port(*empty), "pci.9");
}

TEST(QueryPciTest, NoFreeRootPortIsNullopt) {
  auto buses = parse(q35_tree(false, false));
  ASSERT_OK(buses);
  EXPECT_EQ(first_free_root_port(*buses), std::nullopt);
}

void expect_refused(const std::string& text, const std::string& why) {
  auto buses = parse(text);
  ASSERT_FALSE(buses) << text;
  EXPECT_EQ(buses.error().kind, ErrorKind::invalid_input);
  EXPECT_THAT(buses.error().message, HasSubstr(why));
}

TEST(QueryPciTest, RefusesFieldsOfTheWrongTypeOrRange) {
  expect_refused("{\"bus\": 0}", "query-pci: return: expected an array, got an object");
  expect_refused("[7]", "return[0]: expected an object, got an integer");
  expect_refused("[{\"bus\": 0}]", "return[0]: no member 'devices'");
  expect_refused("[{\"bus\": 0, \"devices\": {}}]", "return[0].devices: expected an array");
  std::string vendor_as_text = device(0, 1, 0, kRedHat, kRootPort, "pci.1");
  vendor_as_text.replace(vendor_as_text.find("\"vendor\": 6966"), 14, "\"vendor\": \"6966\"");
  expect_refused("[{\"bus\": 0, \"devices\": [" + vendor_as_text + "]}]",
                 "return[0].devices[0].id.vendor: expected an integer, got a string");
  expect_refused("[{\"bus\": 0, \"devices\": [" + device(0, 40, 0, kIntel, 1, "x") + "]}]",
                 "return[0].devices[0].slot: 40 is outside 0..31");
  expect_refused("[{\"bus\": 0, \"devices\": [" + device(0, 1, 0, 0x10000, 1, "x") + "]}]",
                 "id.vendor: 65536 is outside 0..65535");
  std::string qdev_id_null = device(0, 1, 0, kIntel, 1, "x");
  qdev_id_null.replace(qdev_id_null.find("\"qdev_id\": \"x\""), 14, "\"qdev_id\": null");
  expect_refused("[{\"bus\": 0, \"devices\": [" + qdev_id_null + "]}]",
                 "devices[0].qdev_id: expected a string, got null");
  expect_refused("[{\"bus\": 0, \"devices\": [" +
                     device(0, 1, 0, kRedHat, kRootPort, "pci.1", 1, "\"not a device\"") + "]}]",
                 "return[0].devices[0].pci_bridge.devices[0]: expected an object, got a string");
  expect_refused("[{\"bus\": 0, \"devices\": [{\"bus\": 0, \"slot\": 1.5}]}]",
                 "slot: expected an integer, got a number with a fraction");
  expect_refused("[{\"bus\": 99999999999999999999, \"devices\": []}]", "return[0].bus");
}

TEST(QueryPciTest, RefusesBridgesNestedDeeperThanTheBound) {
  std::string nested = device(20, 0, 0, kIntel, 1, "leaf");
  for (int level = kMaxPciBridgeDepth; level >= 0; --level) {
    nested =
        device(level, 0, 0, kTi, kTiSwitchDown, "d" + std::to_string(level), level + 1, nested);
  }
  expect_refused("[{\"bus\": 0, \"devices\": [" + nested + "]}]", "nested deeper than 16");
}

// The typed commands over the scripted server.
class QmpCommandsTest : public ::testing::Test {
 protected:
  void start_and_connect() {
    qemu_.start();
    auto client = QmpClient::connect(qemu_.socket_path(), clock_, kTimeout);
    ASSERT_OK(client);
    client_.emplace(std::move(*client));
  }
  std::vector<std::string> close_and_finish() {
    client_.reset();
    return qemu_.finish();
  }

  SystemClock clock_;
  ScriptedQmpServer qemu_;
  std::optional<QmpClient> client_;
};

TEST_F(QmpCommandsTest, FindFreeRootPortAsksQueryPci) {
  qemu_.handshake().expect("query-pci").reply(q35_tree(true));
  ASSERT_NO_FATAL_FAILURE(start_and_connect());
  auto port = find_free_root_port(*client_, kTimeout);
  ASSERT_OK(port);
  EXPECT_EQ(*port, "deep-free");
  EXPECT_THAT(close_and_finish(), IsEmpty());
}

TEST_F(QmpCommandsTest, NoFreeRootPortIsNotFoundAndSaysHowToAddOne) {
  qemu_.handshake().expect("query-pci").reply(q35_tree(false, false));
  ASSERT_NO_FATAL_FAILURE(start_and_connect());
  auto port = find_free_root_port(*client_, kTimeout);
  ASSERT_FALSE(port);
  EXPECT_EQ(port.error().kind, ErrorKind::not_found);
  EXPECT_THAT(port.error().message, HasSubstr("the guest has no free pcie-root-port"));
  EXPECT_THAT(port.error().message, HasSubstr("<controller type='pci' model='pcie-root-port'/>"));
  EXPECT_THAT(port.error().message, HasSubstr("-device pcie-root-port,id="));
  EXPECT_THAT(close_and_finish(), IsEmpty());
}

TEST_F(QmpCommandsTest, QueryPciReturningTheWrongTypeIsInvalidInput) {
  qemu_.handshake().expect("query-pci").reply("\"a string\"");
  ASSERT_NO_FATAL_FAILURE(start_and_connect());
  auto buses = query_pci(*client_, kTimeout);
  ASSERT_FALSE(buses);
  EXPECT_EQ(buses.error().kind, ErrorKind::invalid_input);
  EXPECT_THAT(buses.error().message, HasSubstr("expected an array, got a string"));
  EXPECT_THAT(close_and_finish(), IsEmpty());
}

TEST_F(QmpCommandsTest, DeviceAddSendsExactlyTheVfioArguments) {
  qemu_.handshake()
      .expect("device_add",
              R"({"driver":"vfio-pci","host":"0000:03:10.1","id":"vf0","bus":"pci.6",
                  "addr":"0","rombar":0})")
      .reply();
  ASSERT_NO_FATAL_FAILURE(start_and_connect());
  ASSERT_OK(device_add_vfio(*client_, PciAddress{0, 3, 0x10, 1}, "vf0", "pci.6", kTimeout));
  EXPECT_THAT(close_and_finish(), IsEmpty());
  ASSERT_EQ(qemu_.received().size(), 2u);
  EXPECT_EQ(qemu_.received()[1],
            R"({"execute":"device_add","arguments":{"driver":"vfio-pci","host":"0000:03:10.1",)"
            R"("id":"vf0","bus":"pci.6","addr":"0","rombar":0},"id":2})");
}

TEST_F(QmpCommandsTest, DeviceAddRefusesIdsQemuWouldNotAcceptAndSendsNothing) {
  qemu_.handshake();
  ASSERT_NO_FATAL_FAILURE(start_and_connect());
  for (std::string_view bad : {"", "0vf", "vf 0", "vf\"0", "vf/0", "pci.1\n"}) {
    auto added = device_add_vfio(*client_, PciAddress{0, 3, 0x10, 1}, bad, "pci.6", kTimeout);
    ASSERT_FALSE(added) << bad;
    EXPECT_EQ(added.error().kind, ErrorKind::invalid_input);
    auto bad_bus = device_add_vfio(*client_, PciAddress{0, 3, 0x10, 1}, "vf0", bad, kTimeout);
    ASSERT_FALSE(bad_bus) << bad;
    EXPECT_EQ(bad_bus.error().kind, ErrorKind::invalid_input);
  }
  EXPECT_TRUE(is_valid_qom_id("ua-vf_0.1"));
  EXPECT_FALSE(is_valid_qom_id(std::string(129, 'a')));
  EXPECT_THAT(close_and_finish(), IsEmpty());  // no command after the handshake
}

TEST_F(QmpCommandsTest, DeviceAddErrorNamesTheHostDeviceAndQemusReason) {
  qemu_.handshake()
      .expect("device_add")
      .reply_error("GenericError",
                   "vfio 0000:03:10.1: failed to open /dev/vfio/12: Device or resource busy");
  ASSERT_NO_FATAL_FAILURE(start_and_connect());
  auto added = device_add_vfio(*client_, PciAddress{0, 3, 0x10, 1}, "vf0", "pci.6", kTimeout);
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().kind, ErrorKind::conflict);
  EXPECT_THAT(added.error().message,
              HasSubstr("hotplug of host device 0000:03:10.1 as vf0 into pci.6"));
  EXPECT_THAT(added.error().message, HasSubstr("GenericError: vfio 0000:03:10.1: failed to open"));
  EXPECT_THAT(close_and_finish(), IsEmpty());
}

TEST_F(QmpCommandsTest, DeviceDelThenDeviceDeletedSucceeds) {
  qemu_.handshake()
      .expect("device_del", R"({"id":"vf0"})")
      .reply()
      .event("DEVICE_DELETED", R"({"path":"/machine/peripheral/vf0/virtio-backend"})")
      .event("DEVICE_DELETED", R"({"device":"vf1","path":"/machine/peripheral/vf1"})")
      .event("DEVICE_DELETED", R"({"device":"vf0","path":"/machine/peripheral/vf0"})");
  ASSERT_NO_FATAL_FAILURE(start_and_connect());
  ASSERT_OK(device_del_and_wait(*client_, "vf0", kTimeout));
  EXPECT_EQ(client_->queued_events(), 2u);  // the other two
  EXPECT_THAT(close_and_finish(), IsEmpty());
}

TEST_F(QmpCommandsTest, DeviceDeletedBeforeTheReplyCountsToo) {
  qemu_.handshake()
      .expect("device_del", R"({"id":"vf0"})")
      .event("DEVICE_DELETED", R"({"device":"vf0","path":"/machine/peripheral/vf0"})")
      .reply();
  ASSERT_NO_FATAL_FAILURE(start_and_connect());
  ASSERT_OK(device_del_and_wait(*client_, "vf0", kTimeout));
  EXPECT_THAT(close_and_finish(), IsEmpty());
}

TEST_F(QmpCommandsTest, AGuestThatKeepsTheDeviceIsATimeoutNamingIt) {
  qemu_.handshake()
      .expect("device_del", R"({"id":"vf0"})")
      .reply()
      .event("DEVICE_DELETED", R"({"device":"vf1","path":"/machine/peripheral/vf1"})")
      .event("DEVICE_DELETED", R"({"device":"vf0\u0000x","path":"/machine/peripheral/x"})")
      .event("DEVICE_DELETED", R"({"device":7,"path":"/machine/peripheral/vf0"})")
      .stall();
  ASSERT_NO_FATAL_FAILURE(start_and_connect());
  auto deleted = device_del_and_wait(*client_, "vf0", 300ms);
  ASSERT_FALSE(deleted);
  EXPECT_EQ(deleted.error().kind, ErrorKind::timeout);
  EXPECT_THAT(deleted.error().message,
              HasSubstr("the guest did not release device vf0 within 0.3 s"));
  EXPECT_THAT(close_and_finish(), IsEmpty());
}

TEST_F(QmpCommandsTest, DeviceDelOfAnUnknownIdIsAlreadyGone) {
  qemu_.handshake()
      .expect("device_del", R"({"id":"vf0"})")
      .reply_error("DeviceNotFound", "Device 'vf0' not found");
  ASSERT_NO_FATAL_FAILURE(start_and_connect());
  ASSERT_OK(device_del_and_wait(*client_, "vf0", kTimeout));
  EXPECT_THAT(close_and_finish(), IsEmpty());
}

TEST_F(QmpCommandsTest, DeviceDelRefusedOtherwiseIsAnError) {
  qemu_.handshake()
      .expect("device_del", R"({"id":"vf0"})")
      .reply_error("GenericError", "Bus 'pcie.0' does not support hotplugging");
  ASSERT_NO_FATAL_FAILURE(start_and_connect());
  auto deleted = device_del_and_wait(*client_, "vf0", kTimeout);
  ASSERT_FALSE(deleted);
  EXPECT_EQ(deleted.error().kind, ErrorKind::conflict);
  EXPECT_THAT(deleted.error().message,
              HasSubstr("unplug of device vf0: QEMU refused device_del: GenericError: Bus"));
  EXPECT_THAT(close_and_finish(), IsEmpty());
}

TEST_F(QmpCommandsTest, QemuClosingWhileTheGuestReleasesIsReported) {
  qemu_.handshake().expect("device_del").reply().close();
  ASSERT_NO_FATAL_FAILURE(start_and_connect());
  auto deleted = device_del_and_wait(*client_, "vf0", kTimeout);
  ASSERT_FALSE(deleted);
  EXPECT_EQ(deleted.error().kind, ErrorKind::os);
  EXPECT_THAT(deleted.error().message, HasSubstr("unplug of device vf0"));
  EXPECT_THAT(deleted.error().message, HasSubstr("QEMU closed the QMP connection"));
  EXPECT_THAT(close_and_finish(), IsEmpty());
}

TEST(QmpCommandsFakeClockTest, DeviceDelWaitsTheWholeTimeoutThenNamesTheDevice) {
  FakeClock clock;
  auto transport = std::make_unique<MemoryQmpTransport>(clock);
  MemoryQmpTransport* stream = transport.get();
  stream->add_input(
      "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 0, \"major\": 10}, "
      "\"package\": \"\"}, \"capabilities\": []}}\r\n{\"return\": {}, \"id\": 1}\r\n");
  auto client = QmpClient::start(std::move(transport), "vm-1.qmp", clock, 5s);
  ASSERT_OK(client);
  // A stale event from an earlier unplug of the same id, queued during another command,
  // must not count.
  stream->add_input(
      "{\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": \"vf0\", \"path\": \"/x\"}}\r\n"
      "{\"return\": {}, \"id\": 2}\r\n");
  ASSERT_OK(client->execute("query-name", nullptr, 1s));
  EXPECT_EQ(client->queued_events(), 1u);
  stream->add_input("{\"return\": {}, \"id\": 3}\r\n");
  auto deleted = device_del_and_wait(*client, "vf0", 60s);
  ASSERT_FALSE(deleted);
  EXPECT_EQ(deleted.error().kind, ErrorKind::timeout);
  EXPECT_THAT(deleted.error().message,
              HasSubstr("the guest did not release device vf0 within 60 s"));
  EXPECT_EQ(clock.slept(), 60s);
}

}  // namespace
}  // namespace vfhook
