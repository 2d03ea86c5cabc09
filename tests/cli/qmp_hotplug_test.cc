// vfctl attach/detach --qmp on the engine bed, with QEMU played by the scripted QMP server
// (a real unix socket) and the recording process control: what is sent to QEMU, what the VF
// becomes, what is changed for the QEMU process, and that every refusal leaves the VFs as
// they were.
#include "cli/qmp_hotplug.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>

#include "engine/port_allocation.h"
#include "testing/engine_bed.h"
#include "testing/recording_process_control.h"
#include "testing/scripted_qmp_server.h"
#include "vfio/pci_topology.h"

namespace vfhook {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using testing::EngineBed;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using testing::RecordingProcessControl;

constexpr uint64_t kGiB = uint64_t{1} << 30;
// A QEMU running as its own user (as a distribution's qemu user), pid made up: the process
// control is the recording fake.
const QemuProcess kQemu{4242, 107, 108};

// query-pci of a q35 guest: virtio-net behind root port pci.1, a device already named
// ua-vfhook0 behind pci.2, and `free_port` (when set) a root port with nothing behind it.
std::string pci_tree(bool free_port) {
  auto device = [](int bus, int slot, int vendor, int device_id, const std::string& id,
                   std::optional<int> secondary = std::nullopt, std::string children = "") {
    std::string text = "{\"bus\": " + std::to_string(bus) + ", \"slot\": " + std::to_string(slot) +
                       ", \"function\": 0, \"id\": {\"vendor\": " + std::to_string(vendor) +
                       ", \"device\": " + std::to_string(device_id) + "}, \"qdev_id\": \"" + id +
                       "\", \"regions\": []";
    if (secondary)
      text += ", \"pci_bridge\": {\"bus\": {\"number\": " + std::to_string(*secondary) +
              "}, \"devices\": [" + children + "]}";
    return text + "}";
  };
  std::string devices =
      device(0, 0, 0x8086, 0x29c0, "") + ", " +
      device(0, 1, 0x1b36, 0x000c, "pci.1", 1, device(1, 0, 0x1af4, 0x1041, "net0")) + ", " +
      device(0, 2, 0x1b36, 0x000c, "pci.2", 2, device(2, 0, 0x8086, 0x10ca, "ua-vfhook0"));
  if (free_port) devices += ", " + device(0, 3, 0x1b36, 0x000c, "pci.3", 3);
  return "[{\"bus\": 0, \"devices\": [" + devices + "]}]";
}

const char* const kFourGiB = R"({"base-memory": 4294967296, "plugged-memory": 0})";

std::string device_add_arguments(const PciAddress& vf, const std::string& id,
                                 const std::string& bus) {
  return R"({"driver":"vfio-pci","host":")" + vf.to_string() + R"(","id":")" + id + R"(","bus":")" +
         bus + R"(","addr":"0","rombar":0})";
}

std::string qom_get_host(const std::string& id) {
  return R"({"path":"/machine/peripheral/)" + id + R"(","property":"host"})";
}

class QmpHotplugTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Unicast admin MACs on every VF, so a restore has something to put back.
    for (VfState& vf : bed.netlink().pf("enp1s0")->vfs)
      vf.mac = MacAddress{{0x02, 0, 0, 0, 3, static_cast<uint8_t>(vf.index)}};
    before = bed.fingerprint();
    timeouts.command = 5s;
    timeouts.device_add = 5s;
    timeouts.unplug = 2s;
  }

  // Plays `qemu`'s script and connects the client to it.
  void connect(ScriptedQmpServer& qemu) {
    qemu.start();
    auto connected = QmpClient::connect(qemu.socket_path(), clock, 5s);
    ASSERT_TRUE(connected) << connected.error().message;
    client.emplace(std::move(*connected));
  }
  // Closes the client (a script that ends in stall() ends then) and returns the failures.
  std::vector<std::string> finish(ScriptedQmpServer& qemu) {
    client.reset();
    return qemu.finish();
  }

  PortSpec port(uint16_t vlan) {
    PortSpec spec;
    spec.pool = "provider";
    spec.vlan = Vlan{vlan, 0, VlanProtocol::dot1q};
    spec.trust = true;
    return spec;
  }
  // The VF the allocator gives the next port of qvm1.
  PciAddress next_vf() {
    auto chosen = choose_free_vf(VfRequest{"qvm1", "provider", {}, {}}, bed.ctx());
    EXPECT_TRUE(chosen) << chosen.error().message;
    return chosen->vf;
  }
  int vf_index(const PciAddress& vf) {
    for (int i = 0; i < 7; ++i)
      if (bed.vf(i) == vf) return i;
    ADD_FAILURE() << vf.to_string() << " is no VF of the bed";
    return 0;
  }
  Result<QmpAttachment> attach(const PortSpec& spec, const QemuProcess& qemu = kQemu) {
    return attach_port_qmp("qvm1", spec, *client, qemu, process, bed.ctx(), timeouts, left_behind);
  }
  // An attach that works, on a connection of its own: the VF now in the guest as ua-vfhook1.
  PciAddress attached_vf() {
    ScriptedQmpServer qemu;
    const PciAddress vf = next_vf();
    qemu.handshake()
        .expect("query-memory-size-summary")
        .reply(kFourGiB)
        .expect("query-pci")
        .reply(pci_tree(true))
        .expect("device_add")
        .reply();
    connect(qemu);
    auto attached = attach(port(120));
    EXPECT_TRUE(attached) << attached.error().message;
    EXPECT_THAT(finish(qemu), IsEmpty());
    return vf;
  }

  EngineBed bed;
  RecordingProcessControl process;
  SystemClock clock;
  std::optional<QmpClient> client;
  QmpHotplugTimeouts timeouts;
  std::string left_behind;
  std::map<std::string, std::string> before;
};

TEST_F(QmpHotplugTest, AttachAsksQemuThenClaimsBindsSetsAndPlugsTheVfIntoTheFreeRootPort) {
  ScriptedQmpServer qemu;
  const PciAddress vf = next_vf();
  qemu.handshake()
      .expect("query-memory-size-summary")
      .reply(kFourGiB)
      .expect("query-pci")
      .reply(pci_tree(true))
      // ua-vfhook0 is taken in QEMU: the first free alias is ua-vfhook1; pci.3 is free.
      .expect("device_add", device_add_arguments(vf, "ua-vfhook1", "pci.3"))
      .reply();
  ASSERT_NO_FATAL_FAILURE(connect(qemu));
  auto attached = attach(port(120));
  ASSERT_TRUE(attached) << attached.error().message;
  EXPECT_THAT(finish(qemu), IsEmpty());
  ASSERT_EQ(qemu.received().size(), 4u);
  EXPECT_THAT(qemu.received()[1], HasSubstr("\"execute\":\"query-memory-size-summary\""));
  EXPECT_THAT(qemu.received()[2], HasSubstr("\"execute\":\"query-pci\""));
  EXPECT_THAT(qemu.received()[3], HasSubstr("\"execute\":\"device_add\""));

  EXPECT_TRUE(left_behind.empty());
  EXPECT_EQ(attached->alias, "ua-vfhook1");
  EXPECT_EQ(attached->root_port, "pci.3");
  EXPECT_EQ(attached->vf.vf, vf);
  EXPECT_EQ(attached->mac, derived_port_mac("qmp:qvm1", "ua-vfhook1"));
  EXPECT_EQ(attached->guest_ram_bytes, 4 * kGiB);
  ASSERT_EQ(bed.claims().size(), 1u);
  EXPECT_EQ(bed.claims()[0].domain, "qmp:qvm1");
  EXPECT_EQ(bed.claims()[0].vf, vf);
  EXPECT_EQ(bed.driver(vf), "vfio-pci");
  // A plain hostdev: vfhook set MAC and VLAN at prepare, trust at start.
  const VfState& state = bed.netlink().pf("enp1s0")->vfs[vf_index(vf)];
  EXPECT_EQ(state.mac, attached->mac);
  EXPECT_EQ(state.vlan.id, 120);
  EXPECT_EQ(state.trust, true);

  // What libvirt would have done for its QEMU.
  auto group = PciTopology(bed.ctx().sysfs).iommu_group(vf);
  ASSERT_TRUE(group) << group.error().message;
  EXPECT_THAT(process.chowns, ElementsAre(RecordingProcessControl::Chown{
                                  "/dev/vfio/" + std::to_string(*group), 107, 108}));
  EXPECT_THAT(process.raises, ElementsAre(Pair(4242, 5 * kGiB)));
  ASSERT_EQ(attached->host_changes.size(), 2u);
  EXPECT_THAT(attached->host_changes[1], HasSubstr("raised from 64 KiB to 5 GiB"));
}

TEST_F(QmpHotplugTest, AMemlockLimitAlreadyAboveRamPlusOneGibAndARootQemuChangeNothing) {
  process.memlock[4242] = 64 * kGiB;
  ScriptedQmpServer qemu;
  qemu.handshake()
      .expect("query-memory-size-summary")
      .reply(R"({"base-memory": 4294967296, "plugged-memory": 2147483648})")
      .expect("query-pci")
      .reply(pci_tree(true))
      .expect("device_add")
      .reply();
  ASSERT_NO_FATAL_FAILURE(connect(qemu));
  auto attached = attach(port(120), QemuProcess{4242, 0, 0});
  ASSERT_TRUE(attached) << attached.error().message;
  EXPECT_THAT(finish(qemu), IsEmpty());
  EXPECT_EQ(attached->guest_ram_bytes, 6 * kGiB);  // base + plugged
  EXPECT_TRUE(process.raises.empty());
  EXPECT_TRUE(process.chowns.empty());
  EXPECT_TRUE(attached->host_changes.empty());
}

TEST_F(QmpHotplugTest, TheLimitIsRaisedToRamPlusOneGibCountingPluggedMemory) {
  process.memlock[4242] = 6 * kGiB;  // RAM (6 GiB) but not the 1 GiB above it
  ScriptedQmpServer qemu;
  qemu.handshake()
      .expect("query-memory-size-summary")
      .reply(R"({"base-memory": 4294967296, "plugged-memory": 2147483648})")
      .expect("query-pci")
      .reply(pci_tree(true))
      .expect("device_add")
      .reply();
  ASSERT_NO_FATAL_FAILURE(connect(qemu));
  auto attached = attach(port(120));
  ASSERT_TRUE(attached) << attached.error().message;
  EXPECT_THAT(finish(qemu), IsEmpty());
  EXPECT_THAT(process.raises, ElementsAre(Pair(4242, 7 * kGiB)));
}

TEST_F(QmpHotplugTest, ADeviceAddQemuRefusesDropsTheClaimAndRestoresTheVf) {
  ScriptedQmpServer qemu;
  qemu.handshake()
      .expect("query-memory-size-summary")
      .reply(kFourGiB)
      .expect("query-pci")
      .reply(pci_tree(true))
      .expect("device_add")
      .reply_error("GenericError", "vfio 0000:01:10.0: failed to setup container for group 9");
  ASSERT_NO_FATAL_FAILURE(connect(qemu));
  auto attached = attach(port(120));
  ASSERT_FALSE(attached);
  EXPECT_THAT(finish(qemu), IsEmpty());  // and no device_del: QEMU said no
  EXPECT_THAT(attached.error().message, HasSubstr("failed to setup container"));
  EXPECT_THAT(attached.error().message, HasSubstr("every step was undone"));
  EXPECT_THAT(attached.error().message, HasSubstr("kept for QEMU"));
  EXPECT_TRUE(left_behind.empty());
  EXPECT_TRUE(bed.claims().empty());
  EXPECT_EQ(bed.fingerprint(), before);
}

TEST_F(QmpHotplugTest, ADriverRefusalAfterDeviceAddUnplugsAgainAndRestores) {
  bed.netlink().refuse(VfAttribute::trust, EOPNOTSUPP);
  ScriptedQmpServer qemu;
  qemu.handshake()
      .expect("query-memory-size-summary")
      .reply(kFourGiB)
      .expect("query-pci")
      .reply(pci_tree(true))
      .expect("device_add")
      .reply()
      .expect("device_del", R"({"id":"ua-vfhook1"})")
      .reply()
      .event("DEVICE_DELETED",
             R"({"device":"ua-vfhook1","path":"/machine/peripheral/ua-vfhook1"})");
  ASSERT_NO_FATAL_FAILURE(connect(qemu));
  auto attached = attach(port(120));
  ASSERT_FALSE(attached);
  EXPECT_THAT(finish(qemu), IsEmpty());
  EXPECT_THAT(attached.error().message, HasSubstr("trust"));
  EXPECT_THAT(attached.error().message, HasSubstr("every step was undone"));
  EXPECT_TRUE(bed.claims().empty());
  EXPECT_EQ(bed.fingerprint(), before);
}

TEST_F(QmpHotplugTest, NoFreeRootPortIsRefusedBeforeAnythingChangesAndSaysHowToAddOne) {
  ScriptedQmpServer qemu;
  qemu.handshake()
      .expect("query-memory-size-summary")
      .reply(kFourGiB)
      .expect("query-pci")
      .reply(pci_tree(false));
  ASSERT_NO_FATAL_FAILURE(connect(qemu));
  auto attached = attach(port(120));
  ASSERT_FALSE(attached);
  EXPECT_THAT(finish(qemu), IsEmpty());
  EXPECT_EQ(attached.error().kind, ErrorKind::not_found);
  EXPECT_THAT(attached.error().message, HasSubstr("-device pcie-root-port"));
  EXPECT_EQ(qemu.received().size(), 3u);
  EXPECT_TRUE(bed.claims().empty());
  EXPECT_EQ(bed.fingerprint(), before);
  EXPECT_TRUE(process.chowns.empty());
  EXPECT_TRUE(process.raises.empty());
}

TEST_F(QmpHotplugTest, AnAliasQemuAlreadyHasIsRefusedBeforeAnythingChanges) {
  ScriptedQmpServer qemu;
  qemu.handshake()
      .expect("query-memory-size-summary")
      .reply(kFourGiB)
      .expect("query-pci")
      .reply(pci_tree(true));
  ASSERT_NO_FATAL_FAILURE(connect(qemu));
  PortSpec spec = port(120);
  spec.alias = "ua-vfhook0";
  auto attached = attach(spec);
  ASSERT_FALSE(attached);
  EXPECT_THAT(finish(qemu), IsEmpty());
  EXPECT_EQ(attached.error().kind, ErrorKind::conflict);
  EXPECT_THAT(attached.error().message, HasSubstr("another --alias"));
  EXPECT_TRUE(bed.claims().empty());
}

TEST_F(QmpHotplugTest, AGuestRamReplyOfTheWrongShapeIsRefused) {
  ScriptedQmpServer qemu;
  qemu.handshake().expect("query-memory-size-summary").reply(R"({"base-memory": "4G"})");
  ASSERT_NO_FATAL_FAILURE(connect(qemu));
  auto attached = attach(port(120));
  ASSERT_FALSE(attached);
  EXPECT_THAT(finish(qemu), IsEmpty());
  EXPECT_EQ(attached.error().kind, ErrorKind::invalid_input);
  EXPECT_THAT(attached.error().message, HasSubstr("base-memory"));
  EXPECT_TRUE(bed.claims().empty());
}

TEST_F(QmpHotplugTest, AttachOverTheSocketTakesQemusIdentityFromThePeerCredentials) {
  ScriptedQmpServer qemu;
  qemu.handshake()
      .expect("query-memory-size-summary")
      .reply(kFourGiB)
      .expect("query-pci")
      .reply(pci_tree(true))
      .expect("device_add")
      .reply();
  qemu.start();
  auto attached = attach_port_qmp("qvm1", port(120), qemu.socket_path(), process, bed.ctx(),
                                  timeouts, left_behind);
  ASSERT_TRUE(attached) << attached.error().message;
  EXPECT_THAT(qemu.finish(), IsEmpty());
  // The scripted server listens in this process.
  EXPECT_EQ(attached->qemu.pid, ::getpid());
  EXPECT_EQ(attached->qemu.uid, ::getuid());
  EXPECT_THAT(process.raises, ElementsAre(Pair(::getpid(), 5 * kGiB)));
}

TEST_F(QmpHotplugTest, ADomainNameThatIsNotASafeNameIsRefusedBeforeQemuIsAsked) {
  for (const std::string& name :
       std::vector<std::string>{"", "..", "a/b", "web 1", "ünïcode", std::string(65, 'a')}) {
    auto attached = attach_port_qmp(name, port(120), "/nonexistent/qmp.sock", process, bed.ctx(),
                                    timeouts, left_behind);
    ASSERT_FALSE(attached) << name;
    EXPECT_EQ(attached.error().kind, ErrorKind::invalid_input) << name;
    EXPECT_THAT(attached.error().message, HasSubstr("claims are recorded under"));
    auto detached =
        detach_port_qmp(name, "ua-vfhook0", "/nonexistent/qmp.sock", bed.ctx(), timeouts);
    ASSERT_FALSE(detached) << name;
    EXPECT_EQ(detached.error().kind, ErrorKind::invalid_input) << name;
  }
}

TEST_F(QmpHotplugTest, DetachWaitsForDeviceDeletedThenRestoresTheVfAndDropsTheClaim) {
  const PciAddress vf = attached_vf();
  ASSERT_EQ(bed.claims().size(), 1u);
  ScriptedQmpServer qemu;
  qemu.handshake()
      .expect("qom-get", qom_get_host("ua-vfhook1"))
      .reply("\"" + vf.to_string() + "\"")
      .expect("device_del", R"({"id":"ua-vfhook1"})")
      .reply()
      .event("DEVICE_DELETED",
             R"({"device":"ua-vfhook1","path":"/machine/peripheral/ua-vfhook1"})");
  ASSERT_NO_FATAL_FAILURE(connect(qemu));
  auto detached = detach_port_qmp("qvm1", "ua-vfhook1", *client, bed.ctx(), timeouts);
  ASSERT_TRUE(detached) << detached.error().message;
  EXPECT_THAT(finish(qemu), IsEmpty());
  EXPECT_TRUE(detached->released);
  EXPECT_TRUE(detached->left_behind.empty()) << detached->left_behind;
  EXPECT_EQ(detached->vf, vf);
  EXPECT_TRUE(bed.claims().empty());
  EXPECT_EQ(bed.fingerprint(), before);
}

TEST_F(QmpHotplugTest, AGuestThatKeepsTheDeviceKeepsTheClaimAndNothingChanges) {
  const PciAddress vf = attached_vf();
  const auto during = bed.fingerprint();
  timeouts.unplug = 300ms;
  ScriptedQmpServer qemu;
  qemu.handshake()
      .expect("qom-get", qom_get_host("ua-vfhook1"))
      .reply("\"" + vf.to_string() + "\"")
      .expect("device_del", R"({"id":"ua-vfhook1"})")
      .reply()
      .stall();
  ASSERT_NO_FATAL_FAILURE(connect(qemu));
  auto detached = detach_port_qmp("qvm1", "ua-vfhook1", *client, bed.ctx(), timeouts);
  ASSERT_TRUE(detached) << detached.error().message;
  EXPECT_THAT(finish(qemu), IsEmpty());
  EXPECT_FALSE(detached->released);
  EXPECT_THAT(detached->left_behind, HasSubstr("did not release device ua-vfhook1"));
  EXPECT_THAT(detached->left_behind, HasSubstr("Nothing else was changed"));
  ASSERT_EQ(bed.claims().size(), 1u);
  EXPECT_EQ(bed.claims()[0].vf, vf);
  EXPECT_EQ(bed.fingerprint(), during);
}

TEST_F(QmpHotplugTest, DetachOfADeviceWhoseHostIsNotThisDomainsVfIsRefused) {
  const PciAddress vf = attached_vf();
  const auto during = bed.fingerprint();
  const PciAddress other = next_vf();  // free, claimed by nobody
  ASSERT_NE(other, vf);
  for (const std::string& host : {other.to_string(), std::string("0000:01:00.0"),
                                  std::string("/sys/bus/pci/devices/x"), std::string()}) {
    ScriptedQmpServer qemu;
    qemu.handshake().expect("qom-get", qom_get_host("ua-vfhook1")).reply("\"" + host + "\"");
    ASSERT_NO_FATAL_FAILURE(connect(qemu));
    auto detached = detach_port_qmp("qvm1", "ua-vfhook1", *client, bed.ctx(), timeouts);
    ASSERT_FALSE(detached) << host;
    EXPECT_THAT(finish(qemu), IsEmpty()) << host;  // and no device_del
    EXPECT_EQ(detached.error().kind, ErrorKind::policy) << host;
  }
  // Another domain's claim is not this one's either.
  ScriptedQmpServer qemu;
  qemu.handshake().expect("qom-get").reply("\"" + vf.to_string() + "\"");
  ASSERT_NO_FATAL_FAILURE(connect(qemu));
  auto detached = detach_port_qmp("qvm2", "ua-vfhook1", *client, bed.ctx(), timeouts);
  ASSERT_FALSE(detached);
  EXPECT_THAT(finish(qemu), IsEmpty());
  EXPECT_THAT(detached.error().message, HasSubstr("not a VF claimed by domain 'qmp:qvm2'"));
  EXPECT_EQ(bed.claims().size(), 1u);
  EXPECT_EQ(bed.fingerprint(), during);
}

TEST_F(QmpHotplugTest, DetachOfADeviceQemuDoesNotHaveIsNotFound) {
  ScriptedQmpServer qemu;
  qemu.handshake()
      .expect("qom-get", qom_get_host("ua-nope"))
      .reply_error("DeviceNotFound", "Device 'ua-nope' not found");
  ASSERT_NO_FATAL_FAILURE(connect(qemu));
  auto detached = detach_port_qmp("qvm1", "ua-nope", *client, bed.ctx(), timeouts);
  ASSERT_FALSE(detached);
  EXPECT_THAT(finish(qemu), IsEmpty());
  EXPECT_EQ(detached.error().kind, ErrorKind::not_found);
}

}  // namespace
}  // namespace vfhook
